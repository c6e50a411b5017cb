// Package strace formats a Linux program's system calls as strace(1)
// prints them and implements strace's most used options: which calls to
// show (-e trace=SET with strace's classes and ! negation, -e
// status=failed), timestamps (-t, -tt, -ttt, -r), durations (-T), the
// summary table (-c) and the output file (-o). It knows nothing of how a
// kernel runs the calls: syscallshim calls Enter before a call and Exit
// after it, with a Memory to read the program's arguments through, and
// writes the lines where the options say.
//
// One generated table (table_gen.go, from syscalls.txt by gen.go: go
// generate) gives every x86-64 system call its name, how each argument
// and the result are shown, and strace's classes.
//
// References: strace(1), and strace's own output for the layouts (the
// -c table, [pid N] prefixes, "= ?" for calls that do not return).
package strace

// Args are a system call's six arguments (RDI, RSI, RDX, R10, R8, R9).
type Args [6]uint64

// Memory is the traced program's memory, as the decoders read it.
type Memory interface {
	// CopyIn returns a copy of [va, va+n), or an error when any of it
	// cannot be read.
	CopyIn(va, n uint64) ([]byte, error)
	// StackPointer is the program's RSP at the call (rt_sigreturn's
	// frame is found from it); 0 when unknown.
	StackPointer() uint64
}
