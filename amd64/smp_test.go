package amd64

import (
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/arch/x86/x86asm"
)

// disasm decodes code in mode (16 or 64) up to the first jump.
func disasm(t *testing.T, code []byte, mode int) []string {
	var out []string
	for len(code) > 0 {
		in, err := x86asm.Decode(code, mode)
		if err != nil {
			t.Fatalf("decode at %q: %v", out, err)
		}
		out = append(out, x86asm.IntelSyntax(in, 0, nil))
		if in.Op == x86asm.LJMP || in.Op == x86asm.JMP {
			break
		}
		code = code[in.Len:]
	}
	return out
}

func TestTrampoline(t *testing.T) {
	p := Trampoline(0xa000, 0xffffffff80212345, 0xffffc00000123000, 0xffffffff80a00000)
	got16 := strings.Join(disasm(t, p[:], 16), "; ")
	want16 := "cli; mov ax, cs; mov ds, ax; lgdt ptr [0x120]; mov eax, 0xa0; mov cr4, eax; " +
		"mov eax, 0xa000; mov cr3, eax; mov ecx, -0x3fffff80; rdmsr; or eax, 0x901; wrmsr; " +
		"mov eax, -0x7ffeffdd; mov cr0, eax; jmp far 0x8060, 0x8" // 0xc0000080 (EFER), 0x80010023; selector 8
	if got16 != want16 {
		t.Errorf("real-mode part:\n got %s\nwant %s", got16, want16)
	}
	got64 := strings.Join(disasm(t, p[tramp64:], 64), "; ")
	want64 := "mov rax, -0x7fdedcbb; mov rsp, 0xffffc00000123000; mov rdi, -0x7f600000; jmp rax" // sign-extended immediates as x86asm prints them
	if got64 != want64 {
		t.Errorf("long-mode part:\n got %s\nwant %s", got64, want64)
	}
	// The GDT the far jump uses: selector 0x08 is 64-bit code, and the
	// GDTR points at it.
	if g := le64(p[trampGDT+8:]); g != descKernelCode {
		t.Errorf("GDT[1] = %#x, want %#x", g, uint64(descKernelCode))
	}
	if lim, base := uint16(p[trampGDTR])|uint16(p[trampGDTR+1])<<8, le64(append(p[trampGDTR+2:trampGDTR+6:trampGDTR+6], 0, 0, 0, 0)); lim != 23 || base != TrampolinePhys+trampGDT {
		t.Errorf("GDTR limit %d base %#x", lim, base)
	}
}

func le64(b []byte) uint64 {
	var v uint64
	for i := 7; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v
}

// TestCPUBlock checks what prepare gives a CPU: its address at GS:0, the
// TSS stacks at the tops of the stacks given, fake gs over them.
func TestCPUBlock(t *testing.T) {
	var c CPU
	entry, trap, emerg := make([]byte, EntryStackSize), make([]byte, TrapStackSize), make([]byte, EmergencyStackSize)
	c.prepare(3, entry, trap, emerg)
	top := func(b []byte) uint64 { return uint64(uintptr(unsafePointer(&b[0]))+uintptr(len(b))) &^ 15 }
	if c.self != uintptr(unsafePointer(&c)) || c.Index != 3 {
		t.Errorf("self %#x index %d", c.self, c.Index)
	}
	if got := le64(c.tss[tssRSP0:]); got != top(trap) || uint64(c.trapStackTop) != top(trap) {
		t.Errorf("RSP0 %#x, trap stack top %#x, want %#x", got, c.trapStackTop, top(trap))
	}
	if got := le64(c.tss[tssIST1:]); got != top(entry) {
		t.Errorf("IST1 %#x, want %#x", got, top(entry))
	}
	if got := le64(c.tss[tssIST1+8:]); got != top(emerg) {
		t.Errorf("IST2 %#x, want %#x", got, top(emerg))
	}
	if c.trapTLS[0] != uintptr(unsafePointer(&c.trapG)) || c.trapFSBase != uint64(uintptr(unsafePointer(&c.trapTLS[1]))) {
		t.Errorf("trap TLS does not lead to the trap g")
	}
	if c.trapG[0] != uintptr(unsafePointer(&trap[0])) || c.trapG[2] != c.trapG[0]+stackGuard {
		t.Errorf("trap g bounds %#x", c.trapG)
	}
}

func unsafePointer[T any](p *T) unsafe.Pointer { return unsafe.Pointer(p) }
