// preempt: with GOMAXPROCS=1, a goroutine spins in a loop without function
// calls while main sleeps 20 ms and then prints. main only runs again if
// the runtime preempts the spinning goroutine asynchronously, which sysmon
// does by sending the thread SIGURG (tgkill) and running a signal handler.
// Tests signal delivery to a program's handler; without it the program
// hangs (Linux prints the line at once).
package main

import (
	"fmt"
	"runtime"
	"time"
)

var spins uint64

func main() {
	runtime.GOMAXPROCS(1)
	go func() {
		for {
			spins++
		}
	}()
	time.Sleep(20 * time.Millisecond)
	fmt.Println("preempt: main ran while a goroutine spun")
}
