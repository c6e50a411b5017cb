package elfload

import (
	"encoding/binary"
	"fmt"
	"strings"

	"yolk/linux/abi"
)

// StackSpec is what goes on the initial stack besides the Image's values.
type StackSpec struct {
	// Argv and Envp are the argument and environment strings. An empty
	// Argv becomes {""} (argc 1), as Linux does since 5.18.
	Argv, Envp []string
	// ExecFn is the AT_EXECFN string (the path used to exec).
	ExecFn string
	// Platform is the AT_PLATFORM string ("x86_64"); empty omits both the
	// string and AT_PLATFORM.
	Platform string
	// Random holds the 16 AT_RANDOM bytes.
	Random [16]byte
	// HWCap and HWCap2 are the AT_HWCAP and AT_HWCAP2 values.
	HWCap, HWCap2 uint64
	// ClkTck is the AT_CLKTCK value; 0 means 100 (Linux's USER_HZ).
	ClkTck uint64
	// MinSigStkSz is the AT_MINSIGSTKSZ value.
	MinSigStkSz uint64
	// UID, EUID, GID, EGID are the AT_UID... values.
	UID, EUID, GID, EGID uint64
	// Secure is AT_SECURE.
	Secure bool
	// InterpBase is AT_BASE: the interpreter's load base (0 for a static
	// program).
	InterpBase uint64
	// SysinfoEHDR is the vDSO address for AT_SYSINFO_EHDR; 0 omits the
	// entry.
	SysinfoEHDR uint64
}

// Linux limits on exec arguments (include/uapi/linux/binfmts.h and
// fs/exec.c:bprm_stack_limits with the default 8 MiB stack rlimit).
const (
	// MaxArgStrLen is MAX_ARG_STRLEN: the longest argv/envp string,
	// including its NUL.
	MaxArgStrLen = 32 * pageSize
	// ArgMax is the limit on the argv, envp and exec-file-name strings
	// plus the argv and envp pointers (a quarter of the 8 MiB stack
	// rlimit).
	ArgMax = 2 << 20
)

