package main

import (
	"debug/elf"
	"strconv"
	"strings"
)

// exitNoMemory is the kernel's status for too little memory, which the
// runner gives too when the kernel could not even be loaded.
const exitNoMemory = 113

// memBytes reads QEMU's -m value: a number of MiB, or a number with a
// K, M, G or T suffix (QEMU's size suffixes, powers of 1024). Forms it
// does not know (size=..., slots=...) give ok false: the runner then
// leaves the check to QEMU and the kernel.
func memBytes(v string) (n uint64, ok bool) {
	shift := 20
	if i := len(v) - 1; i > 0 {
		switch strings.ToUpper(v[i:]) {
		case "K":
			shift, v = 10, v[:i]
		case "M":
			shift, v = 20, v[:i]
		case "G":
			shift, v = 30, v[:i]
		case "T":
			shift, v = 40, v[:i]
		}
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f <= 0 || f >= 1<<24 {
		return 0, false
	}
	return uint64(f * float64(uint64(1)<<shift)), true
}

// imageEnd is the end of the kernel's loaded image in physical memory:
// the highest physical address of a PT_LOAD segment's memory.
func imageEnd(kernel string) (uint64, error) {
	f, err := elf.Open(kernel)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var end uint64
	for _, p := range f.Progs {
		if p.Type == elf.PT_LOAD {
			end = max(end, p.Paddr+p.Memsz)
		}
	}
	return end, nil
}

// checkMemory refuses a -m below the kernel image's end: QEMU loads the
// image past the end of RAM without complaint and the kernel never runs,
// so nothing would say why. Above that the kernel itself checks its
// minimum ("need at least N MiB").
func checkMemory(kernel, mem string) error {
	n, ok := memBytes(mem)
	if !ok {
		return nil
	}
	end, err := imageEnd(kernel)
	if err != nil || end == 0 {
		return nil // not an ELF file: QEMU will say what it thinks of it
	}
	if n < end {
		return fail(exitNoMemory, "-m %s is too little memory: the kernel image alone (%s) ends at %.1f MiB", mem, kernel, float64(end)/(1<<20))
	}
	return nil
}
