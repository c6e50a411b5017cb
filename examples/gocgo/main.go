// gocgo is a Go program built with cgo, dynamically linked against glibc
// (the Go linker's default with CGO_ENABLED=1): it calls C code, looks a
// user up through glibc's getpwuid_r (os/user's cgo implementation) and
// reads the clock through the vDSO.
package main

/*
static int times6(int x) { return x * 6; }
*/
import "C"

import (
	"fmt"
	"os"
	"os/user"
	"time"
)

func main() {
	u, err := user.LookupId("0")
	if err != nil {
		fmt.Println("gocgo: user.LookupId(0):", err)
		os.Exit(1)
	}
	t0 := time.Now()
	for i := 0; i < 1000; i++ {
		time.Now()
	}
	if d := time.Since(t0); d <= 0 || d > time.Minute {
		fmt.Println("gocgo: 1000 time.Now calls took", d)
		os.Exit(1)
	}
	fmt.Printf("gocgo: C says %d; uid 0 is %s, home %s\n", C.times6(7), u.Username, u.HomeDir)
}
