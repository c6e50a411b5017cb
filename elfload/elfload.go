// Package elfload loads static Linux x86-64 ELF programs into an abstract
// address space and builds the Linux initial process stack.
//
// It is independent of the kernel: the address space is the Memory
// interface, so everything here is testable on a Linux host.
//
// # Loading
//
// Load validates the whole file before it maps anything; a file it refuses
// leaves the Memory untouched and yields an *Error. Every size and offset
// read from the file is checked against the file size before it is used,
// so a corrupt or truncated file cannot make Load panic or allocate more
// than the file size.
//
// Accepted: ELFCLASS64, little-endian, EM_X86_64, ET_EXEC or ET_DYN
// (static-PIE) without PT_INTERP and without DT_NEEDED.
//
// Placement: ET_EXEC segments go at p_vaddr (Image.Base 0). ET_DYN
// segments are shifted so that the page of the lowest PT_LOAD lands at
// Options.PIEBase (default 0x555555554000, where Linux puts PIEs with ASLR
// off); like Linux, PIEBase is first aligned down to the largest
// power-of-two PT_LOAD p_align (alignments above 1 GiB are ignored).
// Image.Base is the load bias (added to every p_vaddr, modulo 2^64).
//
// Mapping: each PT_LOAD covers the pages [pagedown(vaddr),
// pageup(vaddr+memsz)). PT_LOADs whose page ranges share a page (e.g. the
// end of one segment and the start of the next one in the same page, which
// a linker produces when it packs RELRO and data, or text and data, without
// page padding; GNU ld's glibc static-PIE output on the build host does not)
// are merged into a single Memory.Map call
// whose protection is the union of the segments' protections: the shared
// page has to be accessible for both, so the whole merged range is. The
// byte ranges [vaddr, vaddr+memsz) of two PT_LOADs may not overlap
// (BadSegment). Segments with p_memsz 0 are ignored. After mapping, the
// file bytes [p_offset, p_offset+p_filesz) are written at vaddr and, when
// p_memsz > p_filesz, zeros are written from vaddr+p_filesz to the end of
// that page, as Linux's padzero does; the rest of the bss is the Memory's
// zero-filled pages. Unlike Linux, the part of a segment's last page after
// p_filesz is zero even when p_memsz == p_filesz (Linux maps the file page
// and shows whatever file bytes follow the segment there).
//
// A Memory that is also a FileMemory gets the file's pages mapped rather
// than copied, as Linux's elf_map does, for every PT_LOAD that shares no
// page with another and whose p_vaddr and p_offset agree modulo the page
// size: its file pages [pagedown(vaddr), pageup(vaddr+filesz)) are one
// MapFile (private: copy on write), the rest of its pages one Map, and
// padzero as above. There, as on Linux, the bytes after p_filesz in the
// last file page are the file's when p_memsz == p_filesz.
//
// The user address space ends at 0x7ffffffff000 (Linux TASK_SIZE with
// 4-level paging); segments beyond it are BadSegment. Low addresses (Linux
// forbids mappings below vm.mmap_min_addr, 64 KiB) and the kernel's own
// ranges are the caller's to list in Options.Forbidden.
//
// Stack executability: Image.StackExec is true only when PT_GNU_STACK is
// present with PF_X. When PT_GNU_STACK is absent it is false, which is what
// Linux does for 64-bit x86 programs (EXSTACK_DEFAULT does not imply an
// executable stack there; only 32-bit programs get READ_IMPLIES_EXEC).
//
// # Initial stack
//
// Layout and BuildStack reproduce Linux's fs/exec.c and
// fs/binfmt_elf.c:create_elf_tables with ASLR off (no random stack
// offset); see Layout.
package elfload

import (
	"debug/elf"
	"encoding/binary"
	"fmt"
	"io"
	"sort"

	"golang.org/x/sys/unix"
)

// FileMemory is a Memory that can map pages of the program file itself
// (see the package documentation): MapFile maps [va, va+n) to the file's
// bytes from offset off (page aligned), private and copy on write.
type FileMemory interface {
	Memory
	MapFile(va, n uint64, prot uint32, off uint64) error
}

