package main

import (
	"bytes"
	"fmt"
	"path"
	"strings"

	"github.com/u-root/u-root/pkg/cpio"

	"yolk/initrd"
	"yolk/kernel"
	"yolk/syscallshim"
)

// runProgram starts the program from the initrd and returns its exit
// status (or 126/127 when it cannot start).
func runProgram(opts kernel.Options) int {
	img := kernel.Initrd()
	if img == nil {
		fmt.Println("yolk: no program to run (boot with -initrd PROGRAM, or -append selftest)")
		return syscallshim.ExitNotFound
	}
	prog := opts.Init
	var root *initrd.FS
	var err error
	switch initrd.Detect(img) {
	case initrd.RawELF:
		// The program alone: it appears as the only file of a root
		// directory, at init=PATH or /init.
		if prog == "" {
			prog = "/init"
		}
		root, err = singleFile(prog, img)
	case initrd.Cpio:
		if prog == "" {
			prog = "/init"
		}
		root, err = initrd.Parse(img)
	default:
		fmt.Println("yolk: the initrd is neither an ELF program nor a newc cpio archive")
		return syscallshim.ExitCannotExecute
	}
	if err != nil {
		fmt.Printf("yolk: bad initrd: %v\n", err)
		return syscallshim.ExitCannotExecute
	}
	node, err := root.Lookup(prog, true)
	if err != nil {
		fmt.Printf("yolk: %s: %v\n", prog, err)
		return syscallshim.ExitNotFound
	}
	if !node.IsRegular() {
		fmt.Printf("yolk: %s: not a regular file\n", prog)
		return syscallshim.ExitCannotExecute
	}
	env := opts.Env
	if !hasVar(env, "HOME") {
		env = append(env, "HOME=/")
	}
	if !hasVar(env, "TERM") {
		env = append(env, "TERM=linux")
	}
	p, err := syscallshim.Start(syscallshim.Config{
		Machine:    kernel.Machine{},
		Root:       root,
		Path:       prog,
		Argv:       append([]string{prog}, opts.Args...),
		Envp:       env,
		Strace:     opts.Strace,
		Debug:      opts.Debug,
		MemInfo:    kernel.MemInfo,
		MaxThreads: kernel.MaxProgramThreads,
	}, node.Data)
	if err != nil {
		fmt.Println(err)
		if se, ok := err.(*syscallshim.StartError); ok {
			return se.Status
		}
		return syscallshim.ExitCannotExecute
	}
	return p.Wait()
}

func hasVar(env []string, name string) bool {
	for _, e := range env {
		if len(e) > len(name) && e[:len(name)] == name && e[len(name)] == '=' {
			return true
		}
	}
	return false
}

// singleFile makes a root file system holding only the program.
func singleFile(p string, data []byte) (*initrd.FS, error) {
	var buf bytes.Buffer
	w := cpio.Newc.Writer(&buf)
	recs := []cpio.Record{cpio.StaticFile(strings.TrimPrefix(path.Clean("/"+p), "/"), string(data), 0o755)}
	if err := cpio.WriteRecordsAndDirs(w, recs); err != nil {
		return nil, err
	}
	if err := cpio.WriteTrailer(w); err != nil {
		return nil, err
	}
	return initrd.Parse(buf.Bytes())
}
