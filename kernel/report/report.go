// Package report formats CPU-fault reports: the crash report yolk prints
// when the kernel itself takes an exception, and the one-line report it
// prints when the Linux program it runs takes a fatal fault.
//
// The package only formats; it does not read registers or memory. The
// caller captures a [Fault] (vector, error code, CR2, registers and up to
// 16 bytes of code at RIP, as many as are mapped) and passes a
// [Symbolizer] for the address space the fault happened in, or nil. It
// imports no other yolk package and runs on the host, so its output is
// pinned by golden tests.
//
// Two shapes are produced:
//
//   - [Kernel] writes a multi-line report for a fault in the kernel: the
//     exception, the faulting address for #PF with the error code decoded,
//     RIP with its symbol, the instruction disassembled the way objdump
//     would (AT&T syntax, via golang.org/x/arch/x86/x86asm) followed by its
//     bytes, and every general-purpose register. The format is stable so
//     crash logs can be compared and scraped.
//
//   - [Segfault] writes the report for a fault in the Linux program. Its
//     first line follows Linux's show_signal_msg in arch/x86/mm/fault.c
//     ("prog[1]: segfault at 0 ip ... sp ... error 6 in ...") for #PF, and
//     the "general protection fault" / "trap <name>" messages of
//     arch/x86/kernel/traps.c for the other exceptions, so people and
//     tools that know Linux's kernel log read it without surprise. It
//     differs where Linux's shape needs state yolk does not have or hides
//     what matters: ip and sp are printed 0x-prefixed and zero-padded, and
//     the " in ..." suffix names the function (from the symbolizer) rather
//     than the VMA "file[start+size]". A second line holds the
//     disassembled instruction, which Linux only gives as a raw "Code:"
//     dump.
//
// [Signal] maps an exception vector to the signal Linux delivers for it.
package report

import (
	"fmt"
	"io"
	"strings"
	"yolk/amd64"

	"golang.org/x/arch/x86/x86asm"
)

// Regs holds the general-purpose registers and the few others a fault
// report shows.
type Regs struct {
	RAX, RBX, RCX, RDX, RSI, RDI, RBP, RSP uint64
	R8, R9, R10, R11, R12, R13, R14, R15   uint64
	RIP, RFLAGS, CS, SS, FSBase            uint64
}

// Fault is the state captured when a CPU exception happened.
type Fault struct {
	Vector    uint64 // CPU exception vector (0..31)
	ErrorCode uint64
	CR2       uint64 // faulting address for #PF
	Regs      Regs
	Code      []byte // up to 16 bytes starting at RIP (may be shorter or empty if unmapped)
}

// Symbolizer returns the function containing pc and pc's offset in it.
type Symbolizer func(pc uint64) (name string, off uint64, ok bool)

// Exception vectors the report treats specially.
const (
	VecDE = 0  // divide error
	VecDB = 1  // debug
	VecBP = 3  // breakpoint
	VecUD = 6  // invalid opcode
	VecNP = 11 // segment not present
	VecSS = 12 // stack-segment fault
	VecGP = 13 // general protection
	VecPF = 14 // page fault
	VecMF = 16 // x87 floating-point
	VecAC = 17 // alignment check
	VecXM = 19 // SIMD floating-point
)

var vectorNames = [...]string{
	0:  "#DE divide error",
	1:  "#DB debug",
	2:  "NMI",
	3:  "#BP breakpoint",
	4:  "#OF overflow",
	5:  "#BR bound range exceeded",
	6:  "#UD invalid opcode",
	7:  "#NM device not available",
	8:  "#DF double fault",
	10: "#TS invalid TSS",
	11: "#NP segment not present",
	12: "#SS stack-segment fault",
	13: "#GP general protection",
	14: "#PF page fault",
	16: "#MF x87 floating-point",
	17: "#AC alignment check",
	18: "#MC machine check",
	19: "#XM SIMD floating-point",
	20: "#VE virtualization",
	21: "#CP control protection",
}

