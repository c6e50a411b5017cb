// Package pvhnote post-processes the kernel ELF produced by the Go linker so
// that QEMU (and other PVH-capable loaders) can boot it directly with
// "-kernel" using the Xen PVH boot protocol.
//
// # Why
//
// The PVH boot protocol starts a guest in 32-bit protected mode, paging
// disabled, at a physical entry point that the loader finds in an ELF note:
// a note whose name is "Xen" and whose type is XEN_ELFNOTE_PHYS32_ENTRY (18).
// QEMU only takes the PVH path for an ELF64 "-kernel" when such a note is
// present in a PT_NOTE segment; otherwise it refuses the image (it is not a
// multiboot or Linux bzImage either).
//
// The Go linker offers no way to emit an arbitrary note, so Patch does it after
// the fact:
//
//   - It appends a single note (name "Xen\0", type 18) to the end of the file
//     and repoints the first PT_NOTE program header at it. The Go linker
//     always emits a PT_NOTE (for the Go build ID), so no program header table
//     has to grow or move. The build-ID note remains reachable through its
//     section header; only the segment view changes.
//   - The note descriptor holds the physical address of the entry symbol,
//     stored as an 8-byte little-endian value. The Xen headers define the
//     PHYS32_ENTRY value as a 32-bit address, but QEMU's read_pvh_start_addr
//     copies 8 bytes (a uint64) out of the descriptor, so a 4-byte descriptor
//     would leave the upper half to whatever bytes follow. An 8-byte
//     descriptor whose upper half is zero is correct for both readings.
//   - QEMU locates the descriptor at 12 + align_up(namesz, p_align) rather
//     than using the fixed 4-byte alignment from the ELF specification, so
//     the PT_NOTE must have p_align 4 (namesz 4 then needs no padding).
//   - The kernel is linked in the higher half but loaded low: QEMU's ELF
//     loader places PT_LOAD segments at p_paddr, which the Go linker sets
//     equal to p_vaddr. Patch rewrites p_paddr = p_vaddr - virtBase for every
//     PT_LOAD (and PT_PHDR) linked at or above virtBase.
//
// Patch is idempotent: when the first PT_NOTE already describes exactly one
// Xen PHYS32_ENTRY note, that note is rewritten in place instead of appending
// another, so patching a patched file returns identical bytes.
//
// # References
//
//   - Xen, xen/include/public/elfnote.h: XEN_ELFNOTE_PHYS32_ENTRY (18).
//   - Xen, docs/misc/pvh.pandoc: the PVH entry state and how the entry
//     point is advertised.
//   - QEMU, hw/i386/x86.c: read_pvh_start_addr (note lookup, descriptor
//     offset and size) and the ELF "-kernel" loading path.
package pvhnote

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// Note constants.
const (
	// XenElfnotePhys32Entry is XEN_ELFNOTE_PHYS32_ENTRY from Xen's
	// include/public/elfnote.h.
	XenElfnotePhys32Entry = 18

	// NoteName is the owner name of the note, without the terminating NUL.
	NoteName = "Xen"

	// NoteSize is the size in bytes of the note written by Patch:
	// 12-byte header, 4-byte name "Xen\0", 8-byte descriptor.
	NoteSize = 12 + 4 + 8

	noteNameSize = 4 // len("Xen\0")
	noteDescSize = 8 // uint64 physical entry address
	noteAlign    = 4 // PT_NOTE p_align; see the package documentation
	phdrSize64   = 56
	abi0Suffix   = ".abi0"
	maxPhysEntry = 1 << 32
)

