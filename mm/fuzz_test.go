package mm_test

import (
	"bytes"
	"testing"

	"golang.org/x/sys/unix"

	"yolk/mm"
	"yolk/mm/mmtest"
)

// The fuzz test runs random operations on a few address spaces (a parent
// and its forks) over a 16-page region straddling a 2 MiB table boundary,
// and checks them against a model: which pages are mapped, with what
// protection and what bytes. After every step the frame accounting must
// add up: the fake Phys's frames in use are exactly the spaces' tables
// plus the distinct data frames, each with as many references as entries
// point at it.

const (
	fzPages = 16
	fzBase  = 0x400000 - 8*pg
)

type modelPage struct {
	mapped bool
	prot   uint32
	data   [pg]byte
}

type model [fzPages]modelPage

func (m *model) canAccess(va uint64, write bool) bool {
	if va < fzBase || va >= fzBase+fzPages*pg {
		return false
	}
	p := &m[(va-fzBase)/pg]
	if !p.mapped || p.prot&(rw|unix.PROT_EXEC) == 0 {
		return false
	}
	return !write || p.prot&unix.PROT_WRITE != 0
}

// expectCopy returns how many bytes a copy of n bytes at va gets done.
func (m *model) expectCopy(va uint64, n int, write bool) int {
	done := 0
	for done < n {
		cur := va + uint64(done)
		if !m.canAccess(cur, write) {
			return done
		}
		done += int(min(uint64(n-done), pg-cur%pg))
	}
	return done
}

var fzProts = []uint32{unix.PROT_NONE, ro, rw, rwx, unix.PROT_EXEC}

type fzState struct {
	t      *testing.T
	p      *mmtest.Phys
	spaces []*mm.AddressSpace
	models []*model
}

func (s *fzState) check(step int) {
	t := s.t
	tables := 0
	refs := map[uint64]int{}
	for i, as := range s.spaces {
		tb, fr := mm.Audit(as)
		tables += tb
		n := 0
		for f, c := range fr {
			refs[f] += c
			n += c
		}
		if uint64(n) != as.Resident() {
			t.Fatalf("step %d: space %d: Resident %d, entries %d", step, i, as.Resident(), n)
		}
		for pgi := range s.models[i] {
			mp := &s.models[i][pgi]
			v, ok := as.Lookup(fzBase + uint64(pgi)*pg)
			if ok != mp.mapped || ok && v.Prot != mp.prot {
				t.Fatalf("step %d: space %d page %d: VMA %+v %v, model %v %d", step, i, pgi, v, ok, mp.mapped, mp.prot)
			}
		}
		mm.Check(as, t)
		// Merging: VMAs are the maximal runs of pages with one protection.
		vs := as.VMAs()
		for j := 1; j < len(vs); j++ {
			if vs[j-1].End == vs[j].Start && vs[j-1].Prot == vs[j].Prot {
				t.Fatalf("step %d: space %d: VMAs %+v and %+v not merged", step, i, vs[j-1], vs[j])
			}
		}
	}
	for f, c := range refs {
		if r := s.p.Refs(f); int(r) != c {
			t.Fatalf("step %d: frame %#x has %d references, %d entries", step, f, r, c)
		}
	}
	if in := s.p.InUse(); in != tables+len(refs) {
		t.Fatalf("step %d: %d frames in use, %d tables + %d data frames", step, in, tables, len(refs))
	}
}

func FuzzOps(f *testing.F) {
	f.Add([]byte{0, 0, 16, 2, 4, 3, 40, 7, 6, 0, 0, 0, 4, 3, 40, 9, 5, 3, 40, 0})
	f.Add([]byte{0, 4, 8, 2, 4, 60, 200, 1, 3, 5, 1, 0, 6, 0, 0, 0, 3, 5, 1, 2, 4, 60, 200, 3, 8, 4, 4, 0, 5, 60, 200, 0, 7, 1, 0, 0})
	f.Add([]byte{0, 0, 16, 2, 9, 3, 1, 0, 6, 0, 0, 0, 9, 3, 1, 1, 4, 3, 10, 5, 2, 2, 3, 0, 5, 0, 255, 0})
	f.Add([]byte("7200A10y"))     // mremap of an unmapped address changes nothing
	f.Add([]byte("71z07$71$101")) // mprotect re-merges at the range's end
	f.Fuzz(runOps)
}