// Layout computes the initial stack for img below top (the exclusive end of
// the stack mapping, page-aligned in practice): it returns the initial RSP
// (sp, pointing at argc, 16-byte aligned) and the bytes to place at
// [sp, top).
//
// The layout is Linux's (fs/exec.c do_execveat_common and
// fs/binfmt_elf.c create_elf_tables on x86-64, with ASLR off), from the top
// down:
//
//   - an 8-byte NULL end marker at top-8;
//   - the ExecFn string (AT_EXECFN points at it);
//   - the envp strings, then the argv strings, each block in order so that
//     argv[0]'s string is lowest (Linux copies them last to first);
//   - alignment down to 16 (arch_align_stack, without its random offset);
//   - the Platform string (AT_PLATFORM), then the 16 Random bytes
//     (AT_RANDOM), both unaligned;
//   - padding so that sp ends up 16-byte aligned;
//   - the auxiliary vector, the envp pointers and NULL, the argv pointers
//     and NULL, and argc at sp.
//
// auxv order (Linux's): AT_SYSINFO_EHDR (when SysinfoEHDR != 0),
// AT_MINSIGSTKSZ, AT_HWCAP, AT_PAGESZ, AT_CLKTCK, AT_PHDR, AT_PHENT,
// AT_PHNUM, AT_BASE, AT_FLAGS, AT_ENTRY, AT_UID, AT_EUID, AT_GID, AT_EGID,
// AT_SECURE, AT_RANDOM, AT_HWCAP2, AT_EXECFN, AT_PLATFORM (when Platform
// != ""), AT_NULL. AT_BASE is spec.InterpBase; AT_FLAGS is 0.
// Linux additionally emits AT_RSEQ_FEATURE_SIZE and AT_RSEQ_ALIGN (since
// 6.3) and, on newer kernels, AT_HWCAP3/AT_HWCAP4; those are left out.
//
// Errors (*Error): ArgListTooLong when a string is longer than
// MaxArgStrLen or the strings and pointers exceed ArgMax (E2BIG), BadArgs
// when a string contains a NUL byte or img is nil, StackTooSmall when the
// stack would extend below address 0.
func Layout(top uint64, img *Image, spec StackSpec) (sp uint64, data []byte, err error) {
	if img == nil {
		return 0, nil, errorf(BadArgs, "no program image for the initial stack")
	}
	argv := spec.Argv
	if len(argv) == 0 {
		argv = []string{""}
	}
	envp := spec.Envp

	// Sizes and limits.
	var strBytes uint64
	check := func(what string, s string) error {
		if strings.IndexByte(s, 0) >= 0 {
			return errorf(BadArgs, fmt.Sprintf("%s contains a NUL byte", what))
		}
		if uint64(len(s))+1 > MaxArgStrLen {
			return errorf(ArgListTooLong, fmt.Sprintf("argument list too long: %s is %d bytes (limit %d)", what, len(s)+1, MaxArgStrLen))
		}
		strBytes += uint64(len(s)) + 1
		return nil
	}
	if err := check("exec file name", spec.ExecFn); err != nil {
		return 0, nil, err
	}
	envStrs := strBytes
	for i, s := range envp {
		if err := check(fmt.Sprintf("envp[%d]", i), s); err != nil {
			return 0, nil, err
		}
	}
	envStrs = strBytes - envStrs
	argStrs := strBytes
	for i, s := range argv {
		if err := check(fmt.Sprintf("argv[%d]", i), s); err != nil {
			return 0, nil, err
		}
	}
	argStrs = strBytes - argStrs
	if strings.IndexByte(spec.Platform, 0) >= 0 {
		return 0, nil, errorf(BadArgs, "platform string contains a NUL byte")
	}
	ptrBytes := 8 * uint64(len(argv)+len(envp))
	if ptrBytes >= ArgMax || strBytes > ArgMax-ptrBytes {
		return 0, nil, errorf(ArgListTooLong, fmt.Sprintf("argument list too long: %d bytes of strings and %d of pointers (limit %d)", strBytes, ptrBytes, ArgMax))
	}

	type auxEnt struct{ key, val uint64 }
	nAux := 19 // fixed entries including AT_NULL
	if spec.SysinfoEHDR != 0 {
		nAux++
	}
	if spec.Platform != "" {
		nAux++
	}
	items := uint64(len(argv)+1+len(envp)+1) + 1
	// Upper bound of the stack size: marker, strings, alignment, platform,
	// random, auxv, pointers and argc, final alignment.
	bound := 8 + strBytes + 15 + uint64(len(spec.Platform)) + 1 + 16 + uint64(nAux)*16 + items*8 + 15
	if top < bound {
		return 0, nil, errorf(StackTooSmall, fmt.Sprintf("initial stack (%d bytes) does not fit below %#x", bound, top))
	}

	p := top - 8 // NULL end marker
	execfn := p - (uint64(len(spec.ExecFn)) + 1)
	envStart := execfn - envStrs
	argStart := envStart - argStrs
	p = argStart &^ 15 // arch_align_stack
	var platform uint64
	if spec.Platform != "" {
		p -= uint64(len(spec.Platform)) + 1
		platform = p
	}
	p -= 16
	random := p

	clk := spec.ClkTck
	if clk == 0 {
		clk = 100
	}
	aux := make([]auxEnt, 0, nAux)
	if spec.SysinfoEHDR != 0 {
		aux = append(aux, auxEnt{abi.AT_SYSINFO_EHDR, spec.SysinfoEHDR})
	}
	aux = append(aux,
		auxEnt{abi.AT_MINSIGSTKSZ, spec.MinSigStkSz},
		auxEnt{abi.AT_HWCAP, spec.HWCap},
		auxEnt{abi.AT_PAGESZ, pageSize},
		auxEnt{abi.AT_CLKTCK, clk},
		auxEnt{abi.AT_PHDR, img.Phdr},
		auxEnt{abi.AT_PHENT, uint64(img.Phent)},
		auxEnt{abi.AT_PHNUM, uint64(img.Phnum)},
		auxEnt{abi.AT_BASE, spec.InterpBase},
		auxEnt{abi.AT_FLAGS, 0},
		auxEnt{abi.AT_ENTRY, img.Entry},
		auxEnt{abi.AT_UID, spec.UID},
		auxEnt{abi.AT_EUID, spec.EUID},
		auxEnt{abi.AT_GID, spec.GID},
		auxEnt{abi.AT_EGID, spec.EGID},
		auxEnt{abi.AT_SECURE, b2u(spec.Secure)},
		auxEnt{abi.AT_RANDOM, random},
		auxEnt{abi.AT_HWCAP2, spec.HWCap2},
		auxEnt{abi.AT_EXECFN, execfn},
	)
	if spec.Platform != "" {
		aux = append(aux, auxEnt{abi.AT_PLATFORM, platform})
	}
	aux = append(aux, auxEnt{abi.AT_NULL, 0})

	sp = p - uint64(len(aux))*16 // STACK_ADD(p, ei_index)
	sp = (sp - items*8) &^ 15    // STACK_ROUND(sp, items)

	data = make([]byte, top-sp)
	le := binary.LittleEndian
	put := func(addr uint64, v uint64) { le.PutUint64(data[addr-sp:], v) }
	puts := func(addr uint64, s string) { copy(data[addr-sp:], s) } // NUL from make

	puts(execfn, spec.ExecFn)
	q := sp
	put(q, uint64(len(argv)))
	q += 8
	a := argStart
	for _, s := range argv {
		puts(a, s)
		put(q, a)
		q += 8
		a += uint64(len(s)) + 1
	}
	q += 8 // NULL
	for _, s := range envp {
		puts(a, s)
		put(q, a)
		q += 8
		a += uint64(len(s)) + 1
	}
	q += 8 // NULL
	for _, e := range aux {
		put(q, e.key)
		put(q+8, e.val)
		q += 16
	}
	if spec.Platform != "" {
		puts(platform, spec.Platform)
	}
	copy(data[random-sp:], spec.Random[:])
	return sp, data, nil
}

// BuildStack writes the initial stack (see Layout) below top, which must be
// the exclusive end of a mapped stack, and returns the initial RSP (pointing
// at argc). A Memory failure (e.g. the stack mapping is too small) is a
// MemoryFailed *Error.
func BuildStack(mem Memory, top uint64, img *Image, spec StackSpec) (sp uint64, err error) {
	sp, data, err := Layout(top, img, spec)
	if err != nil {
		return 0, err
	}
	if err := mem.Write(sp, data); err != nil {
		return 0, &Error{Kind: MemoryFailed, Msg: fmt.Sprintf("writing the initial stack [%#x, %#x)", sp, top), Err: err}
	}
	return sp, nil
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}