// Errors returned by Patch. They are wrapped with details; test with errors.Is.
var (
	ErrNotELF          = errors.New("not a parsable ELF file")
	ErrClass           = errors.New("ELF class is not ELFCLASS64")
	ErrByteOrder       = errors.New("ELF data encoding is not little-endian")
	ErrMachine         = errors.New("ELF machine is not EM_X86_64")
	ErrType            = errors.New("ELF type is not ET_EXEC")
	ErrNoSymbol        = errors.New("entry symbol not found")
	ErrNoNote          = errors.New("no PT_NOTE program header")
	ErrBelowBase       = errors.New("address below virtual base")
	ErrEntryRange      = errors.New("physical entry address not below 4 GiB")
	ErrEntryNotInText  = errors.New("entry symbol not inside an executable PT_LOAD segment")
	ErrProgramHeaders  = errors.New("malformed program header table")
	errInternalParsing = errors.New("ELF parser failed")
)

// Patch returns a copy of the ELF executable in with a Xen PVH
// PHYS32_ENTRY note pointing at entrySymbol, and with the physical load
// addresses of its segments rewritten relative to virtBase (see the package
// documentation). entryPhys is the physical entry address stored in the note.
// The input slice is not modified.
//
// entrySymbol is looked up in the ELF symbol table. Because the Go linker
// names assembly (ABI0) functions with an ".abi0" suffix and may also emit an
// ABIInternal wrapper under the bare name, name+".abi0" is preferred when
// present; otherwise the exact name is used.
func Patch(in []byte, entrySymbol string, virtBase uint64) (out []byte, entryPhys uint64, err error) {
	f, err := parse(in)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()

	if f.Class != elf.ELFCLASS64 {
		return nil, 0, fmt.Errorf("pvhnote: %w (got %v)", ErrClass, f.Class)
	}
	if f.Data != elf.ELFDATA2LSB {
		return nil, 0, fmt.Errorf("pvhnote: %w (got %v)", ErrByteOrder, f.Data)
	}
	if f.Machine != elf.EM_X86_64 {
		return nil, 0, fmt.Errorf("pvhnote: %w (got %v)", ErrMachine, f.Machine)
	}
	if f.Type != elf.ET_EXEC {
		return nil, 0, fmt.Errorf("pvhnote: %w (got %v)", ErrType, f.Type)
	}

	// Locate the raw program header table; debug/elf does not expose it.
	le := binary.LittleEndian
	if len(in) < 64 {
		return nil, 0, fmt.Errorf("pvhnote: %w: file header truncated", ErrNotELF)
	}
	phoff := le.Uint64(in[32:40])
	phentsize := uint64(le.Uint16(in[54:56]))
	phnum := uint64(len(f.Progs))
	if phnum == 0 {
		return nil, 0, fmt.Errorf("pvhnote: %w", ErrNoNote)
	}
	if phentsize < phdrSize64 {
		return nil, 0, fmt.Errorf("pvhnote: %w: e_phentsize %d < %d", ErrProgramHeaders, phentsize, phdrSize64)
	}
	if phoff > uint64(len(in)) || (uint64(len(in))-phoff)/phentsize < phnum {
		return nil, 0, fmt.Errorf("pvhnote: %w: table [%#x, +%d*%d) exceeds file size %d",
			ErrProgramHeaders, phoff, phnum, phentsize, len(in))
	}
	phdr := func(i int) []byte {
		o := phoff + uint64(i)*phentsize
		return in[o : o+phdrSize64]
	}

	// Entry symbol.
	sym, err := findSymbol(f, entrySymbol)
	if err != nil {
		return nil, 0, err
	}
	if sym.Value < virtBase {
		return nil, 0, fmt.Errorf("pvhnote: %w: symbol %s at %#x < %#x", ErrBelowBase, sym.Name, sym.Value, virtBase)
	}
	entryPhys = sym.Value - virtBase
	if entryPhys >= maxPhysEntry {
		return nil, 0, fmt.Errorf("pvhnote: %w: symbol %s at %#x gives %#x", ErrEntryRange, sym.Name, sym.Value, entryPhys)
	}

	// Program headers: first PT_NOTE, PT_LOAD sanity, entry in text.
	noteIdx := -1
	inText := false
	for i := range f.Progs {
		p := phdr(i)
		typ := elf.ProgType(le.Uint32(p[0:4]))
		flags := elf.ProgFlag(le.Uint32(p[4:8]))
		vaddr := le.Uint64(p[16:24])
		memsz := le.Uint64(p[40:48])
		switch typ {
		case elf.PT_NOTE:
			if noteIdx < 0 {
				noteIdx = i
			}
		case elf.PT_LOAD:
			if vaddr < virtBase {
				return nil, 0, fmt.Errorf("pvhnote: %w: PT_LOAD segment %d at %#x < %#x", ErrBelowBase, i, vaddr, virtBase)
			}
			if flags&elf.PF_X != 0 && sym.Value >= vaddr && sym.Value-vaddr < memsz {
				inText = true
			}
		}
	}
	if noteIdx < 0 {
		return nil, 0, fmt.Errorf("pvhnote: %w", ErrNoNote)
	}
	if !inText {
		return nil, 0, fmt.Errorf("pvhnote: %w: %s at %#x", ErrEntryNotInText, sym.Name, sym.Value)
	}

	// Place the note: reuse an existing Xen note (idempotence) or append.
	np := phdr(noteIdx)
	noteOff, ok := existingXenNote(in, le.Uint64(np[8:16]), le.Uint64(np[32:40]))
	if ok {
		out = bytes.Clone(in)
	} else {
		noteOff = alignUp(uint64(len(in)), noteAlign)
		out = make([]byte, noteOff+NoteSize)
		copy(out, in)
	}
	n := out[noteOff : noteOff+NoteSize]
	le.PutUint32(n[0:4], noteNameSize)
	le.PutUint32(n[4:8], noteDescSize)
	le.PutUint32(n[8:12], XenElfnotePhys32Entry)
	copy(n[12:16], NoteName+"\x00")
	le.PutUint64(n[16:24], entryPhys)

	// Rewrite program headers in the output.
	ophdr := func(i int) []byte {
		o := phoff + uint64(i)*phentsize
		return out[o : o+phdrSize64]
	}
	p := ophdr(noteIdx)
	le.PutUint32(p[4:8], uint32(elf.PF_R))
	le.PutUint64(p[8:16], noteOff)
	le.PutUint64(p[16:24], 0)
	le.PutUint64(p[24:32], 0)
	le.PutUint64(p[32:40], NoteSize)
	le.PutUint64(p[40:48], NoteSize)
	le.PutUint64(p[48:56], noteAlign)
	for i := range f.Progs {
		p := ophdr(i)
		typ := elf.ProgType(le.Uint32(p[0:4]))
		if typ != elf.PT_LOAD && typ != elf.PT_PHDR {
			continue
		}
		vaddr := le.Uint64(p[16:24])
		if vaddr >= virtBase {
			le.PutUint64(p[24:32], vaddr-virtBase)
		}
	}
	return out, entryPhys, nil
}