// VectorName returns the mnemonic and name of exception vector v, such as
// "#PF page fault", or "vector N" for vectors without one.
func VectorName(v uint64) string {
	if v < uint64(len(vectorNames)) && vectorNames[v] != "" {
		return vectorNames[v]
	}
	return fmt.Sprintf("vector %d", v)
}

// Page-fault error code bits (Intel SDM Vol. 3A, 4.7).
const (
	pfPresent = 1 << 0  // P: protection violation (else not present)
	pfWrite   = 1 << 1  // W/R: write access (else read)
	pfUser    = 1 << 2  // U/S: user-mode access (else supervisor)
	pfRsvd    = 1 << 3  // RSVD: reserved bit set in a paging entry
	pfInstr   = 1 << 4  // I/D: instruction fetch
	pfPK      = 1 << 5  // PK: protection-key violation
	pfSS      = 1 << 6  // SS: shadow-stack access
	pfSGX     = 1 << 15 // SGX: SGX-specific access-control violation
)

// PageFaultReason decodes a #PF error code into words, such as
// "not-present read from kernel mode", "protection violation write from
// user mode" or "not-present instruction fetch from user mode", followed
// by ", reserved bit set", ", protection key", ", shadow stack" and
// ", SGX" for the RSVD, PK, SS and SGX bits.
func PageFaultReason(err uint64) string {
	var b strings.Builder
	if err&pfPresent != 0 {
		b.WriteString("protection violation ")
	} else {
		b.WriteString("not-present ")
	}
	switch {
	case err&pfInstr != 0:
		b.WriteString("instruction fetch")
	case err&pfWrite != 0:
		b.WriteString("write")
	default:
		b.WriteString("read")
	}
	if err&pfUser != 0 {
		b.WriteString(" from user mode")
	} else {
		b.WriteString(" from kernel mode")
	}
	if err&pfRsvd != 0 {
		b.WriteString(", reserved bit set")
	}
	if err&pfPK != 0 {
		b.WriteString(", protection key")
	}
	if err&pfSS != 0 {
		b.WriteString(", shadow stack")
	}
	if err&pfSGX != 0 {
		b.WriteString(", SGX")
	}
	return b.String()
}

// Linux signal numbers (x86).
const (
	SIGILL  = 4
	SIGTRAP = 5
	SIGBUS  = 7
	SIGFPE  = 8
	SIGSEGV = 11
)

// Signal returns the signal Linux delivers for exception vector, and its
// name: SIGSEGV for #PF, #GP, #SS and #NP, SIGILL for #UD, SIGFPE for #DE,
// #MF and #XM, SIGTRAP for #BP and #DB, SIGBUS for #AC, and SIGSEGV for
// everything else.
func Signal(vector uint64) (sig int, name string) {
	switch vector {
	case VecUD:
		return SIGILL, "SIGILL"
	case VecDE, VecMF, VecXM:
		return SIGFPE, "SIGFPE"
	case VecBP, VecDB:
		return SIGTRAP, "SIGTRAP"
	case VecAC:
		return SIGBUS, "SIGBUS"
	}
	return SIGSEGV, "SIGSEGV"
}

// maxInst is the longest x86 instruction.
const maxInst = 15

// zeroDisp stands in for a zero displacement of an absolute memory
// operand while formatting; see fixZeroDisp.
const zeroDisp = 0x7a65726f64697370 // "zerodisp"

