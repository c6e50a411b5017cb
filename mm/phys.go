package mm

import (
	"errors"
	"unsafe"
)

// Phys is physical memory: 4 KiB frames with reference counts, reached
// through a direct map. Every method may be called from the trap handler:
// implementations do not allocate.
type Phys interface {
	Alloc() (phys uint64, ok bool) // a zeroed frame with reference count 1
	IncRef(phys uint64)
	DecRef(phys uint64) // frees the frame when the count reaches 0
	Refs(phys uint64) uint32
	Page(phys uint64) *[4096]byte // the frame's bytes
}

// Access is what a fault or copy needs.
type Access uint8

const (
	Read Access = 1 << iota
	Write
	Exec
)

// FaultResult says how a fault was handled.
type FaultResult uint8

const (
	FaultMapped FaultResult = iota // the page is now mapped with the access asked
	FaultDenied                    // no mapping allows the access (SIGSEGV)
	FaultNoMem                     // allowed, but no frame was left (OOM)
	FaultSlow                      // FaultFast only: redo with Fault from a goroutine
	FaultBus                       // a file mapping beyond the end of its file (SIGBUS)
)

var faultNames = [...]string{
	FaultMapped: "FaultMapped",
	FaultDenied: "FaultDenied",
	FaultNoMem:  "FaultNoMem",
	FaultSlow:   "FaultSlow",
	FaultBus:    "FaultBus",
}

func (r FaultResult) String() string {
	if int(r) < len(faultNames) {
		return faultNames[r]
	}
	return "FaultResult(?)"
}

// Backing is the object behind a shared or file mapping: anonymous shared
// memory now, a file's page cache later (the VFS will implement it).
type Backing interface {
	// Page returns the frame holding the page at byte offset off (page
	// aligned), with one reference taken for the caller; ErrBeyondEOF
	// (→ FaultBus) past the end.
	Page(off uint64) (phys uint64, err error)
	IncRef()
	DecRef()
}

// ErrBeyondEOF is what Backing.Page returns for a page past the end of
// the object: the access raises SIGBUS.
var ErrBeyondEOF = errors.New("mm: page beyond the end of the backing object")

// page returns the bytes of the frame at phys.
func (as *AddressSpace) page(phys uint64) *[4096]byte {
	if as.direct == 0 {
		return as.phys.Page(phys)
	}
	return (*[4096]byte)(addrPointer(as.direct + phys))
}

// table returns the page table stored in the frame at phys.
func (as *AddressSpace) table(phys uint64) *[512]uint64 {
	return (*[512]uint64)(unsafe.Pointer(as.page(phys)))
}

// tableAt is table for a space with a direct map at d; unlike table it
// inlines, for the walks that run on every copy.
func tableAt(d, phys uint64) *[512]uint64 {
	return (*[512]uint64)(addrPointer(d + phys))
}

// addrPointer is the memory at virtual address va, which the direct map
// keeps mapped (not Go heap memory, which this would hide from the
// garbage collector's view of pointers: the direct map is outside it).
func addrPointer(va uint64) unsafe.Pointer {
	u := uintptr(va)
	return *(*unsafe.Pointer)(unsafe.Pointer(&u))
}
