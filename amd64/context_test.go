package amd64_test

import (
	"encoding/binary"
	"reflect"
	"strings"
	"testing"
	"unsafe"

	"yolk/amd64"
)

func TestContextLayout(t *testing.T) {
	var c amd64.Context
	if s := unsafe.Sizeof(c); s%16 != 0 {
		t.Errorf("Sizeof(Context) = %d, not a multiple of 16 (FXSAVE alignment of the next Context)", s)
	}
	if o := unsafe.Offsetof(c.FX); o != 0 {
		t.Errorf("Offsetof(Context.FX) = %d, want 0", o)
	}
	if s := unsafe.Sizeof(c.FX); s != 512 {
		t.Errorf("Sizeof(FXArea) = %d, want 512", s)
	}
	if o := unsafe.Offsetof(c.Regs); o%8 != 0 || o < 512 {
		t.Errorf("Offsetof(Context.Regs) = %d, want 8-aligned after the FX area", o)
	}
}

func TestFrameIRETOrder(t *testing.T) {
	var f amd64.Frame
	// IRETQ pops RIP, CS, RFLAGS, RSP, SS from increasing addresses
	// (Intel SDM Vol. 3A 6.14.1, figure 6-9).
	offs := []struct {
		name string
		off  uintptr
	}{
		{"RIP", unsafe.Offsetof(f.RIP)},
		{"CS", unsafe.Offsetof(f.CS)},
		{"RFLAGS", unsafe.Offsetof(f.RFLAGS)},
		{"RSP", unsafe.Offsetof(f.RSP)},
		{"SS", unsafe.Offsetof(f.SS)},
	}
	for i := 1; i < len(offs); i++ {
		if offs[i].off != offs[i-1].off+8 {
			t.Errorf("%s at %d, want %d (8 bytes after %s)", offs[i].name, offs[i].off, offs[i-1].off+8, offs[i-1].name)
		}
	}
	if end := offs[len(offs)-1].off + 8; end != unsafe.Sizeof(f) {
		t.Errorf("SS ends at %d but Frame is %d bytes: the hardware frame must be last", end, unsafe.Sizeof(f))
	}
	// The error code sits just below RIP, as the CPU pushes it.
	if unsafe.Offsetof(f.ErrorCode)+8 != unsafe.Offsetof(f.RIP) {
		t.Errorf("ErrorCode at %d, RIP at %d: want ErrorCode immediately before RIP",
			unsafe.Offsetof(f.ErrorCode), unsafe.Offsetof(f.RIP))
	}
}

func TestFrameUser(t *testing.T) {
	cases := []struct {
		cs   uint64
		want bool
	}{
		{amd64.KernelCS, false},
		{amd64.UserCS, true},
		{0x2b, true},
		{0x08, false},
		{0x09, false}, // RPL 1 and 2 are not user mode
		{0x0a, false},
	}
	for _, c := range cases {
		f := amd64.Frame{CS: c.cs}
		if got := f.User(); got != c.want {
			t.Errorf("Frame{CS: %#x}.User() = %v, want %v", c.cs, got, c.want)
		}
	}
}

func TestInitFX(t *testing.T) {
	var fx amd64.FXArea
	for i := range fx {
		fx[i] = 0xa5 // InitFX must clear stale state
	}
	fx.InitFX()
	// Intel SDM Vol. 1 table 10-2: FCW at bytes 0-1, MXCSR at 24-27.
	if fcw := binary.LittleEndian.Uint16(fx[0:]); fcw != 0x37f {
		t.Errorf("FCW = %#x, want 0x37f", fcw)
	}
	if mxcsr := binary.LittleEndian.Uint32(fx[24:]); mxcsr != 0x1f80 {
		t.Errorf("MXCSR = %#x, want 0x1f80", mxcsr)
	}
	for i := range fx {
		if i < 2 || (i >= 24 && i < 32) {
			continue // FCW, MXCSR, MXCSR_MASK
		}
		if fx[i] != 0 {
			t.Fatalf("byte %d = %#x after InitFX, want 0", i, fx[i])
		}
	}
}