// Memory is the program's address space as the loader sees it.
type Memory interface {
	// Map creates a private anonymous mapping [va, va+n) (page-aligned)
	// with prot (unix.PROT_READ|PROT_WRITE|PROT_EXEC bits), replacing
	// nothing: it fails if the range is not free or not allowed.
	Map(va, n uint64, prot uint32) error
	// Write copies b to va; the range must be mapped; protection does
	// not apply (the kernel writes).
	Write(va uint64, b []byte) error
}

// Options tunes Load.
type Options struct {
	// PIEBase is the load base for ET_DYN (page-aligned; aligned down if
	// not); 0 means DefaultPIEBase.
	PIEBase uint64
	// Forbidden lists virtual ranges the program may not use (e.g. the
	// kernel's): a segment (its page-aligned mapping) overlapping one is
	// refused with Overlap. Empty ranges (End <= Start) are ignored.
	Forbidden []Range
	// MaxMem refuses images whose total mapped size (sum of the
	// page-aligned mappings) exceeds it, with TooLarge; 0 = no limit.
	MaxMem uint64
	// AllowInterp loads a dynamically linked program (PT_INTERP) and
	// reports its interpreter in Image.Interp, for the caller to load;
	// without it such programs are refused with Dynamic.
	AllowInterp bool
}

// Range is the half-open virtual address range [Start, End).
type Range struct{ Start, End uint64 }

// Segment is one mapping Load made: [VA, VA+Memsz), both page-aligned,
// with protection Prot (unix.PROT_* bits). Merged PT_LOADs (see the
// package documentation) form one Segment.
type Segment struct {
	VA, Memsz uint64
	Prot      uint32
}

// Image describes a loaded program.
type Image struct {
	// Entry is the relocated entry point; Base the load bias (0 for
	// ET_EXEC).
	Entry, Base uint64
	// Phdr is the address of the program headers in memory (AT_PHDR):
	// the relocated p_vaddr of PT_PHDR when present and inside a PT_LOAD,
	// else (as Linux computes it) the address of e_phoff in the PT_LOAD
	// whose file data contains it, else 0.
	Phdr uint64
	// Phnum and Phent are e_phnum and e_phentsize (always 56).
	Phnum, Phent int
	// Brk is the page-aligned end of the highest segment: the initial
	// program break.
	Brk uint64
	// StackExec: PT_GNU_STACK present with PF_X (absent means false, as
	// on Linux x86-64).
	StackExec bool
	// Static: no PT_INTERP.
	Static bool
	// Segments are the mappings made, in ascending address order.
	Segments []Segment
	// Interp is the PT_INTERP path (Options.AllowInterp; without it
	// programs with an interpreter are refused with Dynamic, whose
	// message names it).
	Interp string
}

const (
	pageSize = 4096
	// DefaultPIEBase is where Linux loads a PIE with ASLR off.
	DefaultPIEBase = 0x555555554000
	// UserEnd is the end of the x86-64 user address space (Linux
	// TASK_SIZE with 4-level paging).
	UserEnd = 0x7ffffffff000

	ehdrSize   = 64
	phdrSize   = 56
	maxPhnum   = 65536 / phdrSize // Linux refuses more than 64 KiB of program headers
	pathMax    = 4096             // Linux's limit for PT_INTERP
	maxAlign   = 1 << 30          // larger p_align values are ignored for placement
	copyChunk  = 64 << 10
	dynEntSize = 16
)

func pageDown(a uint64) uint64 { return a &^ (pageSize - 1) }

// pageUp rounds a up to a page boundary; ok is false on overflow.
func pageUp(a uint64) (uint64, bool) {
	if a > ^uint64(0)-(pageSize-1) {
		return 0, false
	}
	return (a + pageSize - 1) &^ (pageSize - 1), true
}

// file is a bounds-checked view of the input.
type file struct {
	r    io.ReaderAt
	size int64
}

// in reports whether [off, off+n) lies within the file.
func (f *file) in(off, n uint64) bool {
	return off <= uint64(f.size) && n <= uint64(f.size)-off
}

