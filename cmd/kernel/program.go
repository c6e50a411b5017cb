package main

import (
	"fmt"
	"time"

	"golang.org/x/sys/unix"

	"yolk/initrd"
	"yolk/kernel"
	"yolk/strace"
	"yolk/syscallshim"
	"yolk/vfs"
	"yolk/vfs/p9fs"
)

// runProgram starts the program from the initrd and returns its exit
// status (or 126/127 when it cannot start).
func runProgram(opts kernel.Options) int {
	img := kernel.Initrd()
	if opts.RootShare != "" {
		return runFromShare(opts)
	}
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
		root, err = initrd.Single(prog, img, 0o755)
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
	return start(opts, root, nil, prog, node.Data)
}

// runFromShare runs init= from a host directory as the root (qemu/run -R):
// the share read-only, under an in-memory writable layer.
func runFromShare(opts kernel.Options) int {
	fs, err := attachShare(opts.RootShare)
	if err != nil {
		fmt.Printf("yolk: root share %s: %v\n", opts.RootShare, err)
		return syscallshim.ExitNotFound
	}
	prog := opts.Init
	if prog == "" {
		prog = "/init"
	}
	return start(opts, nil, fs, prog, nil)
}

// start runs the first program with the root (a cpio tree, or a
// filesystem) and returns its status.
func start(opts kernel.Options, root *initrd.FS, rootFS vfs.Filesystem, prog string, file []byte) int {
	env := opts.Env
	if !hasVar(env, "HOME") {
		env = append(env, "HOME=/")
	}
	if !hasVar(env, "TERM") {
		env = append(env, "TERM=linux")
	}
	mounts, err := shareMounts(opts)
	if err != nil {
		fmt.Println(err)
		return syscallshim.ExitCannotExecute
	}
	var trace strace.Options
	if opts.StraceOpt != "" {
		if trace, err = strace.Parse(opts.StraceOpt); err != nil {
			fmt.Printf("yolk: %v\n", err)
			return syscallshim.ExitCannotExecute
		}
	}
	if opts.ProfileHz > 0 {
		kernel.ProfileStart(opts.ProfileHz)
	}
	st, netCfg := startNet(opts)
	p, err := syscallshim.Start(syscallshim.Config{
		Machine:    kernel.Machine{},
		Root:       root,
		RootFS:     rootFS,
		Path:       prog,
		Argv:       append([]string{prog}, opts.Args...),
		Envp:       env,
		Strace:     opts.Strace,
		Trace:      trace,
		Debug:      opts.Debug,
		MemInfo:    kernel.MemInfo,
		MaxThreads: kernel.MaxProgramThreads,
		Mounts:     mounts,
		Cwd:        opts.Cwd,
		Share:      attachShare,
		Net:        st,
		NetConfig:  netCfg,
	}, file)
	if err != nil {
		fmt.Println(err)
		if se, ok := err.(*syscallshim.StartError); ok {
			return se.Status
		}
		return syscallshim.ExitCannotExecute
	}
	status := p.Wait()
	// What the program wrote to its connections before exiting reaches
	// the peers before the machine powers off, as it would from Linux.
	if st != nil {
		if n := st.Drain(drainTimeout); n > 0 {
			fmt.Printf("yolk: powering off with %d TCP connections still sending (waited %v)\n", n, drainTimeout)
		}
	}
	return status
}

// drainTimeout bounds the wait for connections to deliver at exit.
const drainTimeout = 3 * time.Second

// shareMounts attaches the host directories the command line names
// (mount=TAG:PATH[:ro], from qemu/run -v) through their virtio-9p devices.
func shareMounts(opts kernel.Options) ([]syscallshim.Mount, error) {
	if len(opts.Mounts) == 0 {
		return nil, nil
	}
	shares := map[string]kernel.Share{}
	for _, s := range kernel.Shares() {
		shares[s.Tag] = s
	}
	var out []syscallshim.Mount
	for _, m := range opts.Mounts {
		s, ok := shares[m.Tag]
		if !ok {
			return nil, fmt.Errorf("yolk: mount %s on %s: no virtio-9p device with that tag", m.Tag, m.Path)
		}
		fs, err := p9fs.New(s.Transport, p9fs.Options{})
		if err != nil {
			return nil, fmt.Errorf("yolk: mount %s on %s: %v", m.Tag, m.Path, err)
		}
		out = append(out, syscallshim.Mount{Path: m.Path, FS: fs, Source: m.Tag, ReadOnly: m.ReadOnly})
	}
	return out, nil
}

// attachShare attaches the virtio-9p share tagged tag (mount -t 9p TAG).
func attachShare(tag string) (vfs.Filesystem, error) {
	for _, s := range kernel.Shares() {
		if s.Tag == tag {
			return p9fs.New(s.Transport, p9fs.Options{})
		}
	}
	return nil, unix.ENOENT
}

func hasVar(env []string, name string) bool {
	for _, e := range env {
		if len(e) > len(name) && e[:len(name)] == name && e[len(name)] == '=' {
			return true
		}
	}
	return false
}
