// Command kernel is yolk's kernel image: the boot package's PVH entry
// brings up the machine and starts the Go runtime, whose main runs here.
package main

import (
	"fmt"
	"os"

	"yolk/boot"
	"yolk/kernel"
)

func main() {
	kernel.MarkMain()
	fmt.Printf("yolk: hello from Go, entry %#x\n", boot.EntryPC())
	os.Exit(0)
}
