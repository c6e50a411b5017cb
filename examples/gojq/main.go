// Command gojq is itchyny/gojq's jq, built from its cli package at the
// version go.mod pins, for make bench's held-out-class programs (a pure Go
// program with an interpreter loop and heavy allocation).
package main

import (
	"os"

	"github.com/itchyny/gojq/cli"
)

func main() { os.Exit(cli.Run()) }
