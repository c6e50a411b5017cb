// Package sysno names Linux x86-64 syscall numbers, for traces and error
// messages in the kernel's syscall layer.
//
// The table covers the 64-bit x86-64 ABI, i.e. the "common" and "64" entries
// of arch/x86/entry/syscalls/syscall_64.tbl in the Linux source tree; names
// are that table's name column (e.g. 262 is "newfstatat", 4 is "stat" even
// though its entry point is sys_newstat). Numbers 337..423 are unassigned on
// x86-64 and the x32 ABI numbers (512 and up, with __X32_SYSCALL_BIT) are not
// included.
//
// The table is generated from golang.org/x/sys/unix's
// zsysnum_linux_amd64.go (the version pinned in go.mod) by gen.go; run
// `go generate` after upgrading golang.org/x/sys. A test fails when
// names_gen.go is stale.
//
// The package has no dependencies and no init-time work, and Name and Lookup
// do not allocate, so they may be used from trap handlers and other code that
// must not allocate.
package sysno

import "strconv"

//go:generate go run gen.go

// Max is the highest syscall number known to this package.
const Max = uintptr(len(names) - 1)

// Unknown is returned by Name for numbers with no known name.
const Unknown = "unknown"

// Name returns the Linux name of x86-64 syscall n ("read" for 0, "write" for
// 1, ...), or Unknown ("unknown") if n is unassigned or above Max. It never
// allocates.
func Name(n uintptr) string {
	if n < uintptr(len(names)) {
		if s := names[n]; s != "" {
			return s
		}
	}
	return Unknown
}

// Format is like Name but returns "syscall_<n>" (e.g. "syscall_999") for
// numbers with no known name. It allocates only in that case.
func Format(n uintptr) string {
	if s := Name(n); s != Unknown {
		return s
	}
	return "syscall_" + strconv.FormatUint(uint64(n), 10)
}

// Lookup returns the number of the x86-64 syscall with the given Linux name
// (lower case, as in syscall_64.tbl, e.g. "newfstatat"). It reports false if
// the name is unknown. Lookup does a linear scan and does not allocate; it is
// meant for tooling and configuration, not hot paths.
func Lookup(name string) (uintptr, bool) {
	if name == "" {
		return 0, false
	}
	for n, s := range names {
		if s == name {
			return uintptr(n), true
		}
	}
	return 0, false
}