func TestVectorName(t *testing.T) {
	cases := []struct {
		v    uint64
		want string // substring
	}{
		{0, "#DE"},
		{6, "#UD"},
		{8, "#DF"},
		{13, "#GP"},
		{14, "#PF"},
		{18, "#MC"},
		{19, "#XM"},
		{21, "#CP"},
		{22, "reserved"},
		{31, "reserved"},
		{amd64.VecTimer, "interrupt"},
		{amd64.VecSpurious, "interrupt"},
		{amd64.VecSyscall, "syscall"},
		{1 << 40, "interrupt"},
	}
	for _, c := range cases {
		if got := amd64.VectorName(c.v); !strings.Contains(got, c.want) {
			t.Errorf("VectorName(%d) = %q, want it to contain %q", c.v, got, c.want)
		}
	}
	for v := uint64(0); v < 32; v++ {
		if n := amd64.VectorName(v); n == "" || n == "interrupt" {
			t.Errorf("VectorName(%d) = %q, want an exception name", v, n)
		}
	}
}

func TestHasErrorCode(t *testing.T) {
	// Intel SDM Vol. 3A table 6-1: #DF(8), #TS(10), #NP(11), #SS(12),
	// #GP(13), #PF(14), #AC(17), #CP(21). 29 (#VC) and 30 (#SX) are
	// reserved on Intel and push an error code on AMD (APM Vol. 2 table 8-1).
	want := map[int]bool{8: true, 10: true, 11: true, 12: true, 13: true, 14: true, 17: true, 21: true, 29: true, 30: true}
	for v := 0; v < 32; v++ {
		if got := amd64.HasErrorCode(v); got != want[v] {
			t.Errorf("HasErrorCode(%d) = %v, want %v", v, got, want[v])
		}
	}
	for _, v := range []int{amd64.VecTimer, amd64.VecSpurious, amd64.VecSyscall, -1} {
		if amd64.HasErrorCode(v) {
			t.Errorf("HasErrorCode(%d) = true, want false", v)
		}
	}
}

func TestSigRegsRoundTrip(t *testing.T) {
	f := amd64.Frame{R8: 8, R15: 15, RDI: 1, RSI: 2, RBP: 3, RBX: 4, RDX: 5, RAX: 6, RCX: 7, RSP: 0x7000, RIP: 0x401000, RFLAGS: 0x246}
	r := f.SigRegs(amd64.UserCS, amd64.UserDS)
	if r.CS != amd64.UserCS || r.SS != amd64.UserDS || r.RIP != f.RIP || r.R15 != 15 || r.RCX != 7 {
		t.Errorf("SigRegs = %+v", r)
	}
	var g amd64.Frame
	g.SetSigRegs(&r)
	if g != f {
		t.Errorf("SetSigRegs(SigRegs(f)) = %+v, want %+v", g, f)
	}
}

// TestCopyFromEveryField: CopyFrom copies every field of Context but
// Fast (which the copy starts without), XArea (the copy's own), FPULive
// (where the copy's state is) and UserNs (its own CPU time): a field added to Context must be added to
// CopyFrom too.
func TestCopyFromEveryField(t *testing.T) {
	var src, dst amd64.Context
	v := reflect.ValueOf(&src).Elem()
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		b := unsafe.Slice((*byte)(unsafe.Pointer(f.UnsafeAddr())), f.Type().Size())
		for j := range b {
			b[j] = byte(0xa0 + i + j)
		}
	}
	src.XArea = 0 // no XSAVE areas: FX is the vector state
	dst.CopyFrom(&src)
	d := reflect.ValueOf(&dst).Elem()
	for i := 0; i < v.NumField(); i++ {
		name := v.Type().Field(i).Name
		switch name {
		case "Fast", "UserNs", "SysNs", "CPUAlarm", "FPULive":
			if !d.Field(i).IsZero() {
				t.Errorf("the copy has the source's %s", name)
			}
		case "XArea", "_":
		default:
			if !reflect.DeepEqual(v.Field(i).Interface(), d.Field(i).Interface()) {
				t.Errorf("CopyFrom does not copy %s", name)
			}
		}
	}
}
