package mm

import (
	"bytes"

	"golang.org/x/sys/unix"

	"yolk/amd64"
)

// CopyIn copies program memory at va into dst. It returns how many bytes
// it copied and, if not all, EFAULT at the first page that is unmapped,
// not readable, outside the window or past the top of the address space,
// or ENOMEM when faulting a page in found no frame.
func (as *AddressSpace) CopyIn(va uint64, dst []byte) (int, error) {
	return as.copy(va, uint64(len(dst)), Read, func(done int, page []byte) {
		copy(dst[done:], page)
	})
}

// CopyOut copies src into program memory at va; errors as CopyIn's, with
// writes breaking copy-on-write pages.
func (as *AddressSpace) CopyOut(va uint64, src []byte) (int, error) {
	return as.copy(va, uint64(len(src)), Write, func(done int, page []byte) {
		copy(page, src[done:])
	})
}

// CopyInString reads the NUL-terminated string at va, which must end
// within max bytes (its NUL included): Linux's strncpy_from_user as its
// pathname and name arguments use it. It looks for the NUL in the frames
// themselves and copies only the string. Errors: EFAULT (and ENOMEM) as
// CopyIn's, at a page reached before the NUL; ENAMETOOLONG when the first
// max bytes hold no NUL, returned with those bytes (a caller that
// truncates, as prctl's PR_SET_NAME, takes them).
func (as *AddressSpace) CopyInString(va uint64, max int) (string, error) {
	as.lock()
	defer as.unlock()
	var long []byte // a string that crosses pages
	for done := 0; done < max; {
		cur := va + uint64(done)
		if cur < va || cur < as.lo || cur >= as.hi {
			return "", unix.EFAULT
		}
		p, err := as.frameFor(cur, Read)
		if err != nil {
			return "", err
		}
		off := cur & pageMask
		b := as.page(p)[off:min(amd64.PageSize, off+uint64(max-done))]
		if i := bytes.IndexByte(b, 0); i >= 0 {
			if long == nil {
				return string(b[:i]), nil
			}
			return string(append(long, b[:i]...)), nil
		}
		long = append(long, b...)
		done += len(b)
	}
	return string(long), unix.ENAMETOOLONG
}

// ZeroOut writes n zero bytes to program memory at va; errors as CopyOut's.
func (as *AddressSpace) ZeroOut(va, n uint64) (int, error) {
	return as.copy(va, n, Write, func(_ int, page []byte) {
		clear(page)
	})
}

// copy runs fn on each piece of [va, va+n) page by page, faulting pages in
// for acc, with the lock held.
func (as *AddressSpace) copy(va, n uint64, acc Access, fn func(done int, page []byte)) (int, error) {
	as.lock()
	defer as.unlock()
	done := uint64(0)
	for done < n {
		cur := va + done
		if cur < va || cur < as.lo || cur >= as.hi {
			return int(done), unix.EFAULT
		}
		p, err := as.frameFor(cur, acc)
		if err != nil {
			return int(done), err
		}
		off := cur & pageMask
		k := min(amd64.PageSize-off, n-done)
		fn(int(done), as.page(p)[off:off+k])
		done += k
	}
	return int(done), nil
}

// frameFor returns the frame mapping va for acc, faulting it in.
func (as *AddressSpace) frameFor(va uint64, acc Access) (uint64, error) {
	for try := 0; try < 2; try++ {
		if e := as.slot(va, false); e != nil && *e&amd64.PTE_P != 0 && (acc&Write == 0 || *e&amd64.PTE_W != 0) {
			// Accessed and dirty, as the CPU marks the entry when the
			// program itself reads or writes (Usage counts them).
			*e |= amd64.PTE_A
			if acc&Write != 0 {
				*e |= amd64.PTE_D
			}
			return *e & amd64.PTE_ADDR, nil
		}
		switch as.fault(va, acc) {
		case FaultMapped:
		case FaultNoMem:
			return 0, unix.ENOMEM
		default:
			return 0, unix.EFAULT
		}
	}
	return 0, unix.EFAULT
}
