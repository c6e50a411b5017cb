package report

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"
)

// The disassembly in these goldens is what x86asm produces, checked
// against objdump -D -b binary -m i386:x86-64 where both print the
// instruction (objdump only adds column padding).

var (
	movStore  = []byte{0x48, 0x89, 0x43, 0x10}                                           // mov %rax,0x10(%rbx)
	nullWrite = []byte{0xc7, 0x04, 0x25, 0x00, 0x00, 0x00, 0x00, 0x2a, 0x00, 0x00, 0x00} // movl $0x2a,0x0
	ud2       = []byte{0x0f, 0x0b}                                                       // ud2
	divECX    = []byte{0xf7, 0xf1}                                                       // div %ecx
)

// kernelSym knows two kernel functions and one user function.
func kernelSym(pc uint64) (string, uint64, bool) {
	switch {
	case pc >= 0xffffffff80212320 && pc < 0xffffffff80212400:
		return "main.crash", pc - 0xffffffff80212320, true
	case pc >= 0xffffffff80212400 && pc < 0xffffffff80212500:
		return "runtime.panicmem", pc - 0xffffffff80212400, true
	case pc >= 0x555555555129 && pc < 0x555555555200:
		return "main", pc - 0x555555555129, true
	}
	return "", 0, false
}

func TestVectorName(t *testing.T) {
	want := map[uint64]string{
		0: "#DE divide error", 1: "#DB debug", 2: "NMI", 3: "#BP breakpoint",
		4: "#OF overflow", 5: "#BR bound range exceeded", 6: "#UD invalid opcode",
		7: "#NM device not available", 8: "#DF double fault", 9: "vector 9",
		10: "#TS invalid TSS", 11: "#NP segment not present",
		12: "#SS stack-segment fault", 13: "#GP general protection",
		14: "#PF page fault", 15: "vector 15", 16: "#MF x87 floating-point",
		17: "#AC alignment check", 18: "#MC machine check",
		19: "#XM SIMD floating-point", 20: "#VE virtualization",
		21: "#CP control protection", 22: "vector 22", 31: "vector 31",
		32: "vector 32", 255: "vector 255", 1 << 63: "vector 9223372036854775808",
	}
	for v, w := range want {
		if got := VectorName(v); got != w {
			t.Errorf("VectorName(%d) = %q, want %q", v, got, w)
		}
	}
}

func TestInstruction(t *testing.T) {
	tests := []struct {
		code string
		pc   uint64
		sym  Symbolizer
		want string
	}{
		{"48894310", 0xffffffff80212345, kernelSym, "mov %rax,0x10(%rbx)  [48 89 43 10]"},
		// Only the first instruction's bytes are shown.
		{"48894310c3", 0xffffffff80212345, nil, "mov %rax,0x10(%rbx)  [48 89 43 10]"},
		{"c70425000000002a000000", 0x555555555139, nil, "movl $0x2a,0x0  [c7 04 25 00 00 00 00 2a 00 00 00]"},
		{"0f0b", 0, nil, "ud2  [0f 0b]"},
		{"f7f1", 0, nil, "div %ecx  [f7 f1]"},
		{"48f7f1", 0, nil, "div %rcx  [48 f7 f1]"},
		{"cc", 0, nil, "int3  [cc]"},
		{"c3", 0, nil, "retq  [c3]"},
		// Absolute address 0 under a segment and with an index.
		{"64488b042500000000", 0, nil, "mov %fs:0x0,%rax  [64 48 8b 04 25 00 00 00 00]"},
		{"488b04c500000000", 0, nil, "mov 0x0(,%rax,8),%rax  [48 8b 04 c5 00 00 00 00]"},
		// Branch targets are absolute, named when they start a function.
		{"e8d6ffffff", 0xffffffff80212345, nil, "callq 0xffffffff80212320  [e8 d6 ff ff ff]"},
		{"e8d6ffffff", 0xffffffff80212345, kernelSym, "callq main.crash  [e8 d6 ff ff ff]"},
		{"e810000000", 0xffffffff80212345, kernelSym, "callq 0xffffffff8021235a  [e8 10 00 00 00]"},
		{"488b05b4000000", 0xffffffff80212345, kernelSym, "mov runtime.panicmem,%rax  [48 8b 05 b4 00 00 00]"},
		{"488b05b4000000", 0xffffffff80212345, nil, "mov 0xb4(%rip),%rax  [48 8b 05 b4 00 00 00]"},
		// Undecodable.
		{"0f0f0f", 0, nil, "(bad)  [0f 0f 0f]"},
		{"ffff", 0, kernelSym, "(bad)  [ff ff]"},
		// Cut short by an unmapped page: x86asm would call it "rex.w".
		{"488943", 0, nil, "(bad)  [48 89 43]"},
		{"66", 0, nil, "(bad)  [66]"},
		{"", 0, kernelSym, "(code not readable)"},
	}
	for _, tt := range tests {
		code, err := hex.DecodeString(tt.code)
		if err != nil {
			t.Fatal(err)
		}
		if got := Instruction(code, tt.pc, tt.sym); got != tt.want {
			t.Errorf("Instruction(%s, %#x, sym=%v) = %q, want %q", tt.code, tt.pc, tt.sym != nil, got, tt.want)
		}
	}
	if got := Instruction(nil, 0, nil); got != "(code not readable)" {
		t.Errorf("Instruction(nil) = %q", got)
	}
}

