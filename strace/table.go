package strace

//go:generate go run gen.go

// entry is one system call in the generated table.
type entry struct {
	name  string
	class class
	known bool // syscalls.txt gives its format
	spec  traceCallSpec
}

// class is a set of strace's syscall classes (-e trace=%file ...).
type class uint8

const (
	cFile class = 1 << iota
	cProcess
	cNetwork
	cMemory
	cSignal
	cDesc
)

var classNames = map[string]class{
	"file": cFile, "process": cProcess, "network": cNetwork,
	"memory": cMemory, "signal": cSignal, "desc": cDesc,
}

// classOf is the class called name (0 for none).
func classOf(name string) class { return classNames[name] }

// pathMax is Linux's PATH_MAX: the longest path shown.
const pathMax = 4096