func runOps(t *testing.T, data []byte) {
	{
		if len(data) > 400 {
			return
		}
		p := mmtest.NewPhys(200)
		as, err := mm.New(mm.Config{Phys: p, Lo: mmtest.Lo, Hi: mmtest.Hi, MmapTop: mmtest.MmapTop})
		if err != nil {
			t.Fatal(err)
		}
		s := &fzState{t: t, p: p, spaces: []*mm.AddressSpace{as}, models: []*model{new(model)}}
		for step := 0; len(data) >= 4; step++ {
			op, a, b, c := data[0], data[1], data[2], data[3]
			data = data[4:]
			k := int(c) % len(s.spaces)
			as, m := s.spaces[k], s.models[k]
			start := int(a) % fzPages
			n := 1 + int(b)%(fzPages-start)
			va, length := fzBase+uint64(start)*pg, uint64(n)*pg
			prot := fzProts[int(c)%len(fzProts)]
			switch op % 11 {
			case 0, 1: // mmap MAP_FIXED / MAP_FIXED_NOREPLACE
				flags := mm.Fixed
				if op%11 == 1 {
					flags = mm.FixedNoReplace
				}
				exists := false
				for i := start; i < start+n; i++ {
					exists = exists || m[i].mapped
				}
				_, err := as.Map(va, length, prot, flags, nil, 0, "")
				switch {
				case flags == mm.FixedNoReplace && exists:
					if err != unix.EEXIST {
						t.Fatalf("step %d: MAP_FIXED_NOREPLACE over a mapping: %v", step, err)
					}
				case err != nil:
					t.Fatalf("step %d: Map: %v", step, err)
				default:
					for i := start; i < start+n; i++ {
						m[i] = modelPage{mapped: true, prot: prot}
					}
				}
			case 2:
				if err := as.Unmap(va, length); err != nil {
					t.Fatalf("step %d: Unmap: %v", step, err)
				}
				for i := start; i < start+n; i++ {
					m[i] = modelPage{}
				}
			case 3, 8: // mprotect, madvise(MADV_DONTNEED)
				hole := false
				for i := start; i < start+n; i++ {
					hole = hole || !m[i].mapped
				}
				var err error
				if op%11 == 3 {
					err = as.Protect(va, length, prot)
				} else {
					err = as.Discard(va, length)
				}
				if hole != (err == unix.ENOMEM) || !hole && err != nil {
					t.Fatalf("step %d: op %d over hole=%v: %v", step, op%11, hole, err)
				}
				for i := start; i < start+n && !hole; i++ {
					if op%11 == 3 {
						m[i].prot = prot
					} else {
						m[i].data = [pg]byte{}
					}
				}
			case 4, 5, 9: // CopyOut, CopyIn, ZeroOut at a byte offset
				cva := va + uint64(b)*37%pg - 64
				cn := int(c)*97%(3*pg) + 1
				write := op%11 != 5
				want := m.expectCopy(cva, cn, write)
				buf := bytes.Repeat([]byte{byte(step + 1)}, cn)
				var got int
				var err error
				switch op % 11 {
				case 4:
					got, err = as.CopyOut(cva, buf)
				case 5:
					got, err = as.CopyIn(cva, buf)
				case 9:
					got, err = as.ZeroOut(cva, uint64(cn))
				}
				if got != want || (want < cn) != (err == unix.EFAULT) || want == cn && err != nil {
					t.Fatalf("step %d: copy op %d of %d at %#x: %d %v, want %d", step, op%11, cn, cva, got, err, want)
				}
				for i := 0; i < got; i++ {
					o := cva + uint64(i) - fzBase
					mb := &m[o/pg].data[o%pg]
					switch op % 11 {
					case 4:
						*mb = buf[i]
					case 9:
						*mb = 0
					case 5:
						if buf[i] != *mb {
							t.Fatalf("step %d: byte at %#x is %d, model %d", step, cva+uint64(i), buf[i], *mb)
						}
					}
				}
			case 10: // mremap(MREMAP_MAYMOVE|MREMAP_FIXED) inside the region
				dst := int(c) % fzPages
				nn := 1 + int(c/16)%(fzPages-dst)
				dva, dlen := fzBase+uint64(dst)*pg, uint64(nn)*pg
				got, err := as.Remap(va, length, dlen, unix.MREMAP_MAYMOVE|unix.MREMAP_FIXED, dva)
				if !m[start].mapped {
					if err != unix.EFAULT {
						t.Fatalf("step %d: mremap of an unmapped address: %v", step, err)
					}
					break
				}
				if dst < start+n && start < dst+nn {
					if err != unix.EINVAL {
						t.Fatalf("step %d: overlapping mremap: %v", step, err)
					}
					break
				}
				src := *m
				for i := dst; i < dst+nn; i++ {
					m[i] = modelPage{}
				}
				ol := min(n, nn)
				for i := start + nn; i < start+n; i++ {
					m[i] = modelPage{}
				}
				ok := src[start].mapped
				for i := start; i < start+ol; i++ {
					ok = ok && src[i].mapped && src[i].prot == src[start].prot
				}
				if !ok {
					if err != unix.EFAULT {
						t.Fatalf("step %d: mremap of a range not in one VMA: %#x %v", step, got, err)
					}
					break
				}
				if err != nil || got != dva {
					t.Fatalf("step %d: mremap: %#x %v", step, got, err)
				}
				for i := 0; i < nn; i++ {
					if i < ol {
						m[dst+i] = src[start+i]
					} else {
						m[dst+i] = modelPage{mapped: true, prot: src[start].prot}
					}
				}
				for i := start; i < start+ol; i++ {
					m[i] = modelPage{}
				}
			case 6: // fork
				if len(s.spaces) < 4 {
					c, err := as.Fork()
					if err == unix.ENOMEM {
						break
					}
					if err != nil {
						t.Fatal(err)
					}
					cm := *m
					s.spaces = append(s.spaces, c)
					s.models = append(s.models, &cm)
				}
			case 7: // exit: release one space
				if len(s.spaces) > 1 {
					as.Release()
					s.spaces = append(s.spaces[:k], s.spaces[k+1:]...)
					s.models = append(s.models[:k], s.models[k+1:]...)
				}
			}
			s.check(step)
		}
		for _, as := range s.spaces {
			as.Release()
		}
		if n := p.InUse(); n != 0 {
			t.Fatalf("%d frames in use after releasing everything", n)
		}
	}
}
