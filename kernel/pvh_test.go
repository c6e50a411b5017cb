package kernel

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
)

// physMap is fake physical memory: regions of bytes by base address.
// Reads that are not wholly inside one region fail.
type physMap map[uint64][]byte

func (m physMap) read(phys uint64, n int) []byte {
	for base, b := range m {
		if phys >= base && phys-base <= uint64(len(b)) && uint64(n) <= uint64(len(b))-(phys-base) {
			off := phys - base
			return b[off : off+uint64(n) : off+uint64(n)]
		}
	}
	return nil
}

// hvmStartInfo is the fields of struct hvm_start_info that yolk reads.
type hvmStartInfo struct {
	magic, version, flags, nrModules uint32
	modlist, cmdline, rsdp, memmap   uint64
	memmapEntries                    uint32
}

func (h hvmStartInfo) bytes() []byte {
	b := make([]byte, 56)
	le := binary.LittleEndian
	le.PutUint32(b[0:], h.magic)
	le.PutUint32(b[4:], h.version)
	le.PutUint32(b[8:], h.flags)
	le.PutUint32(b[12:], h.nrModules)
	le.PutUint64(b[16:], h.modlist)
	le.PutUint64(b[24:], h.cmdline)
	le.PutUint64(b[32:], h.rsdp)
	le.PutUint64(b[40:], h.memmap)
	le.PutUint32(b[48:], h.memmapEntries)
	le.PutUint32(b[52:], 0xffffffff) // reserved: must be ignored
	return b
}

func memmapBytes(rs []MemRegion) []byte {
	var b []byte
	for _, r := range rs {
		b = binary.LittleEndian.AppendUint64(b, r.Addr)
		b = binary.LittleEndian.AppendUint64(b, r.Size)
		b = binary.LittleEndian.AppendUint32(b, r.Type)
		b = binary.LittleEndian.AppendUint32(b, 0xaaaaaaaa) // reserved
	}
	return b
}

func modlistBytes(ms []Module) []byte {
	var b []byte
	for i, m := range ms {
		b = binary.LittleEndian.AppendUint64(b, m.Addr)
		b = binary.LittleEndian.AppendUint64(b, m.Size)
		b = binary.LittleEndian.AppendUint64(b, 0x9100+uint64(i)) // module cmdline_paddr
		b = binary.LittleEndian.AppendUint64(b, 0xbbbbbbbbbbbbbbbb)
	}
	return b
}

const (
	siAddr = 0x6000
	// Above 4 GiB: all 64 bits of the pointers count.
	memmapAddr  = 0x300007000
	modlistAddr = 0x100008000
	cmdlineAddr = 0x200009000
	rsdpAddr    = 0xf5a40
)

var testMemmap = []MemRegion{
	{0, 0x9fc00, e820RAM},
	{0xf0000, 0x10000, 2},
	{0x100000, 0x7ff00000, e820RAM},
}

var testModule = Module{Addr: 0x3f000000, Size: 0x123456}

// testPhys returns fake memory holding a complete version-1 start_info
// and the header, so that tests can change fields before storing it.
func testPhys(cmdline string) (physMap, hvmStartInfo) {
	h := hvmStartInfo{
		magic: pvhMagic, version: 1, flags: 0, nrModules: 1,
		modlist: modlistAddr, cmdline: cmdlineAddr, rsdp: rsdpAddr,
		memmap: memmapAddr, memmapEntries: uint32(len(testMemmap)),
	}
	m := physMap{
		memmapAddr:  memmapBytes(testMemmap),
		modlistAddr: modlistBytes([]Module{testModule}),
		cmdlineAddr: []byte(cmdline),
	}
	return m, h
}

func parse(m physMap, h hvmStartInfo) (StartInfo, bool) {
	m[siAddr] = h.bytes()
	var si StartInfo
	ok := ParseStartInfo(m.read, siAddr, &si)
	return si, ok
}

