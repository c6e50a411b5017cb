module example/goroutines

go 1.26
