package elfload

import (
	"strconv"
	"strings"
	"unicode"
)

// ErrorKind classifies why a program was refused.
type ErrorKind int

const (
	// NotELF: no ELF magic (or fewer than 4 bytes).
	NotELF ErrorKind = iota + 1
	// Truncated: the file ends before a header, the program header
	// table, or a segment's file data.
	Truncated
	// Not64Bit: an ELFCLASS32 file.
	Not64Bit
	// WrongMachine: e_machine is not EM_X86_64.
	WrongMachine
	// WrongType: e_type is not ET_EXEC or ET_DYN (ET_REL, ET_CORE, ...).
	WrongType
	// Dynamic: the program has PT_INTERP, or DT_NEEDED entries.
	Dynamic
	// Overlap: a segment overlaps one of Options.Forbidden.
	Overlap
	// TooLarge: the image needs more than Options.MaxMem bytes.
	TooLarge
	// BadSegment: an invalid PT_LOAD (p_filesz > p_memsz, p_offset and
	// p_vaddr not congruent modulo the page size, address overflow or
	// outside the user address space, PT_LOADs overlapping each other),
	// or no PT_LOAD at all.
	BadSegment
	// BadHeader: an invalid ELF header field other than the ones above
	// (ELF class other than 32/64, big-endian data, e_phentsize != 56,
	// too many program headers).
	BadHeader
	// ArgListTooLong: argv, envp and the exec file name exceed the Linux
	// limit (E2BIG): 2 MiB in total including the pointer arrays, or one
	// string longer than MAX_ARG_STRLEN (128 KiB).
	ArgListTooLong
	// BadArgs: an argv/envp/ExecFn/Platform string contains a NUL byte,
	// or no Image was given.
	BadArgs
	// StackTooSmall: the initial stack does not fit below top.
	StackTooSmall
	// MemoryFailed: Memory.Map or Memory.Write failed (Err holds the
	// Memory's error). When Load returns this the address space may hold
	// a partial image and must be discarded.
	MemoryFailed
)

var kindNames = [...]string{
	NotELF:         "not an ELF file",
	Truncated:      "truncated ELF file",
	Not64Bit:       "32-bit ELF",
	WrongMachine:   "ELF for another machine, not x86-64",
	WrongType:      "ELF file is not an executable",
	Dynamic:        "dynamically linked; only static programs are supported",
	Overlap:        "segment overlaps a forbidden range",
	TooLarge:       "program image too large",
	BadSegment:     "invalid ELF program header",
	BadHeader:      "invalid ELF header",
	ArgListTooLong: "argument list too long",
	BadArgs:        "invalid argument",
	StackTooSmall:  "initial stack does not fit",
	MemoryFailed:   "address space operation failed",
}

// String returns the kind's generic one-line description.
func (k ErrorKind) String() string {
	if k > 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "ErrorKind(" + strconv.Itoa(int(k)) + ")"
}

// Error is the error type of Load, Layout and BuildStack. Error()
// is a single line naming the problem, e.g.
//
//	dynamically linked (interpreter /lib64/ld-linux-x86-64.so.2); only static programs are supported
type Error struct {
	Kind ErrorKind
	Msg  string // one line; empty means Kind.String()
	Err  error  // underlying Memory error for MemoryFailed, else nil
}

func (e *Error) Error() string {
	msg := e.Msg
	if msg == "" {
		msg = e.Kind.String()
	}
	if e.Err != nil {
		msg += ": " + oneLine(e.Err.Error())
	}
	return msg
}

// Unwrap returns the underlying Memory error, if any.
func (e *Error) Unwrap() error { return e.Err }

// ExitStatus is the status a shell-like caller should report for a program
// that could not be started: 126 for every kind, the POSIX shell status for
// "found but cannot be executed" (bash and dash exit 126 both for a binary
// the kernel refuses with ENOEXEC and for E2BIG).
func (e *Error) ExitStatus() int { return 126 }

// oneLine makes s printable on one line: it is returned unchanged when it
// consists of printable characters only, else Go-quoted.
func oneLine(s string) string {
	if strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) < 0 {
		return s
	}
	return strconv.Quote(s)
}

func errorf(kind ErrorKind, msg string) *Error { return &Error{Kind: kind, Msg: msg} }