func TestParseStartInfo(t *testing.T) {
	m, h := testPhys("console=ttyS0 init=/bin/sh\x00stale bytes")
	h.flags = 0xffffffff // flags do not matter
	si, ok := parse(m, h)
	if !ok {
		t.Fatal("ParseStartInfo = false")
	}
	if si.Version != 1 {
		t.Errorf("Version = %d, want 1", si.Version)
	}
	if si.RSDP != rsdpAddr {
		t.Errorf("RSDP = %#x, want %#x", si.RSDP, rsdpAddr)
	}
	if si.NMemmap != 3 {
		t.Fatalf("NMemmap = %d, want 3", si.NMemmap)
	}
	for i, want := range testMemmap {
		if si.Memmap[i] != want {
			t.Errorf("Memmap[%d] = %+v, want %+v", i, si.Memmap[i], want)
		}
	}
	if si.Memmap[3] != (MemRegion{}) {
		t.Errorf("Memmap[3] = %+v, want zero", si.Memmap[3])
	}
	if si.NModules != 1 || si.Modules[0] != testModule {
		t.Errorf("modules = %d %+v, want 1 %+v", si.NModules, si.Modules[0], testModule)
	}
	if got := string(si.Cmdline[:si.CmdlineLen]); got != "console=ttyS0 init=/bin/sh" {
		t.Errorf("Cmdline = %q", got)
	}
	if si.Cmdline[si.CmdlineLen] != 0 {
		t.Errorf("bytes after the NUL were copied: %q", si.Cmdline[:si.CmdlineLen+5])
	}
}

func TestParseStartInfoFields(t *testing.T) {
	cases := []struct {
		name      string
		mod       func(m physMap, h *hvmStartInfo)
		ok        bool
		nmemmap   int
		nmodules  int
		cmdline   string
		checkMore func(t *testing.T, si *StartInfo)
	}{
		{"valid", func(physMap, *hvmStartInfo) {}, true, 3, 1, "root=/dev/vda", nil},
		{"version 0", func(_ physMap, h *hvmStartInfo) { h.version = 0 }, false, 0, 0, "", nil},
		{"version 2", func(_ physMap, h *hvmStartInfo) { h.version = 2 }, true, 3, 1, "root=/dev/vda", nil},
		{"bad magic", func(_ physMap, h *hvmStartInfo) { h.magic = pvhMagic ^ 1 }, false, 0, 0, "", nil},
		{"byte-swapped magic", func(_ physMap, h *hvmStartInfo) { h.magic = 0x78c56e33 }, false, 0, 0, "", nil},
		{"unreadable memmap", func(m physMap, _ *hvmStartInfo) { delete(m, memmapAddr) }, false, 0, 0, "", nil},
		{"memmap entry cut short", func(m physMap, _ *hvmStartInfo) {
			m[memmapAddr] = m[memmapAddr][:3*24-1]
		}, false, 0, 0, "", nil},
		{"memmap pointer wrong", func(_ physMap, h *hvmStartInfo) { h.memmap += 0x100000000 }, false, 0, 0, "", nil},
		{"unreadable modlist", func(m physMap, _ *hvmStartInfo) { delete(m, modlistAddr) }, false, 0, 0, "", nil},
		{"no modules", func(m physMap, h *hvmStartInfo) { h.nrModules = 0; delete(m, modlistAddr) }, true, 3, 0, "root=/dev/vda", nil},
		{"empty memmap", func(m physMap, h *hvmStartInfo) { h.memmapEntries = 0; delete(m, memmapAddr) }, true, 0, 1, "root=/dev/vda", nil},
		{"no cmdline", func(m physMap, h *hvmStartInfo) {
			h.cmdline = 0
			m[0] = []byte("not a cmdline") // address 0 must not be read
		}, true, 3, 1, "", nil},
		{"unreadable cmdline", func(m physMap, _ *hvmStartInfo) { delete(m, cmdlineAddr) }, true, 3, 1, "", nil},
		{"cmdline runs into unreadable memory", func(m physMap, _ *hvmStartInfo) { m[cmdlineAddr] = []byte("abc") }, true, 3, 1, "abc", nil},
		{"empty cmdline", func(m physMap, _ *hvmStartInfo) { m[cmdlineAddr] = []byte{0, 'x'} }, true, 3, 1, "", nil},
		{"rsdp", func(_ physMap, h *hvmStartInfo) { h.rsdp = 0xdeadbeef00 }, true, 3, 1, "root=/dev/vda", func(t *testing.T, si *StartInfo) {
			if si.RSDP != 0xdeadbeef00 {
				t.Errorf("RSDP = %#x", si.RSDP)
			}
		}},
		{"too many memmap entries", func(m physMap, h *hvmStartInfo) {
			rs := make([]MemRegion, 70)
			for i := range rs {
				// All 32 bits of the type count.
				rs[i] = MemRegion{Addr: uint64(i) << 20, Size: 1 << 20, Type: uint32(i)<<24 | uint32(1+i%5)}
			}
			m[memmapAddr] = memmapBytes(rs[:maxMemmap]) // entries past the cap are never read
			h.memmapEntries = 70
		}, true, maxMemmap, 1, "root=/dev/vda", func(t *testing.T, si *StartInfo) {
			last := si.Memmap[maxMemmap-1]
			if want := (MemRegion{Addr: (maxMemmap - 1) << 20, Size: 1 << 20, Type: (maxMemmap-1)<<24 | (1 + (maxMemmap-1)%5)}); last != want {
				t.Errorf("last entry %+v, want %+v", last, want)
			}
		}},
		{"too many modules", func(m physMap, h *hvmStartInfo) {
			ms := []Module{{1, 2}, {3, 4}, {5, 6}, {7, 8}}
			m[modlistAddr] = modlistBytes(ms)
			h.nrModules = 0x10001 // a 16-bit read would see 1
		}, true, 3, maxModules, "root=/dev/vda", func(t *testing.T, si *StartInfo) {
			if si.Modules[3] != (Module{7, 8}) {
				t.Errorf("Modules[3] = %+v", si.Modules[3])
			}
		}},
		{"huge counts", func(_ physMap, h *hvmStartInfo) {
			h.memmapEntries = 0x10003 // capped to 64, not read as 16 bits (3)
		}, false, 0, 0, "", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, h := testPhys("root=/dev/vda\x00")
			c.mod(m, &h)
			si, ok := parse(m, h)
			if ok != c.ok {
				t.Fatalf("ParseStartInfo = %v, want %v", ok, c.ok)
			}
			if !ok {
				return
			}
			if si.NMemmap != c.nmemmap || si.NModules != c.nmodules {
				t.Errorf("NMemmap %d, NModules %d; want %d, %d", si.NMemmap, si.NModules, c.nmemmap, c.nmodules)
			}
			if got := string(si.Cmdline[:si.CmdlineLen]); got != c.cmdline {
				t.Errorf("Cmdline = %q, want %q", got, c.cmdline)
			}
			if c.checkMore != nil {
				c.checkMore(t, &si)
			}
		})
	}
}