// parse runs debug/elf over in, converting any panic from the parser on
// malformed input into an error.
func parse(in []byte) (f *elf.File, err error) {
	defer func() {
		if r := recover(); r != nil {
			f, err = nil, fmt.Errorf("pvhnote: %w: %w: %v", ErrNotELF, errInternalParsing, r)
		}
	}()
	f, err = elf.NewFile(bytes.NewReader(in))
	if err != nil {
		return nil, fmt.Errorf("pvhnote: %w: %w", ErrNotELF, err)
	}
	return f, nil
}

// findSymbol looks entrySymbol up in the symbol table, preferring the ABI0
// (assembly) symbol over a same-named ABIInternal wrapper.
func findSymbol(f *elf.File, name string) (sym elf.Symbol, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("pvhnote: %w: %w: %v", ErrNotELF, errInternalParsing, r)
		}
	}()
	syms, err := f.Symbols()
	if err != nil {
		return elf.Symbol{}, fmt.Errorf("pvhnote: %w: %s: reading symbol table: %w", ErrNoSymbol, name, err)
	}
	candidates := []string{name}
	if !strings.HasSuffix(name, abi0Suffix) {
		candidates = []string{name + abi0Suffix, name}
	}
	for _, c := range candidates {
		for _, s := range syms {
			if s.Name == c && s.Section != elf.SHN_UNDEF {
				return s, nil
			}
		}
	}
	return elf.Symbol{}, fmt.Errorf("pvhnote: %w: %s (tried %s)", ErrNoSymbol, name, strings.Join(candidates, ", "))
}

