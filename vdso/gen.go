//go:build ignore

// gen.go writes image_gen.go: the vDSO image. It assembles code.asm with
// GNU as (binutils, installed with gcc by scripts/setup) into an object
// file, takes its .text and symbols, and writes the shared object around
// them itself, so no compiler or linker version shapes the result:
//
//	ELF header, PT_LOAD (the whole image, R+X) and PT_DYNAMIC
//	.hash (DT_HASH), .dynsym, .dynstr, .gnu.version, .gnu.version_d
//	.dynamic, .text, .shstrtab, section headers
//
// The image is linked at 0 (position-independent: the code reaches the
// vvar page RIP-relatively, TEXT_TO_VVAR bytes from its .text).
package main

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"unsafe"

	"yolk/vdso"
)

const (
	soname  = "linux-vdso.so.1"
	version = "LINUX_2.6"
)

// exported are the functions code.asm defines, each exported under its
// own name (global) and without the __vdso_ prefix (weak), as Linux does.
var exported = []string{
	"__vdso_clock_gettime",
	"__vdso_gettimeofday",
	"__vdso_time",
	"__vdso_getcpu",
	"__vdso_clock_getres",
}

var le = binary.LittleEndian

func main() {
	log.SetFlags(0)
	log.SetPrefix("vdso/gen: ")

	type dsym struct {
		name string
		bind elf.SymBind
		fn   string // the code.asm symbol it names
	}
	syms := []dsym{{}} // index 0: the null symbol
	for _, f := range exported {
		syms = append(syms, dsym{f, elf.STB_GLOBAL, f}, dsym{strings.TrimPrefix(f, "__vdso_"), elf.STB_WEAK, f})
	}

	// .dynstr
	var dynstr bytes.Buffer
	dynstr.WriteByte(0)
	str := func(s string) uint32 {
		if i := bytes.Index(dynstr.Bytes(), append([]byte(s), 0)); i > 0 && dynstr.Bytes()[i-1] == 0 {
			return uint32(i)
		}
		off := dynstr.Len()
		dynstr.WriteString(s)
		dynstr.WriteByte(0)
		return uint32(off)
	}
	sonameOff, versionOff := str(soname), str(version)
	nameOff := make([]uint32, len(syms))
	for i, s := range syms[1:] {
		nameOff[i+1] = str(s.name)
	}

	// .hash: the SysV hash table (gABI "Hash Table").
	nbucket := uint32(7)
	buckets := make([]uint32, nbucket)
	chains := make([]uint32, len(syms))
	for i := len(syms) - 1; i >= 1; i-- { // chains keep index order
		h := elfHash(syms[i].name) % nbucket
		chains[i] = buckets[h]
		buckets[h] = uint32(i)
	}
	var hash bytes.Buffer
	binary.Write(&hash, le, []uint32{nbucket, uint32(len(syms))})
	binary.Write(&hash, le, buckets)
	binary.Write(&hash, le, chains)

	// .gnu.version: every symbol but the null one at index 2 (LINUX_2.6).
	var versym bytes.Buffer
	for i := range syms {
		v := uint16(2)
		if i == 0 {
			v = 0
		}
		binary.Write(&versym, le, v)
	}

	// .gnu.version_d: 1 the file itself (VER_FLG_BASE), 2 LINUX_2.6.
	const verdefSize, verdauxSize = 20, 8
	var verdef bytes.Buffer
	for i, name := range []string{soname, version} {
		var flags uint16
		next := uint32(verdefSize + verdauxSize)
		if i == 0 {
			flags = 1 // VER_FLG_BASE
		} else {
			next = 0
		}
		off := sonameOff
		if i == 1 {
			off = versionOff
		}
		binary.Write(&verdef, le, struct {
			Version, Flags, Ndx, Cnt uint16
			Hash, Aux, Next          uint32
		}{1, flags, uint16(i + 1), 1, elfHash(name), verdefSize, next})
		binary.Write(&verdef, le, [2]uint32{off, 0})
	}

	// Layout up to .text: everything but .text's size is known now.
	var img bytes.Buffer
	at := func(align int) uint64 {
		for img.Len()%align != 0 {
			img.WriteByte(0)
		}
		return uint64(img.Len())
	}
	const nphdr = 2
	img.Write(make([]byte, 64+nphdr*56))
	hashOff := at(8)
	img.Write(hash.Bytes())
	dynsymOff := at(8)
	img.Write(make([]byte, len(syms)*24)) // filled in once .text is placed
	dynstrOff := at(1)
	img.Write(dynstr.Bytes())
	versymOff := at(2)
	img.Write(versym.Bytes())
	verdefOff := at(8)
	img.Write(verdef.Bytes())
	dynamicOff := at(8)
	dyn := [][2]uint64{
		{uint64(elf.DT_SONAME), uint64(sonameOff)},
		{uint64(elf.DT_HASH), hashOff},
		{uint64(elf.DT_SYMTAB), dynsymOff},
		{uint64(elf.DT_SYMENT), 24},
		{uint64(elf.DT_STRTAB), dynstrOff},
		{uint64(elf.DT_STRSZ), uint64(dynstr.Len())},
		{uint64(elf.DT_VERSYM), versymOff},
		{uint64(elf.DT_VERDEF), verdefOff},
		{uint64(elf.DT_VERDEFNUM), 2},
		{uint64(elf.DT_NULL), 0},
	}
	binary.Write(&img, le, dyn)
	textOff := at(16)

	text, fns := assemble(int64(textOff))
	img.Write(text)
	textEnd := uint64(img.Len())

	shstrOff := at(1)
	var shstr bytes.Buffer
	shstr.WriteByte(0)
	sname := func(s string) uint32 {
		off := shstr.Len()
		shstr.WriteString(s)
		shstr.WriteByte(0)
		return uint32(off)
	}
	const (
		shHash = 1 + iota
		shDynsym
		shDynstr
		shVersym
		shVerdef
		shDynamic
		shText
		shShstrtab
		nsh
	)
	shdrs := make([]elf.Section64, nsh)
	sec := func(i int, name string, typ elf.SectionType, flags elf.SectionFlag, off, size uint64, link, info uint32, align, entsize uint64) {
		shdrs[i] = elf.Section64{Name: sname(name), Type: uint32(typ), Flags: uint64(flags),
			Addr: off, Off: off, Size: size, Link: link, Info: info, Addralign: align, Entsize: entsize}
	}
	sec(shHash, ".hash", elf.SHT_HASH, elf.SHF_ALLOC, hashOff, uint64(hash.Len()), shDynsym, 0, 8, 4)
	sec(shDynsym, ".dynsym", elf.SHT_DYNSYM, elf.SHF_ALLOC, dynsymOff, uint64(len(syms)*24), shDynstr, 1, 8, 24)
	sec(shDynstr, ".dynstr", elf.SHT_STRTAB, elf.SHF_ALLOC, dynstrOff, uint64(dynstr.Len()), 0, 0, 1, 0)
	sec(shVersym, ".gnu.version", elf.SHT_GNU_VERSYM, elf.SHF_ALLOC, versymOff, uint64(versym.Len()), shDynsym, 0, 2, 2)
	sec(shVerdef, ".gnu.version_d", elf.SHT_GNU_VERDEF, elf.SHF_ALLOC, verdefOff, uint64(verdef.Len()), shDynstr, 2, 8, 0)
	sec(shDynamic, ".dynamic", elf.SHT_DYNAMIC, elf.SHF_ALLOC|elf.SHF_WRITE, dynamicOff, uint64(len(dyn)*16), shDynstr, 0, 8, 16)
	sec(shText, ".text", elf.SHT_PROGBITS, elf.SHF_ALLOC|elf.SHF_EXECINSTR, textOff, textEnd-textOff, 0, 0, 16, 0)
	sec(shShstrtab, ".shstrtab", elf.SHT_STRTAB, 0, shstrOff, 0, 0, 0, 1, 0)
	shdrs[shShstrtab].Size = uint64(shstr.Len())
	shdrs[shShstrtab].Addr = 0
	img.Write(shstr.Bytes())
	shOff := at(8)
	binary.Write(&img, le, shdrs)
	out := img.Bytes()

	// .dynsym
	for i, s := range syms[1:] {
		fn, ok := fns[s.fn]
		if !ok {
			log.Fatalf("code.asm does not define %s", s.fn)
		}
		sym := elf.Sym64{Name: nameOff[i+1], Info: elf.ST_INFO(s.bind, elf.STT_FUNC), Shndx: shText,
			Value: textOff + fn.Value, Size: fn.Size}
		var b bytes.Buffer
		binary.Write(&b, le, sym)
		copy(out[dynsymOff+uint64(i+1)*24:], b.Bytes())
	}

	// Headers.
	var h bytes.Buffer
	binary.Write(&h, le, elf.Header64{
		Ident: [16]byte{0x7f, 'E', 'L', 'F', byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT), byte(elf.ELFOSABI_NONE)},
		Type:  uint16(elf.ET_DYN), Machine: uint16(elf.EM_X86_64), Version: uint32(elf.EV_CURRENT),
		Phoff: 64, Shoff: shOff, Ehsize: 64, Phentsize: 56, Phnum: nphdr,
		Shentsize: 64, Shnum: nsh, Shstrndx: shShstrtab,
	})
	binary.Write(&h, le, []elf.Prog64{
		{Type: uint32(elf.PT_LOAD), Flags: uint32(elf.PF_R | elf.PF_X), Filesz: textEnd, Memsz: textEnd, Align: 4096},
		{Type: uint32(elf.PT_DYNAMIC), Flags: uint32(elf.PF_R), Off: dynamicOff, Vaddr: dynamicOff, Paddr: dynamicOff,
			Filesz: uint64(len(dyn) * 16), Memsz: uint64(len(dyn) * 16), Align: 8},
	})
	copy(out, h.Bytes())
	if len(out) > 2*4096 {
		log.Fatalf("image is %d bytes: more than two pages", len(out))
	}
	write(out)
}

