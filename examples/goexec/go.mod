module example/goexec

go 1.26
