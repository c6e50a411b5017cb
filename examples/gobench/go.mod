module example/gobench

go 1.26