// Instruction disassembles the first instruction in code, which sits at
// pc, in 64-bit mode and GNU (AT&T) syntax as objdump prints it, naming
// addresses through sym (which may be nil), and follows it with the
// instruction's bytes: "mov %rax,0x10(%rbx)  [48 89 43 10]". Bytes that
// do not decode (or are cut short before the instruction ends) give
// "(bad)  [..]" with all of code; empty code gives "(code not readable)".
func Instruction(code []byte, pc uint64, sym Symbolizer) (s string) {
	if len(code) == 0 {
		return "(code not readable)"
	}
	bad := func() string { return "(bad)  [" + hexBytes(code) + "]" }
	// The disassembler is not ours; a crash report must not crash.
	defer func() {
		if recover() != nil {
			s = bad()
		}
	}()
	inst, err := x86asm.Decode(code, 64)
	// A prefix byte followed by nothing intelligible decodes as an
	// instruction of just that prefix (Op 0); the CPU did not execute that.
	if err != nil || inst.Op == 0 || inst.Len <= 0 || inst.Len > len(code) {
		return bad()
	}
	symname := func(addr uint64) (string, uint64) {
		if sym == nil || addr == zeroDisp {
			return "", 0
		}
		name, off, ok := sym(addr)
		if !ok || name == "" {
			return "", 0
		}
		return name, addr - off
	}
	fixed := fixZeroDisp(&inst)
	asm := x86asm.GNUSyntax(inst, pc, symname)
	if fixed {
		asm = strings.ReplaceAll(asm, fmt.Sprintf("%#x", zeroDisp), "0x0")
	}
	// An absolute operand's 32-bit displacement is sign-extended in 64-bit
	// mode; x86asm prints it zero-extended ("0x80200000" for the address
	// 0xffffffff80200000, which objdump shows).
	for _, a := range inst.Args {
		if m, ok := a.(x86asm.Mem); ok && m.Base == 0 && m.Index == 0 && m.Disp >= 0x80000000 && m.Disp <= 0xffffffff {
			asm = strings.ReplaceAll(asm, fmt.Sprintf("%#x", m.Disp), fmt.Sprintf("%#x", uint64(int64(int32(uint32(m.Disp))))))
		}
	}
	return asm + "  [" + hexBytes(code[:inst.Len]) + "]"
}

// fixZeroDisp works around x86asm's GNU syntax printing nothing at all
// for an absolute memory operand at address 0 ("movl $0x2a," for
// c7 04 25 00 00 00 00 2a 00 00 00, where objdump prints
// "movl $0x2a,0x0"): the displacement of such operands is replaced by
// zeroDisp, whose rendering Instruction then rewrites to "0x0". NULL
// dereferences are the commonest faults, so this case matters.
func fixZeroDisp(inst *x86asm.Inst) bool {
	fixed := false
	for i, a := range inst.Args {
		if a == nil {
			break
		}
		m, ok := a.(x86asm.Mem)
		if !ok || m.Base != 0 || m.Disp != 0 {
			continue
		}
		m.Disp = zeroDisp
		inst.Args[i] = m
		fixed = true
	}
	return fixed
}

func hexBytes(b []byte) string {
	const digits = "0123456789abcdef"
	s := make([]byte, 0, 3*len(b))
	for i, c := range b {
		if i > 0 {
			s = append(s, ' ')
		}
		s = append(s, digits[c>>4], digits[c&15])
	}
	return string(s)
}

// symbol returns "name+0xoff" for pc, or "?" when sym is nil or does not
// know pc.
func symbol(pc uint64, sym Symbolizer) string {
	if sym == nil {
		return "?"
	}
	name, off, ok := sym(pc)
	if !ok || name == "" {
		return "?"
	}
	return fmt.Sprintf("%s+%#x", name, off)
}

