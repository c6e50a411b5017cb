module example/nethttp

go 1.26
