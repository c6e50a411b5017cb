// Command pvhnote makes a Go-linked higher-half kernel ELF bootable by QEMU's
// PVH "-kernel" path: it adds a Xen PHYS32_ENTRY note for the entry symbol and
// rewrites segment physical addresses. See package yolk/boot/pvhnote.
//
// Usage:
//
//	go run ./scripts/pvhnote -entry yolk/boot.pvhEntry -virt-base 0xffffffff80000000 [-trim SYM,...] IN OUT
//
// -trim ends the image's segments before the named bss symbols, which
// must come last (pvhnote.TrimTail): buffers the kernel never touches.
//
// IN and OUT may be the same path; OUT is replaced atomically (temp file +
// rename) with mode 0755.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"yolk/boot/pvhnote"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "pvhnote: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("pvhnote", flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	entry := fs.String("entry", "yolk/boot.pvhEntry", "entry symbol name (\".abi0\" is tried automatically)")
	base := fs.String("virt-base", "0xffffffff80000000", "virtual address corresponding to physical 0")
	trim := fs.String("trim", "", "comma-separated bss symbols to end the image before (each must be last in its segment)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: pvhnote [-entry SYM] [-virt-base ADDR] [-trim SYM,...] IN OUT")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			os.Exit(0)
		}
		return fmt.Errorf("bad arguments: %v", err)
	}
	if fs.NArg() != 2 {
		return fmt.Errorf("need exactly two arguments IN OUT, got %d", fs.NArg())
	}
	virtBase, err := strconv.ParseUint(*base, 0, 64)
	if err != nil {
		return fmt.Errorf("bad -virt-base %q: %v", *base, err)
	}
	inPath, outPath := fs.Arg(0), fs.Arg(1)

	in, err := os.ReadFile(inPath)
	if err != nil {
		return err
	}
	out, entryPhys, err := pvhnote.Patch(in, *entry, virtBase)
	if err != nil {
		// Patch errors already carry a "pvhnote: " prefix.
		return fmt.Errorf("%s: %s", inPath, strings.TrimPrefix(err.Error(), "pvhnote: "))
	}
	var trimmed uint64
	if *trim != "" {
		if out, trimmed, err = pvhnote.TrimTail(out, strings.Split(*trim, ",")); err != nil {
			return fmt.Errorf("%s: %s", inPath, strings.TrimPrefix(err.Error(), "pvhnote: "))
		}
	}
	if err := writeFileAtomic(outPath, out, 0o755); err != nil {
		return err
	}
	fmt.Printf("pvhnote: %s entry %#x", outPath, entryPhys)
	if trimmed > 0 {
		fmt.Printf(", %d KiB of bss left out", trimmed>>10)
	}
	fmt.Println()
	return nil
}

// writeFileAtomic writes data to a temporary file next to path and renames it
// over path, so a failure never leaves a half-written OUT (or IN, when they
// are the same file).
func writeFileAtomic(path string, data []byte, perm os.FileMode) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".pvhnote-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return err
	}
	if err = tmp.Chmod(perm); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
