package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"yolk/cmd/yolkrun/ldd"
)

// hostProgram is the host file the run's program comes from when the
// runner is the one to make its root: PROGRAM looked up on the host
// (without -i), or -i's file when it is an ELF and no PROGRAM is given.
// It is "" when the root is the user's (a directory or cpio archive).
func (o *options) hostProgram(repo string) (string, error) {
	switch {
	case o.program != "" && o.initrd == "":
		p, err := findProgram(o.program, repo)
		if err != nil {
			return "", err
		}
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return "", nil // resolveProgram says why
		}
		return p, nil
	case o.program == "" && o.initrd != "" && isFile(o.initrd) && isELF(o.initrd):
		return o.initrd, nil
	}
	return "", nil
}

// dynamicClosure resolves what the program at p needs; nil for a static
// program (no PT_INTERP). A library or interpreter that cannot be found
// is status 127, before QEMU starts.
func dynamicClosure(p string) (*ldd.Resolver, *ldd.Closure, error) {
	if _, dynamic, err := ldd.IsDynamic(p); err != nil || !dynamic {
		return nil, nil, nil // not an ELF the resolver reads: the kernel says why
	}
	res := ldd.Host()
	c, err := res.Resolve(p)
	var nf *ldd.NotFoundError
	if errors.As(err, &nf) {
		return nil, nil, fail(exitNotFound, "%v", err)
	}
	if err != nil {
		return nil, nil, fail(exitRunner, "resolving the libraries of %s: %v", p, err)
	}
	return res, c, nil
}

// dynamicRoot builds the root of a dynamically linked program at p
// under s.tmp and returns the directory and the program's path in it
// (its absolute host path, so $ORIGIN means what it means on the host);
// "" for a static program.
func (s *setup) dynamicRoot(p string) (dir, init string, err error) {
	res, c, err := dynamicClosure(p)
	if err != nil || c == nil {
		return "", "", err
	}
	root, err := res.Root(c)
	if err != nil {
		return "", "", fail(exitRunner, "collecting the root of %s: %v", p, err)
	}
	dir = filepath.Join(s.tmp, "root")
	if err := os.Mkdir(dir, 0o755); err != nil {
		return "", "", fail(exitRunner, "%v", err)
	}
	for _, e := range root.Entries() {
		for _, m := range []string{"/dev", "/proc"} {
			if strings.HasPrefix(e.Path, m+"/") {
				return "", "", fail(exitCannotExec, "%s is under %s, which the kernel mounts over: copy it elsewhere", e.Path, m)
			}
		}
	}
	if err := root.Build(dir); err != nil {
		return "", "", fail(exitRunner, "building the root of %s: %v", p, err)
	}
	if err := s.shareTmp(dir); err != nil {
		return "", "", err
	}
	return dir, c.Program.Path, nil
}

// shareTmp makes what the root holds under /tmp (a program built in a
// temporary directory, its libraries) visible to the program: the
// kernel mounts a tmpfs on /tmp, which hides the cpio tree's /tmp from
// the file system (the kernel still finds the first program in the
// cpio archive itself). Each top directory is also shared read-only
// over virtio-9p at its own path: paths stay as on the host and the
// rest of /tmp stays a writable tmpfs.
func (s *setup) shareTmp(dir string) error {
	tmp := filepath.Join(dir, "tmp")
	des, err := os.ReadDir(tmp)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fail(exitRunner, "%v", err)
	}
	for _, de := range des {
		if !de.IsDir() {
			return fail(exitCannotExec, "/tmp/%s is a file directly in /tmp, which the kernel mounts a tmpfs on: move it into a directory", de.Name())
		}
		s.o.volumes = append(s.o.volumes, volume{host: filepath.Join(tmp, de.Name()), guest: "/tmp/" + de.Name(), readOnly: true})
	}
	return nil
}

// printRoot writes what the root of the run's program would hold, one
// entry a line with why it is there (--print-root), without booting.
func printRoot(o *options, repo string, w io.Writer) error {
	p, err := o.hostProgram(repo)
	if err != nil {
		return err
	}
	if p == "" && o.initrd != "" {
		if _, err := os.Stat(o.initrd); err != nil {
			return fail(exitNotFound, "%s: no such file", o.initrd)
		}
	}
	if p == "" {
		return fail(exitUsage, "--print-root wants a program file: PROGRAM, or -i PROGRAM without a PROGRAM inside it")
	}
	res, c, err := dynamicClosure(p)
	if err != nil {
		return err
	}
	if c == nil {
		fmt.Fprintf(w, "# %s is not dynamically linked: the initrd is the file itself, run as /%s\n", p, filepath.Base(p))
		return nil
	}
	root, err := res.Root(c)
	if err != nil {
		return fail(exitRunner, "collecting the root of %s: %v", p, err)
	}
	fmt.Fprintf(w, "# root of %s (init=%s)\n", p, c.Program.Path)
	for _, e := range root.Entries() {
		fmt.Fprintln(w, strings.ReplaceAll(e.String(), "\n", " "))
	}
	return nil
}