// read returns the n bytes at off, which must lie within the file (callers
// check with in first, so n never exceeds the file size).
func (f *file) read(off, n uint64, what string) ([]byte, error) {
	if !f.in(off, n) {
		return nil, errorf(Truncated, fmt.Sprintf("truncated ELF file: %s [%#x, +%#x) beyond end of file (%d bytes)", what, off, n, f.size))
	}
	b := make([]byte, n)
	if err := f.readInto(off, b, what); err != nil {
		return nil, err
	}
	return b, nil
}

func (f *file) readInto(off uint64, b []byte, what string) error {
	m, err := f.r.ReadAt(b, int64(off))
	if m == len(b) {
		return nil
	}
	if err == nil || err == io.EOF || err == io.ErrUnexpectedEOF {
		return errorf(Truncated, fmt.Sprintf("truncated ELF file: short read of %s at %#x", what, off))
	}
	return errorf(Truncated, fmt.Sprintf("truncated ELF file: reading %s at %#x: %s", what, off, oneLine(err.Error())))
}

// load is one PT_LOAD after validation.
type load struct {
	idx          int // index in the program header table
	prog         elf.Prog64
	start, end   uint64 // relocated [vaddr, vaddr+memsz)
	pstart, pend uint64 // page-aligned
	prot         uint32
}

func progProt(flags uint32) uint32 {
	var p uint32
	if flags&uint32(elf.PF_R) != 0 {
		p |= unix.PROT_READ
	}
	if flags&uint32(elf.PF_W) != 0 {
		p |= unix.PROT_WRITE
	}
	if flags&uint32(elf.PF_X) != 0 {
		p |= unix.PROT_EXEC
	}
	return p
}

var machineNames = map[elf.Machine]string{
	elf.EM_386:       "i386",
	elf.EM_X86_64:    "x86-64",
	elf.EM_AARCH64:   "AArch64",
	elf.EM_ARM:       "ARM",
	elf.EM_RISCV:     "RISC-V",
	elf.EM_PPC:       "PowerPC",
	elf.EM_PPC64:     "PowerPC64",
	elf.EM_S390:      "S/390",
	elf.EM_MIPS:      "MIPS",
	elf.EM_SPARCV9:   "SPARC V9",
	elf.EM_IA_64:     "IA-64",
	elf.EM_LOONGARCH: "LoongArch",
}

func machineName(m elf.Machine) string {
	if s, ok := machineNames[m]; ok {
		return s
	}
	s := m.String()
	if len(s) > 3 && s[:3] == "EM_" {
		return s[3:]
	}
	return s // elf.Machine(n) for unknown values
}

// Load validates the ELF program read from r (size bytes), then maps and
// fills its PT_LOAD segments in mem. See the package documentation for the
// rules. Every error is an *Error; all kinds except MemoryFailed are
// reported before mem is touched.
func Load(r io.ReaderAt, size int64, mem Memory, opt Options) (*Image, error) {
	if size < 0 {
		size = 0
	}
	f := &file{r: r, size: size}
	img, loads, err := plan(f, opt)
	if err != nil {
		return nil, err
	}
	// The PT_LOADs whose pages are mapped from the file (FileMemory).
	mapped := make([]bool, len(loads))
	fm, _ := mem.(FileMemory)
	for _, sg := range img.Segments {
		var in []int
		for i, l := range loads {
			if l.pstart >= sg.VA && l.pend <= sg.VA+sg.Memsz {
				in = append(in, i)
			}
		}
		if fm != nil && len(in) == 1 {
			l := loads[in[0]]
			if l.prog.Filesz > 0 && (l.prog.Vaddr-l.prog.Off)%pageSize == 0 {
				fileEnd, _ := pageUp(l.start + l.prog.Filesz) // <= l.pend
				if err := fm.MapFile(l.pstart, fileEnd-l.pstart, l.prot, pageDown(l.prog.Off)); err != nil {
					return nil, &Error{Kind: MemoryFailed, Msg: fmt.Sprintf("mapping [%#x, %#x) from the file", l.pstart, fileEnd), Err: err}
				}
				if fileEnd < l.pend {
					if err := mem.Map(fileEnd, l.pend-fileEnd, l.prot); err != nil {
						return nil, &Error{Kind: MemoryFailed, Msg: fmt.Sprintf("mapping [%#x, %#x)", fileEnd, l.pend), Err: err}
					}
				}
				mapped[in[0]] = true
				continue
			}
		}
		if err := mem.Map(sg.VA, sg.Memsz, sg.Prot); err != nil {
			return nil, &Error{Kind: MemoryFailed, Msg: fmt.Sprintf("mapping [%#x, %#x)", sg.VA, sg.VA+sg.Memsz), Err: err}
		}
	}
	var buf []byte
	var zeros [pageSize]byte
	for i, l := range loads {
		// File data, in chunks.
		for done := uint64(0); !mapped[i] && done < l.prog.Filesz; {
			n := l.prog.Filesz - done
			if n > copyChunk {
				n = copyChunk
			}
			if uint64(len(buf)) < n {
				buf = make([]byte, n)
			}
			b := buf[:n]
			if err := f.readInto(l.prog.Off+done, b, fmt.Sprintf("PT_LOAD %d data", l.idx)); err != nil {
				return nil, err
			}
			if err := mem.Write(l.start+done, b); err != nil {
				return nil, &Error{Kind: MemoryFailed, Msg: fmt.Sprintf("writing [%#x, %#x)", l.start+done, l.start+done+n), Err: err}
			}
			done += n
		}
		// Zero the rest of the last file page when there is bss (padzero).
		if l.prog.Memsz > l.prog.Filesz {
			zs := l.start + l.prog.Filesz
			ze, _ := pageUp(zs) // cannot overflow: below l.pend
			if ze > zs {
				if err := mem.Write(zs, zeros[:ze-zs]); err != nil {
					return nil, &Error{Kind: MemoryFailed, Msg: fmt.Sprintf("zeroing [%#x, %#x)", zs, ze), Err: err}
				}
			}
		}
	}
	return img, nil
}