// existingXenNote reports whether the PT_NOTE segment at [off, off+size)
// holds exactly one note as written by Patch, returning its offset.
func existingXenNote(in []byte, off, size uint64) (uint64, bool) {
	if size != NoteSize || off%noteAlign != 0 || off > uint64(len(in)) || uint64(len(in))-off < NoteSize {
		return 0, false
	}
	n := in[off : off+NoteSize]
	le := binary.LittleEndian
	if le.Uint32(n[0:4]) != noteNameSize || le.Uint32(n[4:8]) != noteDescSize ||
		le.Uint32(n[8:12]) != XenElfnotePhys32Entry || string(n[12:16]) != NoteName+"\x00" {
		return 0, false
	}
	return off, true
}

func alignUp(v, a uint64) uint64 { return (v + a - 1) &^ (a - 1) }

// ErrNotTail is TrimTail's error for a named symbol that is not the last
// thing in the bss of its segment.
var ErrNotTail = errors.New("symbol is not at the end of its segment's bss")

// TrimTail returns a copy of the ELF executable in whose PT_LOAD segments
// end before the named bss symbols, each of which must be the last thing
// in its segment: a loader neither zeroes nor reserves that memory, and a
// kernel that backs its whole image with memory at boot (yolk) leaves it
// out. It is for buffers the program is known never to touch (Go's FIPS
// entropy scratch buffer, 32 MiB). Names not in the symbol table are
// skipped; a symbol already trimmed off is left as it is, so TrimTail is
// idempotent. trimmed is the number of bytes taken off.
func TrimTail(in []byte, names []string) (out []byte, trimmed uint64, err error) {
	f, err := parse(in)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	if f.Class != elf.ELFCLASS64 || f.Data != elf.ELFDATA2LSB || len(in) < 64 {
		return nil, 0, fmt.Errorf("pvhnote: %w: not a little-endian ELF64 file", ErrNotELF)
	}
	le := binary.LittleEndian
	phoff := le.Uint64(in[32:40])
	phentsize := uint64(le.Uint16(in[54:56]))
	phnum := uint64(len(f.Progs))
	if phentsize < phdrSize64 || phoff > uint64(len(in)) || (phnum > 0 && (uint64(len(in))-phoff)/phentsize < phnum) {
		return nil, 0, fmt.Errorf("pvhnote: %w", ErrProgramHeaders)
	}
	out = bytes.Clone(in)
	for _, name := range names {
		sym, err := findSymbol(f, name)
		if errors.Is(err, ErrNoSymbol) {
			continue
		}
		if err != nil {
			return nil, 0, err
		}
		found := false
		for i := uint64(0); i < phnum; i++ {
			p := out[phoff+i*phentsize:][:phdrSize64]
			vaddr, filesz, memsz := le.Uint64(p[16:24]), le.Uint64(p[32:40]), le.Uint64(p[40:48])
			if elf.ProgType(le.Uint32(p[0:4])) != elf.PT_LOAD || sym.Value < vaddr || sym.Value-vaddr > memsz {
				continue
			}
			found = true
			switch off := sym.Value - vaddr; {
			case off == memsz:
				// trimmed already
			case off < filesz || sym.Size > memsz || off != memsz-sym.Size:
				return nil, 0, fmt.Errorf("pvhnote: %w: %s at %#x (+%#x), segment [%#x, +%#x)", ErrNotTail, name, sym.Value, sym.Size, vaddr, memsz)
			default:
				le.PutUint64(p[40:48], off)
				trimmed += sym.Size
			}
			break
		}
		if !found {
			return nil, 0, fmt.Errorf("pvhnote: %w: %s at %#x is in no PT_LOAD segment", ErrNotTail, name, sym.Value)
		}
	}
	return out, trimmed, nil
}
