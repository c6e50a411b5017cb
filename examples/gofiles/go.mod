module example/gofiles

go 1.26