// plan does all validation and computes the Image and the sorted PT_LOADs.
func plan(f *file, opt Options) (*Image, []load, error) {
	// ELF identification and header.
	if f.size < 4 {
		return nil, nil, errorf(NotELF, "not an ELF file")
	}
	var magic [4]byte
	if err := f.readInto(0, magic[:], "ELF magic"); err != nil {
		return nil, nil, err
	}
	if string(magic[:]) != elf.ELFMAG {
		return nil, nil, errorf(NotELF, "not an ELF file")
	}
	if f.size < ehdrSize {
		// Enough for the class byte and e_machine of a 32-bit header?
		if f.size > int64(elf.EI_CLASS) {
			var c [1]byte
			if f.readInto(uint64(elf.EI_CLASS), c[:], "ELF class") == nil && elf.Class(c[0]) == elf.ELFCLASS32 {
				return nil, nil, errorf(Not64Bit, "32-bit ELF; only x86-64 programs are supported")
			}
		}
		return nil, nil, errorf(Truncated, fmt.Sprintf("truncated ELF file: %d bytes, shorter than the ELF header", f.size))
	}
	eh, err := f.read(0, ehdrSize, "ELF header")
	if err != nil {
		return nil, nil, err
	}
	class := elf.Class(eh[elf.EI_CLASS])
	data := elf.Data(eh[elf.EI_DATA])
	var bo binary.ByteOrder = binary.LittleEndian
	if data == elf.ELFDATA2MSB {
		bo = binary.BigEndian
	}
	machine := elf.Machine(bo.Uint16(eh[18:]))
	switch class {
	case elf.ELFCLASS64:
	case elf.ELFCLASS32:
		return nil, nil, errorf(Not64Bit, fmt.Sprintf("32-bit ELF (%s); only x86-64 programs are supported", machineName(machine)))
	default:
		return nil, nil, errorf(BadHeader, fmt.Sprintf("invalid ELF header: unknown ELF class %d", eh[elf.EI_CLASS]))
	}
	if machine != elf.EM_X86_64 {
		return nil, nil, errorf(WrongMachine, fmt.Sprintf("ELF for %s, not x86-64", machineName(machine)))
	}
	if data != elf.ELFDATA2LSB {
		return nil, nil, errorf(BadHeader, fmt.Sprintf("invalid ELF header: data encoding %d, not little-endian", eh[elf.EI_DATA]))
	}
	le := binary.LittleEndian
	hdr := elf.Header64{
		Type:      le.Uint16(eh[16:]),
		Machine:   le.Uint16(eh[18:]),
		Version:   le.Uint32(eh[20:]),
		Entry:     le.Uint64(eh[24:]),
		Phoff:     le.Uint64(eh[32:]),
		Shoff:     le.Uint64(eh[40:]),
		Flags:     le.Uint32(eh[48:]),
		Ehsize:    le.Uint16(eh[52:]),
		Phentsize: le.Uint16(eh[54:]),
		Phnum:     le.Uint16(eh[56:]),
		Shentsize: le.Uint16(eh[58:]),
		Shnum:     le.Uint16(eh[60:]),
		Shstrndx:  le.Uint16(eh[62:]),
	}
	switch typ := elf.Type(hdr.Type); typ {
	case elf.ET_EXEC, elf.ET_DYN:
	case elf.ET_REL:
		return nil, nil, errorf(WrongType, "relocatable object file (ET_REL), not an executable")
	case elf.ET_CORE:
		return nil, nil, errorf(WrongType, "core dump (ET_CORE), not an executable")
	default:
		return nil, nil, errorf(WrongType, fmt.Sprintf("ELF type %#x, not an executable", hdr.Type))
	}
	if hdr.Phnum == 0 {
		return nil, nil, errorf(BadSegment, "no program headers")
	}
	if hdr.Phentsize != phdrSize {
		return nil, nil, errorf(BadHeader, fmt.Sprintf("invalid ELF header: e_phentsize %d, want %d", hdr.Phentsize, phdrSize))
	}
	if hdr.Phnum > maxPhnum {
		return nil, nil, errorf(BadHeader, fmt.Sprintf("invalid ELF header: %d program headers (at most %d)", hdr.Phnum, maxPhnum))
	}
	phb, err := f.read(hdr.Phoff, uint64(hdr.Phnum)*phdrSize, "program header table")
	if err != nil {
		return nil, nil, err
	}
	progs := make([]elf.Prog64, hdr.Phnum)
	for i := range progs {
		b := phb[i*phdrSize:]
		progs[i] = elf.Prog64{
			Type:   le.Uint32(b[0:]),
			Flags:  le.Uint32(b[4:]),
			Off:    le.Uint64(b[8:]),
			Vaddr:  le.Uint64(b[16:]),
			Paddr:  le.Uint64(b[24:]),
			Filesz: le.Uint64(b[32:]),
			Memsz:  le.Uint64(b[40:]),
			Align:  le.Uint64(b[48:]),
		}
	}

	img := &Image{Phnum: int(hdr.Phnum), Phent: phdrSize, Static: true}

	// Interpreter and DT_NEEDED: a dynamically linked program is named as
	// such even if other things are wrong with it.
	var dyn *elf.Prog64
	var phdrProg *elf.Prog64
	for i := range progs {
		p := &progs[i]
		switch elf.ProgType(p.Type) {
		case elf.PT_INTERP:
			name, err := interpName(f, p)
			if err != nil {
				return nil, nil, err
			}
			if !opt.AllowInterp {
				return nil, nil, errorf(Dynamic, fmt.Sprintf("dynamically linked (interpreter %s); only static programs are supported", name))
			}
			img.Interp, img.Static = name, false
		case elf.PT_DYNAMIC:
			if dyn == nil {
				dyn = p
			}
		case elf.PT_GNU_STACK:
			img.StackExec = p.Flags&uint32(elf.PF_X) != 0
		case elf.PT_PHDR:
			if phdrProg == nil {
				phdrProg = p
			}
		}
	}
	if dyn != nil && img.Interp == "" {
		if err := checkNeeded(f, dyn, progs); err != nil {
			return nil, nil, err
		}
	}

	// PT_LOADs.
	var loads []load
	var align uint64
	for i, p := range progs {
		if elf.ProgType(p.Type) != elf.PT_LOAD {
			continue
		}
		if p.Filesz > p.Memsz {
			return nil, nil, errorf(BadSegment, fmt.Sprintf("PT_LOAD %d: p_filesz %#x > p_memsz %#x", i, p.Filesz, p.Memsz))
		}
		if !f.in(p.Off, p.Filesz) {
			return nil, nil, errorf(Truncated, fmt.Sprintf("truncated ELF file: PT_LOAD %d data [%#x, +%#x) beyond end of file (%d bytes)", i, p.Off, p.Filesz, f.size))
		}
		if p.Off%pageSize != p.Vaddr%pageSize {
			return nil, nil, errorf(BadSegment, fmt.Sprintf("PT_LOAD %d: p_offset %#x and p_vaddr %#x differ modulo the page size", i, p.Off, p.Vaddr))
		}
		if p.Vaddr+p.Memsz < p.Vaddr {
			return nil, nil, errorf(BadSegment, fmt.Sprintf("PT_LOAD %d: p_vaddr %#x + p_memsz %#x overflows", i, p.Vaddr, p.Memsz))
		}
		if p.Memsz == 0 {
			continue
		}
		if p.Align > align && p.Align&(p.Align-1) == 0 && p.Align <= maxAlign {
			align = p.Align
		}
		loads = append(loads, load{idx: i, prog: p, prot: progProt(p.Flags)})
	}
	if len(loads) == 0 {
		return nil, nil, errorf(BadSegment, "no loadable segment (PT_LOAD)")
	}
	minVaddr := loads[0].prog.Vaddr
	for _, l := range loads {
		minVaddr = min(minVaddr, l.prog.Vaddr)
	}
	minPage := pageDown(minVaddr)

	// Relocation: start = base + (vaddr - minPage).
	var base uint64
	if elf.Type(hdr.Type) == elf.ET_DYN {
		base = opt.PIEBase
		if base == 0 {
			base = DefaultPIEBase
		}
		base = pageDown(base)
		if align > pageSize {
			base &^= align - 1
		}
	} else {
		base = minPage
	}
	img.Base = base - minPage
	for i := range loads {
		l := &loads[i]
		rel := l.prog.Vaddr - minPage
		l.start = base + rel
		l.end = l.start + l.prog.Memsz
		if l.start < base || l.end < l.start {
			return nil, nil, errorf(BadSegment, fmt.Sprintf("PT_LOAD %d: address overflow", l.idx))
		}
		if l.end > UserEnd {
			return nil, nil, errorf(BadSegment, fmt.Sprintf("PT_LOAD %d: [%#x, %#x) extends beyond the user address space (%#x)", l.idx, l.start, l.end, uint64(UserEnd)))
		}
		l.pstart = pageDown(l.start)
		l.pend, _ = pageUp(l.end) // l.end <= UserEnd: no overflow
	}
	sort.SliceStable(loads, func(i, j int) bool { return loads[i].start < loads[j].start })
	for i := 1; i < len(loads); i++ {
		if loads[i].start < loads[i-1].end {
			return nil, nil, errorf(BadSegment, fmt.Sprintf("PT_LOAD %d [%#x, %#x) and PT_LOAD %d [%#x, %#x) overlap",
				loads[i-1].idx, loads[i-1].start, loads[i-1].end, loads[i].idx, loads[i].start, loads[i].end))
		}
	}

	// Merge page ranges that share pages.
	var segs []Segment
	for _, l := range loads {
		if n := len(segs); n > 0 && l.pstart < segs[n-1].VA+segs[n-1].Memsz {
			s := &segs[n-1]
			s.Memsz = max(s.VA+s.Memsz, l.pend) - s.VA
			s.Prot |= l.prot
			continue
		}
		segs = append(segs, Segment{VA: l.pstart, Memsz: l.pend - l.pstart, Prot: l.prot})
	}
	var total uint64
	for _, s := range segs {
		for _, fr := range opt.Forbidden {
			if fr.End > fr.Start && s.VA < fr.End && fr.Start < s.VA+s.Memsz {
				return nil, nil, errorf(Overlap, fmt.Sprintf("segment [%#x, %#x) overlaps forbidden range [%#x, %#x)", s.VA, s.VA+s.Memsz, fr.Start, fr.End))
			}
		}
		total += s.Memsz // sum < UserEnd: no overflow
	}
	if opt.MaxMem != 0 && total > opt.MaxMem {
		return nil, nil, errorf(TooLarge, fmt.Sprintf("program image too large: %d bytes of memory, limit %d", total, opt.MaxMem))
	}
	img.Segments = segs
	last := segs[len(segs)-1]
	img.Brk = last.VA + last.Memsz
	img.Entry = hdr.Entry + img.Base

	// AT_PHDR.
	tableSize := uint64(hdr.Phnum) * phdrSize
	if phdrProg != nil {
		for _, l := range loads {
			if phdrProg.Vaddr >= l.prog.Vaddr && phdrProg.Vaddr-l.prog.Vaddr <= l.prog.Memsz &&
				tableSize <= l.prog.Memsz-(phdrProg.Vaddr-l.prog.Vaddr) {
				img.Phdr = phdrProg.Vaddr + img.Base
				break
			}
		}
	}
	if img.Phdr == 0 {
		for _, l := range loads {
			if l.prog.Off <= hdr.Phoff && hdr.Phoff-l.prog.Off < l.prog.Filesz {
				img.Phdr = l.start + (hdr.Phoff - l.prog.Off)
				break
			}
		}
	}
	return img, loads, nil
}