func TestParseStartInfoUnreadable(t *testing.T) {
	var si StartInfo
	if ParseStartInfo(physMap{}.read, siAddr, &si) {
		t.Error("ParseStartInfo of unreadable memory = true")
	}
	// A header cut short is unreadable too.
	m, h := testPhys("x")
	m[siAddr] = h.bytes()[:55]
	if ParseStartInfo(m.read, siAddr, &si) {
		t.Error("ParseStartInfo of a 55-byte start_info = true")
	}
}

func TestParseStartInfoCmdlineLimit(t *testing.T) {
	cmdlineMax := len(StartInfo{}.Cmdline)
	cases := []struct {
		name string
		mem  string
		want string
	}{
		{"fills the buffer", strings.Repeat("a", cmdlineMax), strings.Repeat("a", cmdlineMax)},
		{"longer than the buffer", strings.Repeat("b", cmdlineMax-1) + "cdef", strings.Repeat("b", cmdlineMax-1) + "c"},
		{"NUL at the last byte", strings.Repeat("d", cmdlineMax-1) + "\x00", strings.Repeat("d", cmdlineMax-1)},
		{"one byte", "z\x00", "z"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, h := testPhys(c.mem)
			si, ok := parse(m, h)
			if !ok {
				t.Fatal("ParseStartInfo = false")
			}
			if si.CmdlineLen != len(c.want) || string(si.Cmdline[:si.CmdlineLen]) != c.want {
				t.Errorf("Cmdline = %d bytes %.20q..., want %d bytes", si.CmdlineLen, si.Cmdline[:si.CmdlineLen], len(c.want))
			}
		})
	}
}

func TestParseStartInfoReuse(t *testing.T) {
	// Parsing into a used StartInfo leaves no stale command line.
	var si StartInfo
	m, h := testPhys("first command line")
	m[siAddr] = h.bytes()
	ParseStartInfo(m.read, siAddr, &si)
	h.cmdline = 0
	h.nrModules = 0
	m[siAddr] = h.bytes()
	if !ParseStartInfo(m.read, siAddr, &si) {
		t.Fatal("second parse failed")
	}
	if si.CmdlineLen != 0 || si.NModules != 0 || si.NMemmap != 3 {
		t.Errorf("after reparse: CmdlineLen %d, NModules %d, NMemmap %d; want 0, 0, 3", si.CmdlineLen, si.NModules, si.NMemmap)
	}
}

