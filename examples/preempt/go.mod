module example/preempt

go 1.26