// interpName reads the PT_INTERP path for the Dynamic error message.
func interpName(f *file, p *elf.Prog64) (string, error) {
	n := min(p.Filesz, pathMax)
	if !f.in(p.Off, n) {
		return "", errorf(Truncated, fmt.Sprintf("truncated ELF file: PT_INTERP [%#x, +%#x) beyond end of file (%d bytes)", p.Off, p.Filesz, f.size))
	}
	b, err := f.read(p.Off, n, "PT_INTERP")
	if err != nil {
		return "", err
	}
	for i, c := range b {
		if c == 0 {
			b = b[:i]
			break
		}
	}
	if len(b) == 0 {
		return `""`, nil
	}
	return oneLine(string(b)), nil
}

// checkNeeded refuses a program whose PT_DYNAMIC has DT_NEEDED entries
// (shared libraries without an interpreter to load them).
func checkNeeded(f *file, dyn *elf.Prog64, progs []elf.Prog64) error {
	if !f.in(dyn.Off, dyn.Filesz) {
		return errorf(Truncated, fmt.Sprintf("truncated ELF file: PT_DYNAMIC [%#x, +%#x) beyond end of file (%d bytes)", dyn.Off, dyn.Filesz, f.size))
	}
	b, err := f.read(dyn.Off, dyn.Filesz-dyn.Filesz%dynEntSize, "PT_DYNAMIC")
	if err != nil {
		return err
	}
	le := binary.LittleEndian
	var strtab uint64
	var haveStrtab bool
	var needed []uint64
	for ; len(b) >= dynEntSize; b = b[dynEntSize:] {
		tag, val := elf.DynTag(le.Uint64(b)), le.Uint64(b[8:])
		if tag == elf.DT_NULL {
			break
		}
		switch tag {
		case elf.DT_NEEDED:
			needed = append(needed, val)
		case elf.DT_STRTAB:
			strtab, haveStrtab = val, true
		}
	}
	if len(needed) == 0 {
		return nil
	}
	name := "shared libraries"
	if haveStrtab {
		if s, ok := dynString(f, progs, strtab, needed[0]); ok {
			name = s
			if len(needed) > 1 {
				name += fmt.Sprintf(" and %d more", len(needed)-1)
			}
		}
	}
	return errorf(Dynamic, fmt.Sprintf("dynamically linked (needs %s but has no interpreter); only static programs are supported", name))
}

// dynString reads the NUL-terminated string at strtab+off (a virtual
// address) from the file data of the PT_LOAD containing it.
func dynString(f *file, progs []elf.Prog64, strtab, off uint64) (string, bool) {
	va := strtab + off
	if va < strtab {
		return "", false
	}
	for _, p := range progs {
		if elf.ProgType(p.Type) != elf.PT_LOAD || va < p.Vaddr || va-p.Vaddr >= p.Filesz {
			continue
		}
		fo := p.Off + (va - p.Vaddr)
		n := min(p.Filesz-(va-p.Vaddr), 256)
		if !f.in(fo, n) {
			return "", false
		}
		b, err := f.read(fo, n, "DT_NEEDED name")
		if err != nil {
			return "", false
		}
		for i, c := range b {
			if c == 0 {
				if i == 0 {
					return "", false
				}
				return oneLine(string(b[:i])), true
			}
		}
		return "", false
	}
	return "", false
}