// Kernel writes the report for a fault in the kernel:
//
//	yolk: kernel fault: #PF page fault (vector 14), error 0x2: not-present write from kernel mode
//	  address 0x0000000000000010
//	  rip 0xffffffff80212345 main.crash+0x25
//	  instruction: mov %rax,0x10(%rbx)  [48 89 43 10]
//	  rax 0x... rbx 0x... rcx 0x... rdx 0x...
//	  rsi 0x... rdi 0x... rbp 0x... rsp 0x...
//	  r8 0x... r9 0x... r10 0x... r11 0x...
//	  r12 0x... r13 0x... r14 0x... r15 0x...
//	  rflags 0x... cs 0x8 ss 0x10 fs.base 0x...
//
// The ": reason" after the error code and the address line appear only
// for #PF; the symbol is "?" when unknown. The report goes to w in a
// single Write.
func Kernel(w io.Writer, f Fault, sym Symbolizer) {
	var b strings.Builder
	r := &f.Regs
	fmt.Fprintf(&b, "yolk: kernel fault: %s (vector %d), error %#x", VectorName(f.Vector), f.Vector, f.ErrorCode)
	if f.Vector == VecPF {
		fmt.Fprintf(&b, ": %s\n  address 0x%016x", PageFaultReason(f.ErrorCode), f.CR2)
	}
	fmt.Fprintf(&b, "\n  rip 0x%016x %s\n", r.RIP, symbol(r.RIP, sym))
	fmt.Fprintf(&b, "  instruction: %s\n", Instruction(f.Code, r.RIP, sym))
	fmt.Fprintf(&b, "  rax 0x%016x rbx 0x%016x rcx 0x%016x rdx 0x%016x\n", r.RAX, r.RBX, r.RCX, r.RDX)
	fmt.Fprintf(&b, "  rsi 0x%016x rdi 0x%016x rbp 0x%016x rsp 0x%016x\n", r.RSI, r.RDI, r.RBP, r.RSP)
	fmt.Fprintf(&b, "  r8 0x%016x r9 0x%016x r10 0x%016x r11 0x%016x\n", r.R8, r.R9, r.R10, r.R11)
	fmt.Fprintf(&b, "  r12 0x%016x r13 0x%016x r14 0x%016x r15 0x%016x\n", r.R12, r.R13, r.R14, r.R15)
	fmt.Fprintf(&b, "  rflags 0x%016x cs %#x ss %#x fs.base 0x%016x\n", r.RFLAGS, r.CS, r.SS, r.FSBase)
	io.WriteString(w, b.String())
}

// Segfault writes the report for a fault in the Linux program comm with
// process id pid: a line shaped like Linux's kernel-log message, then
// the instruction.
//
//	prog[1]: segfault at 0 ip 0x0000555555555139 sp 0x00007fffffffe4f0 error 6 in main+0x10 (SIGSEGV)
//	  instruction: movl $0x2a,0x0  [c7 04 25 00 00 00 00 2a 00 00 00]
//
// The first line starts, by vector, with "segfault at <cr2>" (#PF, the
// address in bare hex as Linux prints it), "general protection fault"
// (#GP), "trap invalid opcode" (#UD), "trap divide error" (#DE) or
// "trap <VectorName>". The error code is in hex, as in Linux. " in
// name+0xoff" is added when sym knows RIP, and " (sig)" when sig, the
// name of the signal the program gets, is not empty. The report goes to w
// in a single Write.
func Segfault(w io.Writer, comm string, pid int, f Fault, sym Symbolizer, sig string) {
	var b strings.Builder
	r := &f.Regs
	fmt.Fprintf(&b, "%s[%d]: ", comm, pid)
	switch f.Vector {
	case VecPF:
		fmt.Fprintf(&b, "segfault at %x", f.CR2)
	case VecGP:
		b.WriteString("general protection fault")
	case VecUD:
		b.WriteString("trap invalid opcode")
	case VecDE:
		b.WriteString("trap divide error")
	default:
		b.WriteString("trap " + VectorName(f.Vector))
	}
	fmt.Fprintf(&b, " ip 0x%016x sp 0x%016x error %x", r.RIP, r.RSP, f.ErrorCode)
	if s := symbol(r.RIP, sym); s != "?" {
		b.WriteString(" in " + s)
	}
	if sig != "" {
		b.WriteString(" (" + sig + ")")
	}
	fmt.Fprintf(&b, "\n  instruction: %s\n", Instruction(f.Code, r.RIP, sym))
	io.WriteString(w, b.String())
}

// FrameRegs returns the registers of a trap frame, with the thread's FS
// base.
func FrameRegs(r *amd64.Frame, fsBase uint64) Regs {
	return Regs{
		RAX: r.RAX, RBX: r.RBX, RCX: r.RCX, RDX: r.RDX, RSI: r.RSI, RDI: r.RDI,
		RBP: r.RBP, RSP: r.RSP, R8: r.R8, R9: r.R9, R10: r.R10, R11: r.R11,
		R12: r.R12, R13: r.R13, R14: r.R14, R15: r.R15, RIP: r.RIP,
		RFLAGS: r.RFLAGS, CS: r.CS, SS: r.SS, FSBase: fsBase,
	}
}