// assemble runs GNU as on code.asm with the vvar layout and the distance
// from .text to the vvar page (textOff: where .text sits in the image) and
// returns the machine code and its function symbols.
func assemble(textOff int64) ([]byte, map[string]elf.Symbol) {
	dir, err := os.MkdirTemp("", "vdso")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	var v vdso.VVar
	defs := []struct {
		name string
		val  int64
	}{
		{"VV_SEQ", int64(unsafe.Offsetof(v.Seq))},
		{"VV_TSC_BASE", int64(unsafe.Offsetof(v.TSCBase))},
		{"VV_NS_BASE", int64(unsafe.Offsetof(v.NsBase))},
		{"VV_MULT", int64(unsafe.Offsetof(v.Mult))},
		{"VV_SHIFT", int64(unsafe.Offsetof(v.Shift))},
		{"VV_WALL_OFFSET", int64(unsafe.Offsetof(v.WallOffset))},
		{"VV_GETCPU", int64(unsafe.Offsetof(v.GetCPU))},
		{"GETCPU_RDTSCP", vdso.GetCPURDTSCP},
		{"GETCPU_RDPID", vdso.GetCPURDPID},
		{"TEXT_TO_VVAR", -vdso.VVarSize - textOff},
	}
	obj := filepath.Join(dir, "code.o")
	args := []string{"--64", "-o", obj}
	for _, d := range defs {
		args = append(args, "--defsym", fmt.Sprintf("%s=%d", d.name, d.val))
	}
	cmd := exec.Command("as", append(args, "code.asm")...)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		log.Fatalf("as: %v", err)
	}
	f, err := elf.Open(obj)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	for _, s := range f.Sections {
		if s.Type == elf.SHT_RELA || s.Type == elf.SHT_REL {
			log.Fatalf("code.asm needs relocations (%s): the image must be position-independent", s.Name)
		}
		if s.Flags&elf.SHF_ALLOC != 0 && s.Size != 0 && s.Name != ".text" {
			log.Fatalf("code.asm has a non-empty %s section: only .text is copied", s.Name)
		}
	}
	text, err := f.Section(".text").Data()
	if err != nil {
		log.Fatal(err)
	}
	syms, err := f.Symbols()
	if err != nil {
		log.Fatal(err)
	}
	fns := map[string]elf.Symbol{}
	for _, s := range syms {
		if elf.ST_TYPE(s.Info) == elf.STT_FUNC && elf.ST_BIND(s.Info) == elf.STB_GLOBAL {
			fns[s.Name] = s
		}
	}
	return text, fns
}

// elfHash is the System V ABI's symbol hash (gABI, "Hash Table").
func elfHash(name string) uint32 {
	var h uint32
	for i := 0; i < len(name); i++ {
		h = h<<4 + uint32(name[i])
		if g := h & 0xf0000000; g != 0 {
			h ^= g >> 24
		}
		h &^= 0xf0000000
	}
	return h
}

func write(img []byte) {
	var b bytes.Buffer
	b.WriteString("// Code generated by gen.go from code.asm; DO NOT EDIT.\n\n")
	b.WriteString("package vdso\n\n")
	fmt.Fprintf(&b, "// Image is the vDSO, an ELF shared object of %d bytes linked at 0.\n", len(img))
	b.WriteString("var Image = []byte{")
	for i, c := range img {
		if i%16 == 0 {
			b.WriteString("\n\t")
		} else {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "0x%02x,", c)
	}
	b.WriteString("\n}\n")
	if err := os.WriteFile("image_gen.go", b.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
}
