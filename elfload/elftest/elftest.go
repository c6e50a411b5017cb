// Package elftest builds small synthetic ELF files for tests: a 64-bit
// x86-64 header, program headers at offset 64, and a recognizable pattern
// in the rest of the file (byte i is i*7+3), so that a test can tell which
// file bytes a loader copied where.
package elftest

import (
	"debug/elf"
	"encoding/binary"
)

// Prog is one program header.
type Prog struct {
	Type                             elf.ProgType
	Flags                            elf.ProgFlag
	Off, Vaddr, Filesz, Memsz, Align uint64
}

// Build returns a file of size bytes of type typ (ET_EXEC or ET_DYN) with
// entry point entry and the program headers progs, and no section
// headers.
func Build(typ elf.Type, entry uint64, size int, progs ...Prog) []byte {
	b := make([]byte, size)
	for i := range b {
		b[i] = byte(i*7 + 3)
	}
	copy(b, elf.ELFMAG)
	b[elf.EI_CLASS], b[elf.EI_DATA], b[elf.EI_VERSION] = byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT)
	clear(b[7:16])
	le := binary.LittleEndian
	le.PutUint16(b[16:], uint16(typ))
	le.PutUint16(b[18:], uint16(elf.EM_X86_64))
	le.PutUint32(b[20:], 1)
	le.PutUint64(b[24:], entry)
	le.PutUint64(b[32:], 64) // e_phoff
	le.PutUint64(b[40:], 0)  // no section headers
	le.PutUint32(b[48:], 0)
	le.PutUint16(b[52:], 64) // e_ehsize
	le.PutUint16(b[54:], 56) // e_phentsize
	le.PutUint16(b[56:], uint16(len(progs)))
	le.PutUint16(b[58:], 64) // e_shentsize
	le.PutUint16(b[60:], 0)
	le.PutUint16(b[62:], 0)
	for i, p := range progs {
		h := b[64+56*i:]
		le.PutUint32(h[0:], uint32(p.Type))
		le.PutUint32(h[4:], uint32(p.Flags))
		le.PutUint64(h[8:], p.Off)
		le.PutUint64(h[16:], p.Vaddr)
		le.PutUint64(h[24:], p.Vaddr)
		le.PutUint64(h[32:], p.Filesz)
		le.PutUint64(h[40:], p.Memsz)
		le.PutUint64(h[48:], p.Align)
	}
	return b
}
