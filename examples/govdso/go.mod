module example/govdso

go 1.26