func TestPageFaultReason(t *testing.T) {
	tests := []struct {
		err  uint64
		want string
	}{
		{0x0, "not-present read from kernel mode"},
		{0x1, "protection violation read from kernel mode"},
		{0x2, "not-present write from kernel mode"},
		{0x3, "protection violation write from kernel mode"},
		{0x4, "not-present read from user mode"},
		{0x5, "protection violation read from user mode"},
		{0x6, "not-present write from user mode"},
		{0x7, "protection violation write from user mode"},
		{0x10, "not-present instruction fetch from kernel mode"},
		{0x11, "protection violation instruction fetch from kernel mode"},
		{0x12, "not-present instruction fetch from kernel mode"},
		{0x13, "protection violation instruction fetch from kernel mode"},
		{0x14, "not-present instruction fetch from user mode"},
		{0x15, "protection violation instruction fetch from user mode"},
		{0x16, "not-present instruction fetch from user mode"},
		{0x17, "protection violation instruction fetch from user mode"},
		{0x9, "protection violation read from kernel mode, reserved bit set"},
		{0x27, "protection violation write from user mode, protection key"},
		{0x43, "protection violation write from kernel mode, shadow stack"},
		{0x8001, "protection violation read from kernel mode, SGX"},
		{0x806f, "protection violation write from user mode, reserved bit set, protection key, shadow stack, SGX"},
	}
	for _, tt := range tests {
		if got := PageFaultReason(tt.err); got != tt.want {
			t.Errorf("PageFaultReason(%#x) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

func TestSignal(t *testing.T) {
	tests := []struct {
		vector uint64
		sig    int
		name   string
	}{
		{0, 8, "SIGFPE"},
		{1, 5, "SIGTRAP"},
		{2, 11, "SIGSEGV"},
		{3, 5, "SIGTRAP"},
		{4, 11, "SIGSEGV"},
		{6, 4, "SIGILL"},
		{11, 11, "SIGSEGV"},
		{12, 11, "SIGSEGV"},
		{13, 11, "SIGSEGV"},
		{14, 11, "SIGSEGV"},
		{16, 8, "SIGFPE"},
		{17, 7, "SIGBUS"},
		{19, 8, "SIGFPE"},
		{21, 11, "SIGSEGV"},
		{99, 11, "SIGSEGV"},
	}
	for _, tt := range tests {
		sig, name := Signal(tt.vector)
		if sig != tt.sig || name != tt.name {
			t.Errorf("Signal(%d) = %d, %q, want %d, %q", tt.vector, sig, name, tt.sig, tt.name)
		}
	}
}

func kernelRegs(rip uint64) Regs {
	return Regs{
		RAX: 0x2a, RBX: 0, RCX: 3, RDX: 0x4,
		RSI: 0xc000010000, RDI: 0xc000012345,
		RBP: 0xffffffff80a0ff48, RSP: 0xffffffff80a0ff00,
		R8: 8, R9: 9, R10: 10, R11: 11, R12: 12, R13: 13, R14: 14, R15: 0xffffffffffffffff,
		RIP: rip, RFLAGS: 0x10246, CS: 0x8, SS: 0x10, FSBase: 0xffffffff80b00000,
	}
}

const kernelRegLines = `  rax 0x000000000000002a rbx 0x0000000000000000 rcx 0x0000000000000003 rdx 0x0000000000000004
  rsi 0x000000c000010000 rdi 0x000000c000012345 rbp 0xffffffff80a0ff48 rsp 0xffffffff80a0ff00
  r8 0x0000000000000008 r9 0x0000000000000009 r10 0x000000000000000a r11 0x000000000000000b
  r12 0x000000000000000c r13 0x000000000000000d r14 0x000000000000000e r15 0xffffffffffffffff
  rflags 0x0000000000010246 cs 0x8 ss 0x10 fs.base 0xffffffff80b00000
`

func TestKernel(t *testing.T) {
	tests := []struct {
		name string
		f    Fault
		sym  Symbolizer
		want string
	}{
		{
			name: "page fault",
			f: Fault{Vector: 14, ErrorCode: 2, CR2: 0x10, Regs: kernelRegs(0xffffffff80212345),
				Code: append(append([]byte{}, movStore...), 0xc3, 0x90, 0x90)},
			sym: kernelSym,
			want: `yolk: kernel fault: #PF page fault (vector 14), error 0x2: not-present write from kernel mode
  address 0x0000000000000010
  rip 0xffffffff80212345 main.crash+0x25
  instruction: mov %rax,0x10(%rbx)  [48 89 43 10]
` + kernelRegLines,
		},
		{
			name: "null write without symbols",
			f:    Fault{Vector: 14, ErrorCode: 0x2, CR2: 0, Regs: kernelRegs(0xffffffff80212345), Code: nullWrite},
			want: `yolk: kernel fault: #PF page fault (vector 14), error 0x2: not-present write from kernel mode
  address 0x0000000000000000
  rip 0xffffffff80212345 ?
  instruction: movl $0x2a,0x0  [c7 04 25 00 00 00 00 2a 00 00 00]
` + kernelRegLines,
		},
		{
			name: "instruction fetch from unmapped rip",
			f:    Fault{Vector: 14, ErrorCode: 0x10, CR2: 0xdead0000, Regs: kernelRegs(0xdead0000)},
			sym:  kernelSym,
			want: `yolk: kernel fault: #PF page fault (vector 14), error 0x10: not-present instruction fetch from kernel mode
  address 0x00000000dead0000
  rip 0x00000000dead0000 ?
  instruction: (code not readable)
` + kernelRegLines,
		},
		{
			name: "invalid opcode",
			f:    Fault{Vector: 6, Regs: kernelRegs(0xffffffff80212400), Code: ud2},
			sym:  kernelSym,
			want: `yolk: kernel fault: #UD invalid opcode (vector 6), error 0x0
  rip 0xffffffff80212400 runtime.panicmem+0x0
  instruction: ud2  [0f 0b]
` + kernelRegLines,
		},
		{
			name: "general protection on garbage",
			f:    Fault{Vector: 13, ErrorCode: 0x102, CR2: 0x1234, Regs: kernelRegs(0xffffffff80212330), Code: []byte{0xff, 0xff}},
			sym:  kernelSym,
			want: `yolk: kernel fault: #GP general protection (vector 13), error 0x102
  rip 0xffffffff80212330 main.crash+0x10
  instruction: (bad)  [ff ff]
` + kernelRegLines,
		},
	}
	for _, tt := range tests {
		var b bytes.Buffer
		Kernel(&b, tt.f, tt.sym)
		if got := b.String(); got != tt.want {
			t.Errorf("%s: Kernel =\n%s\nwant\n%s", tt.name, got, tt.want)
		}
	}
}

func userRegs(rip uint64) Regs {
	return Regs{RAX: 0x2a, RCX: 0, RIP: rip, RSP: 0x7fffffffe4f0, RFLAGS: 0x10246, CS: 0x33, SS: 0x2b}
}

func TestSegfault(t *testing.T) {
	tests := []struct {
		name string
		f    Fault
		sym  Symbolizer
		sig  string
		want string
	}{
		{
			name: "null write",
			f:    Fault{Vector: 14, ErrorCode: 6, CR2: 0, Regs: userRegs(0x555555555139), Code: nullWrite},
			sym:  kernelSym,
			sig:  "SIGSEGV",
			want: "prog[1]: segfault at 0 ip 0x0000555555555139 sp 0x00007fffffffe4f0 error 6 in main+0x10 (SIGSEGV)\n" +
				"  instruction: movl $0x2a,0x0  [c7 04 25 00 00 00 00 2a 00 00 00]\n",
		},
		{
			name: "null write without symbols or signal",
			f:    Fault{Vector: 14, ErrorCode: 6, CR2: 0, Regs: userRegs(0x555555555139), Code: nullWrite},
			want: "prog[1]: segfault at 0 ip 0x0000555555555139 sp 0x00007fffffffe4f0 error 6\n" +
				"  instruction: movl $0x2a,0x0  [c7 04 25 00 00 00 00 2a 00 00 00]\n",
		},
		{
			name: "unknown pc",
			f:    Fault{Vector: 14, ErrorCode: 4, CR2: 0x7f0012345678, Regs: userRegs(0x401000), Code: movStore},
			sym:  kernelSym,
			sig:  "SIGSEGV",
			want: "prog[1]: segfault at 7f0012345678 ip 0x0000000000401000 sp 0x00007fffffffe4f0 error 4 (SIGSEGV)\n" +
				"  instruction: mov %rax,0x10(%rbx)  [48 89 43 10]\n",
		},
		{
			name: "jump to unmapped",
			f:    Fault{Vector: 14, ErrorCode: 0x14, CR2: 0xdeadbeef, Regs: userRegs(0xdeadbeef)},
			sym:  kernelSym,
			sig:  "SIGSEGV",
			want: "prog[1]: segfault at deadbeef ip 0x00000000deadbeef sp 0x00007fffffffe4f0 error 14 (SIGSEGV)\n" +
				"  instruction: (code not readable)\n",
		},
		{
			name: "general protection",
			f:    Fault{Vector: 13, Regs: userRegs(0x555555555130), Code: []byte{0x0f, 0x0f, 0x0f}},
			sym:  kernelSym,
			sig:  "SIGSEGV",
			want: "prog[1]: general protection fault ip 0x0000555555555130 sp 0x00007fffffffe4f0 error 0 in main+0x7 (SIGSEGV)\n" +
				"  instruction: (bad)  [0f 0f 0f]\n",
		},
		{
			name: "invalid opcode",
			f:    Fault{Vector: 6, Regs: userRegs(0x555555555129), Code: ud2},
			sym:  kernelSym,
			sig:  "SIGILL",
			want: "prog[1]: trap invalid opcode ip 0x0000555555555129 sp 0x00007fffffffe4f0 error 0 in main+0x0 (SIGILL)\n" +
				"  instruction: ud2  [0f 0b]\n",
		},
		{
			name: "divide error",
			f:    Fault{Vector: 0, Regs: userRegs(0x555555555140), Code: append(append([]byte{}, divECX...), 0x89, 0xc0)},
			sym:  kernelSym,
			sig:  "SIGFPE",
			want: "prog[1]: trap divide error ip 0x0000555555555140 sp 0x00007fffffffe4f0 error 0 in main+0x17 (SIGFPE)\n" +
				"  instruction: div %ecx  [f7 f1]\n",
		},
		{
			name: "breakpoint",
			f:    Fault{Vector: 3, Regs: userRegs(0x555555555131), Code: []byte{0xcc}},
			sig:  "SIGTRAP",
			want: "prog[1]: trap #BP breakpoint ip 0x0000555555555131 sp 0x00007fffffffe4f0 error 0 (SIGTRAP)\n" +
				"  instruction: int3  [cc]\n",
		},
		{
			name: "alignment check",
			f:    Fault{Vector: 17, ErrorCode: 0, Regs: userRegs(0x555555555131), Code: movStore},
			sig:  "SIGBUS",
			want: "prog[1]: trap #AC alignment check ip 0x0000555555555131 sp 0x00007fffffffe4f0 error 0 (SIGBUS)\n" +
				"  instruction: mov %rax,0x10(%rbx)  [48 89 43 10]\n",
		},
	}
	for _, tt := range tests {
		var b bytes.Buffer
		Segfault(&b, "prog", 1, tt.f, tt.sym, tt.sig)
		if got := b.String(); got != tt.want {
			t.Errorf("%s: Segfault =\n%s\nwant\n%s", tt.name, got, tt.want)
		}
	}
}

// countingWriter counts Write calls.
type countingWriter struct{ n int }

func (w *countingWriter) Write(p []byte) (int, error) { w.n++; return len(p), nil }

func TestSingleWrite(t *testing.T) {
	var w countingWriter
	Kernel(&w, Fault{Vector: 14, Code: movStore}, kernelSym)
	Segfault(&w, "prog", 1, Fault{Vector: 14, Code: movStore}, kernelSym, "SIGSEGV")
	if w.n != 2 {
		t.Errorf("Kernel and Segfault made %d writes, want 1 each", w.n)
	}
}

// anySym claims every address, to drive the disassembler's symbol paths.
func anySym(pc uint64) (string, uint64, bool) { return "f", pc & 0xfff, true }

func FuzzInstruction(f *testing.F) {
	for _, c := range [][]byte{movStore, nullWrite, ud2, divECX, {0x0f, 0x0f, 0x0f}, {0xff, 0xff}, {0x48, 0x89, 0x43}, {},
		{0xe8, 0xd6, 0xff, 0xff, 0xff}, {0x48, 0x8b, 0x05, 0xb3, 0, 0, 0}, {0x64, 0x48, 0x8b, 0x04, 0x25, 0, 0, 0, 0},
		{0xc4, 0xe2, 0x79, 0x18, 0x05, 0, 0, 0, 0}, {0xf0, 0x66, 0x67, 0xf2, 0x0f, 0x38, 0xf1, 0xc0}} {
		f.Add(c, uint64(0xffffffff80212345))
	}
	f.Fuzz(func(t *testing.T, code []byte, pc uint64) {
		for _, sym := range []Symbolizer{nil, anySym} {
			s := Instruction(code, pc, sym)
			if len(code) == 0 {
				if s != "(code not readable)" {
					t.Fatalf("empty code: %q", s)
				}
				continue
			}
			i := strings.LastIndex(s, "  [")
			if i <= 0 || !strings.HasSuffix(s, "]") {
				t.Fatalf("Instruction(% x) = %q: no byte list", code, s)
			}
			shown := s[i+3 : len(s)-1]
			if !strings.HasPrefix(hexBytes(code), shown) {
				t.Fatalf("Instruction(% x) = %q: bytes are not a prefix of the code", code, s)
			}
			if strings.Contains(s, "0x7a65726f64697370") {
				t.Fatalf("Instruction(% x) = %q: placeholder leaked", code, s)
			}
		}
	})
}

func TestInstructionSignExtendsAbsolute(t *testing.T) {
	// mov %rax,0xffffffff80200000 (48 89 04 25 00 00 20 80), as objdump shows it.
	got := Instruction([]byte{0x48, 0x89, 0x04, 0x25, 0x00, 0x00, 0x20, 0x80}, 0x401000, nil)
	want := "mov %rax,0xffffffff80200000  [48 89 04 25 00 00 20 80]"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
