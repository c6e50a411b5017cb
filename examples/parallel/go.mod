module example/parallel

go 1.26