// flatImage lays out a valid start_info in one byte slice at address 0,
// as a fuzzing seed: header at 0x10, memmap 0x100, modlist 0x200, cmdline
// 0x300.
func flatImage() []byte {
	b := make([]byte, 0x340)
	h := hvmStartInfo{magic: pvhMagic, version: 1, nrModules: 1, modlist: 0x200, cmdline: 0x300,
		rsdp: rsdpAddr, memmap: 0x100, memmapEntries: 3}
	copy(b[0x10:], h.bytes())
	copy(b[0x100:], memmapBytes(testMemmap))
	copy(b[0x200:], modlistBytes([]Module{testModule}))
	copy(b[0x300:], "console=ttyS0\x00")
	return b
}

func TestFlatImageSeed(t *testing.T) {
	// The fuzz seed must be valid, or the fuzzer starts from nothing.
	img := flatImage()
	var si StartInfo
	if !ParseStartInfo(flatReader(img), 0x10, &si) || si.NMemmap != 3 || si.NModules != 1 ||
		string(si.Cmdline[:si.CmdlineLen]) != "console=ttyS0" {
		t.Errorf("flat seed does not parse: %d %d %q", si.NMemmap, si.NModules, si.Cmdline[:si.CmdlineLen])
	}
}

func flatReader(mem []byte) PhysReader {
	return func(phys uint64, n int) []byte {
		if n < 0 || phys > uint64(len(mem)) || uint64(n) > uint64(len(mem))-phys {
			return nil
		}
		return mem[phys : phys+uint64(n)]
	}
}

func FuzzParseStartInfo(f *testing.F) {
	f.Add(flatImage(), uint16(0x10))
	f.Add(flatImage()[:0x60], uint16(0x10))
	f.Add([]byte{}, uint16(0))
	f.Add(make([]byte, 56), uint16(0))
	f.Fuzz(func(t *testing.T, mem []byte, at uint16) {
		var si StartInfo
		ok := ParseStartInfo(flatReader(mem), uint64(at), &si)
		if si.NMemmap < 0 || si.NMemmap > maxMemmap || si.NModules < 0 || si.NModules > maxModules ||
			si.CmdlineLen < 0 || si.CmdlineLen > len(si.Cmdline) {
			t.Fatalf("counts out of range: %d %d %d", si.NMemmap, si.NModules, si.CmdlineLen)
		}
		if !ok {
			return
		}
		le := binary.LittleEndian
		hdr := mem[at : int(at)+56]
		if le.Uint32(hdr) != pvhMagic || le.Uint32(hdr[4:]) == 0 {
			t.Fatalf("accepted magic %#x version %d", le.Uint32(hdr), le.Uint32(hdr[4:]))
		}
		if want := min(int(le.Uint32(hdr[48:])), maxMemmap); si.NMemmap != want {
			t.Fatalf("NMemmap %d, want %d", si.NMemmap, want)
		}
		if want := min(int(le.Uint32(hdr[12:])), maxModules); si.NModules != want {
			t.Fatalf("NModules %d, want %d", si.NModules, want)
		}
		mm := le.Uint64(hdr[40:])
		for i := 0; i < si.NMemmap; i++ {
			e := mem[mm+uint64(24*i):]
			want := MemRegion{le.Uint64(e), le.Uint64(e[8:]), le.Uint32(e[16:])}
			if si.Memmap[i] != want {
				t.Fatalf("Memmap[%d] = %+v, want %+v", i, si.Memmap[i], want)
			}
		}
		if bytes.IndexByte(si.Cmdline[:si.CmdlineLen], 0) >= 0 {
			t.Fatalf("NUL inside the command line %q", si.Cmdline[:si.CmdlineLen])
		}
		if cl := le.Uint64(hdr[24:]); si.CmdlineLen > 0 && !bytes.Equal(si.Cmdline[:si.CmdlineLen], mem[cl:cl+uint64(si.CmdlineLen)]) {
			t.Fatalf("command line %q is not the bytes at %#x", si.Cmdline[:si.CmdlineLen], cl)
		}
	})
}
