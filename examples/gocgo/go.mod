module example/gocgo

go 1.26
