package strace

import (
	"fmt"
	"strings"

	"yolk/linux/sysno"
)

// Options are strace's options that yolk honours. They come from the
// kernel command line as strace=OPTS, the options separated by commas
// instead of spaces (strace=-f,-tt,-T,-e,trace=file or strace=-c), or
// from qemu/run -o "strace=-f,-e trace=process,file" (the kernel joins
// the word after a trailing -e or -o to it). Every process and thread is
// traced (as with -f); lines carry "[pid N] " once there is more than one
// thread or process, as strace -f prints them.
type Options struct {
	On         bool            // trace at all
	Only       map[uint64]bool // -e trace=SET: the syscalls traced (nil: all)
	OnlyFailed bool            // -e status=failed, -Z
	Stamp      int             // -t 1, -tt 2, -ttt 3
	Relative   bool            // -r
	Durations  bool            // -T
	Count      bool            // -c, -C: a table at the end
	Lines      bool            // the call lines too (all but -c)
	Follow     bool            // -f: with -o, every line starts with its thread id
	Output     string          // -o FILE: the lines go to the runner's FILE, not its stderr
}

// Parse parses strace=OPTS: words separated by commas; an option's value
// may be the next word or joined (-e trace=file, -etrace=file, -oFILE).
// In a trace set, strace's commas work too: the words after
// trace=NAME that do not start with '-' are more names of the set
// (-e,trace=process,file); '+' also joins names (trace=process+file).
func Parse(s string) (Options, error) {
	o := Options{On: true, Lines: true}
	words := strings.Split(s, ",")
	for i := 0; i < len(words); i++ {
		w := words[i]
		value := func(opt string) (string, error) {
			v := strings.TrimPrefix(strings.TrimPrefix(w, opt), "=")
			if v == "" {
				if i+1 == len(words) || words[i+1] == "" {
					return "", fmt.Errorf("strace: %s needs a value", opt)
				}
				i++
				v = words[i]
			}
			return v, nil
		}
		switch {
		case w == "":
		case w == "-f" || w == "-ff":
			// Every process is traced anyway; -f changes the prefixes
			// with -o, as in strace.
			o.Follow = true
		case w == "-t":
			o.Stamp = max(o.Stamp, 1)
		case w == "-tt":
			o.Stamp = max(o.Stamp, 2)
		case w == "-ttt":
			o.Stamp = 3
		case w == "-r":
			o.Relative = true
		case w == "-T":
			o.Durations = true
		case w == "-c":
			o.Count, o.Lines = true, false
		case w == "-C":
			o.Count, o.Lines = true, true
		case w == "-Z":
			o.OnlyFailed = true
		case strings.HasPrefix(w, "-o"):
			v, err := value("-o")
			if err != nil {
				return o, err
			}
			o.Output = v
		case strings.HasPrefix(w, "-e"):
			expr, err := value("-e")
			if err != nil {
				return o, err
			}
			// strace's commas inside a set: the following words that
			// are not options belong to it.
			for i+1 < len(words) && words[i+1] != "" && !strings.HasPrefix(words[i+1], "-") && !strings.Contains(words[i+1], "=") {
				i++
				expr += "+" + words[i]
			}
			if err := o.expr(expr); err != nil {
				return o, err
			}
		default:
			return o, fmt.Errorf("strace: option %q is not supported (supported: -f -t -tt -ttt -r -T -c -C -Z -o FILE -e trace=SET -e status=failed)", w)
		}
	}
	return o, nil
}

// expr applies one -e expression: trace=SET or status=failed.
func (o *Options) expr(e string) error {
	key, val, ok := strings.Cut(e, "=")
	if !ok {
		key, val = "trace", e
	}
	switch key {
	case "trace", "t":
		neg := strings.HasPrefix(val, "!")
		val = strings.TrimPrefix(val, "!")
		set := map[uint64]bool{}
		for _, name := range strings.Split(val, "+") {
			switch cls := strings.TrimPrefix(name, "%"); {
			case name == "all":
				for nr := range uint64(sysno.Max) + 1 {
					set[nr] = true
				}
			case name == "none":
			case classOf(cls) != 0:
				for nr := range table {
					if table[nr].class&classOf(cls) != 0 {
						set[uint64(nr)] = true
					}
				}
			default:
				nr, ok := Number(name)
				if !ok {
					return fmt.Errorf("strace: unknown syscall or class %q", name)
				}
				set[nr] = true
			}
		}
		if neg {
			all := map[uint64]bool{}
			for nr := range uint64(sysno.Max) + 1 {
				if !set[nr] {
					all[nr] = true
				}
			}
			set = all
		}
		if o.Only != nil {
			// A second trace= replaces the first, as in strace.
		}
		o.Only = set
	case "status":
		switch val {
		case "failed", "!successful":
			o.OnlyFailed = true
		case "all":
			o.OnlyFailed = false
		default:
			return fmt.Errorf("strace: -e status=%s is not supported (only failed, !successful, all)", val)
		}
	default:
		return fmt.Errorf("strace: -e %s= is not supported", key)
	}
	return nil
}

// Prefix is what strace -f puts before a line of thread tid: with -o,
// "TID " on every line; else "[pid TID] " once there are several threads
// or processes (several), as strace prints them.
func (o *Options) Prefix(tid int32, several bool) string {
	switch {
	case o.Output != "" && o.Follow:
		return fmt.Sprintf("%-5d ", tid)
	case o.Output == "" && several:
		return fmt.Sprintf("[pid %5d] ", tid)
	}
	return ""
}

// Traced reports whether syscall nr is shown (or counted).
func (o *Options) Traced(nr uint64) bool { return o.On && (o.Only == nil || o.Only[nr]) }

// Number is the number of the syscall called name.
func Number(name string) (uint64, bool) {
	for nr := range uint64(sysno.Max) + 1 {
		if sysno.Name(uintptr(nr)) == name {
			return nr, true
		}
	}
	return 0, false
}

// Suffix is -T's " <seconds>" for a call that took ns.
func (o *Options) Suffix(ns int64) string {
	if !o.Durations {
		return ""
	}
	return fmt.Sprintf(" <%d.%06d>", ns/1e9, ns%1e9/1e3)
}
