package initrd

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"github.com/u-root/u-root/pkg/cpio"
	"golang.org/x/sys/unix"
)

// urootArchive writes recs and a trailer with u-root's newc writer.
func urootArchive(t testing.TB, recs ...cpio.Record) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := cpio.Newc.Writer(&buf)
	if err := cpio.WriteRecords(w, recs); err != nil {
		t.Fatal(err)
	}
	if err := cpio.WriteTrailer(w); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// hrec is a hand-made newc record, for what u-root's writer will not write:
// duplicates, raw names, hard links, 070702, malformed headers.
type hrec struct {
	magic                                             string // default 070701
	name                                              string
	mode                                              uint32
	data                                              string
	ino, nlink, uid, gid, mtime, maj, min, rmaj, rmin uint32
	check                                             uint32
	size, nameSize                                    uint32 // used if setSize, setNameSize
	setSize, setNameSize                              bool
	noNUL                                             bool // omit the name's NUL
	hexJunk                                           bool // a non-hex digit in the uid field
}

func (r hrec) bytes() []byte {
	magic := r.magic
	if magic == "" {
		magic = magicNewc
	}
	name := r.name
	if !r.noNUL {
		name += "\x00"
	}
	size, ns := uint32(len(r.data)), uint32(len(name))
	if r.setSize {
		size = r.size
	}
	if r.setNameSize {
		ns = r.nameSize
	}
	nlink := r.nlink
	if nlink == 0 {
		nlink = 1
	}
	h := fmt.Sprintf("%s%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", magic,
		r.ino, r.mode, r.uid, r.gid, nlink, r.mtime, size, r.maj, r.min, r.rmaj, r.rmin, ns, r.check)
	if r.hexJunk {
		h = h[:6+2*8] + "0000000G" + h[6+3*8:]
	}
	b := append([]byte(h), name...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	b = append(b, r.data...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

var trailer = hrec{name: "TRAILER!!!"}

// handArchive concatenates recs and a trailer.
func handArchive(recs ...hrec) []byte {
	var b []byte
	for _, r := range append(recs, trailer) {
		b = append(b, r.bytes()...)
	}
	return b
}

func sum(s string) uint32 {
	var v uint32
	for _, c := range []byte(s) {
		v += uint32(c)
	}
	return v
}

const (
	sIFREG = unix.S_IFREG
	sIFDIR = unix.S_IFDIR
	sIFLNK = unix.S_IFLNK
	sIFCHR = unix.S_IFCHR
)

// testRecords is the archive most tests share.
func testRecords() []cpio.Record {
	recs := []cpio.Record{
		cpio.Directory("bin", 0o755),
		cpio.Directory("etc", 0o700),
		cpio.StaticFile("bin/hello", "hello world\n", 0o755),
		cpio.StaticFile("bin/su", "x", 0o4755),
		cpio.StaticFile("etc/empty", "", 0o644),
		cpio.StaticRecord([]byte("owned"), cpio.Info{Name: "etc/owned", Mode: cpio.S_IFREG | 0o640, UID: 1000, GID: 100, MTime: 1700000000}),
		cpio.StaticFile("deep/a/b/c/file", "deep", 0o600), // implicit parents
		cpio.Symlink("bin/sh", "hello"),                   // relative
		cpio.Symlink("abs", "/etc"),                       // absolute, to a directory
		cpio.Symlink("chain1", "chain2"),
		cpio.Symlink("chain2", "/chain3"),
		cpio.Symlink("chain3", "bin/sh"),
		cpio.Symlink("loop1", "loop2"),
		cpio.Symlink("loop2", "./loop1"),
		cpio.Symlink("self", "self"),
		cpio.Symlink("dangling", "nowhere"),
		cpio.Symlink("deep/a/up", "../.."),
		cpio.CharDev("dev/null", 0o666, 1, 3),
	}
	return recs
}

type wantNode struct {
	mode   uint32
	data   string // regular files
	target string // symlinks
	rdev   uint64
}

var testTree = map[string]wantNode{
	"/":                {mode: sIFDIR | 0o755},
	"/bin":             {mode: sIFDIR | 0o755},
	"/etc":             {mode: sIFDIR | 0o700},
	"/deep":            {mode: sIFDIR | 0o755},
	"/deep/a":          {mode: sIFDIR | 0o755},
	"/deep/a/b":        {mode: sIFDIR | 0o755},
	"/deep/a/b/c":      {mode: sIFDIR | 0o755},
	"/dev":             {mode: sIFDIR | 0o755},
	"/bin/hello":       {mode: sIFREG | 0o755, data: "hello world\n"},
	"/bin/su":          {mode: sIFREG | 0o4755, data: "x"},
	"/etc/empty":       {mode: sIFREG | 0o644},
	"/etc/owned":       {mode: sIFREG | 0o640, data: "owned"},
	"/deep/a/b/c/file": {mode: sIFREG | 0o600, data: "deep"},
	"/bin/sh":          {mode: sIFLNK | 0o777, target: "hello"},
	"/abs":             {mode: sIFLNK | 0o777, target: "/etc"},
	"/chain1":          {mode: sIFLNK | 0o777, target: "chain2"},
	"/chain2":          {mode: sIFLNK | 0o777, target: "/chain3"},
	"/chain3":          {mode: sIFLNK | 0o777, target: "bin/sh"},
	"/loop1":           {mode: sIFLNK | 0o777, target: "loop2"},
	"/loop2":           {mode: sIFLNK | 0o777, target: "./loop1"},
	"/self":            {mode: sIFLNK | 0o777, target: "self"},
	"/dangling":        {mode: sIFLNK | 0o777, target: "nowhere"},
	"/deep/a/up":       {mode: sIFLNK | 0o777, target: "../.."},
	"/dev/null":        {mode: sIFCHR | 0o666, rdev: unix.Mkdev(1, 3)},
}

func parseOK(t testing.TB, b []byte) *FS {
	t.Helper()
	fs, err := Parse(b)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	checkInvariants(t, fs, b)
	return fs
}

// checkInvariants checks what must hold of any FS Parse returns.
func checkInvariants(t testing.TB, fs *FS, input []byte) {
	t.Helper()
	base := uintptr(unsafe.Pointer(unsafe.SliceData(input)))
	count := 0
	inos := map[uint64]*Node{}
	err := fs.Walk(func(n *Node) error {
		count++
		if d := n.Data; len(d) > 0 {
			p := uintptr(unsafe.Pointer(unsafe.SliceData(d)))
			if p < base || p+uintptr(len(d)) > base+uintptr(len(input)) {
				return fmt.Errorf("%s: Data not inside the input", n.Path)
			}
			if !n.IsRegular() {
				return fmt.Errorf("%s: Data on a non-regular file", n.Path)
			}
		}
		if n.IsRegular() && n.Size != int64(len(n.Data)) {
			return fmt.Errorf("%s: Size %d, len(Data) %d", n.Path, n.Size, len(n.Data))
		}
		if n.IsSymlink() && n.Size != int64(len(n.Target)) {
			return fmt.Errorf("%s: Size %d, len(Target) %d", n.Path, n.Size, len(n.Target))
		}
		if n.Ino == 0 {
			return fmt.Errorf("%s: Ino 0", n.Path)
		}
		if o := inos[n.Ino]; o != nil && !hardLinked(o, n) {
			return fmt.Errorf("%s and %s share Ino %d", o.Path, n.Path, n.Ino)
		}
		inos[n.Ino] = n
		kids := fs.ReadDir(n)
		if !slices.IsSortedFunc(kids, func(a, b *Node) int { return strings.Compare(a.Name, b.Name) }) {
			return fmt.Errorf("%s: children not sorted", n.Path)
		}
		for i, c := range kids {
			if i > 0 && kids[i-1].Name == c.Name {
				return fmt.Errorf("%s: duplicate child %q", n.Path, c.Name)
			}
			if c.Parent() != n || c.Path != strings.TrimSuffix(n.Path, "/")+"/"+c.Name {
				return fmt.Errorf("%s: bad child %s", n.Path, c.Path)
			}
		}
		if got, err := fs.Lookup(n.Path, false); err != nil || got != n {
			return fmt.Errorf("Lookup(%q) = %v, %v", n.Path, got, err)
		}
		if n.IsSymlink() {
			fs.Lookup(n.Path, true) // must terminate without panicking
			fs.Lookup(n.Path+"/x/..", true)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if count != fs.Len() {
		t.Fatalf("Len() = %d, walked %d", fs.Len(), count)
	}
	if r := fs.Root(); r.Path != "/" || !r.IsDir() || r.Parent() != r {
		t.Fatalf("bad root %+v", r)
	}
}

// hardLinked reports whether a and b may be links to one file.
func hardLinked(a, b *Node) bool {
	return !a.IsDir() && a.Mode == b.Mode && a.Nlink > 1 && a.Nlink == b.Nlink &&
		len(a.Data) == len(b.Data) && unsafe.SliceData(a.Data) == unsafe.SliceData(b.Data)
}

func TestDetect(t *testing.T) {
	self, err := os.ReadFile("/proc/self/exe")
	if err != nil || len(self) < 64 {
		self = []byte("\x7fELF\x02\x01\x01")
	}
	for _, tc := range []struct {
		name string
		in   []byte
		want Kind
	}{
		{"test binary", self[:64], RawELF},
		{"elf magic only", []byte("\x7fELF"), RawELF},
		{"u-root archive", urootArchive(t, testRecords()...), Cpio},
		{"070702", handArchive(hrec{magic: magicNewcCRC, name: "a", mode: sIFREG}), Cpio},
		{"odc cpio", []byte("070707000000"), Unknown},
		{"gzip", []byte("\x1f\x8b\x08\x00"), Unknown},
		{"short elf", []byte("\x7fEL"), Unknown},
		{"short cpio", []byte("07070"), Unknown},
		{"empty", nil, Unknown},
		{"garbage", []byte("hello, world"), Unknown},
	} {
		if got := Detect(tc.in); got != tc.want {
			t.Errorf("%s: Detect = %v, want %v", tc.name, got, tc.want)
		}
	}
	for k, s := range map[Kind]string{RawELF: "raw ELF", Cpio: "newc cpio", Unknown: "unknown", Kind(9): "Kind(9)"} {
		if k.String() != s {
			t.Errorf("%d.String() = %q, want %q", int(k), k.String(), s)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	b := urootArchive(t, testRecords()...)
	fs := parseOK(t, b)
	if fs.Len() != len(testTree) {
		t.Errorf("Len() = %d, want %d", fs.Len(), len(testTree))
	}
	err := fs.Walk(func(n *Node) error {
		w, ok := testTree[n.Path]
		if !ok {
			t.Errorf("unexpected node %s", n.Path)
			return nil
		}
		if n.Mode != w.mode {
			t.Errorf("%s: mode %#o, want %#o", n.Path, n.Mode, w.mode)
		}
		if string(n.Data) != w.data {
			t.Errorf("%s: data %q, want %q", n.Path, n.Data, w.data)
		}
		if n.IsRegular() && n.Size != int64(len(w.data)) {
			t.Errorf("%s: size %d, want %d", n.Path, n.Size, len(w.data))
		}
		if n.Target != w.target {
			t.Errorf("%s: target %q, want %q", n.Path, n.Target, w.target)
		}
		if n.Rdev != w.rdev {
			t.Errorf("%s: rdev %#x, want %#x", n.Path, n.Rdev, w.rdev)
		}
		if n.Name != filepath.Base(n.Path) {
			t.Errorf("%s: name %q", n.Path, n.Name)
		}
		if n.IsDir() != (w.mode&unix.S_IFMT == sIFDIR) || n.IsSymlink() != (w.target != "") {
			t.Errorf("%s: IsDir/IsSymlink wrong", n.Path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	owned, _ := fs.Lookup("/etc/owned", false)
	if owned.UID != 1000 || owned.GID != 100 || owned.Mtime != 1700000000 || owned.Nlink != 1 {
		t.Errorf("/etc/owned: %+v", owned)
	}
	null, _ := fs.Lookup("/dev/null", false)
	if !null.IsDevice() || null.RdevMajor() != 1 || null.RdevMinor() != 3 {
		t.Errorf("/dev/null: %+v", null)
	}
	deep, _ := fs.Lookup("/deep/a", false)
	if deep.Nlink != 3 { // ".", its entry, and b's ".."
		t.Errorf("/deep/a: nlink %d, want 3", deep.Nlink)
	}
	// Data is not copied.
	hello, _ := fs.Lookup("/bin/hello", false)
	if i := bytes.Index(b, []byte("hello world\n")); &b[i] != &hello.Data[0] || cap(hello.Data) != len(hello.Data) {
		t.Error("/bin/hello: Data is not a clipped sub-slice of the archive")
	}
}

func TestReadDir(t *testing.T) {
	fs := parseOK(t, urootArchive(t, testRecords()...))
	var names []string
	for _, n := range fs.ReadDir(fs.Root()) {
		names = append(names, n.Name)
	}
	want := []string{"abs", "bin", "chain1", "chain2", "chain3", "dangling", "deep", "dev", "etc", "loop1", "loop2", "self"}
	if !slices.Equal(names, want) {
		t.Errorf("ReadDir(/) = %q, want %q", names, want)
	}
	f, _ := fs.Lookup("/bin/hello", false)
	if fs.ReadDir(f) != nil || fs.ReadDir(nil) != nil {
		t.Error("ReadDir of a non-directory is not nil")
	}
}

func TestLookup(t *testing.T) {
	fs := parseOK(t, urootArchive(t, testRecords()...))
	long := strings.Repeat("n", 255)
	for _, tc := range []struct {
		cwd, path string
		follow    bool
		want      string // path of the result, or "" if err
		err       syscall.Errno
	}{
		{"", "/", false, "/", 0},
		{"", "", false, "", unix.ENOENT},
		{"", "/bin/hello", false, "/bin/hello", 0},
		{"", "bin/hello", false, "/bin/hello", 0},
		{"", "//bin///hello", false, "/bin/hello", 0},
		{"", "/bin/./hello", false, "/bin/hello", 0},
		{"", "/./bin/../etc", false, "/etc", 0},
		{"", "/..", false, "/", 0},
		{"", "/../../bin", false, "/bin", 0},
		{"", ".", false, "/", 0},
		{"/bin", "hello", false, "/bin/hello", 0},
		{"/bin", "../etc/empty", false, "/etc/empty", 0},
		{"/bin", ".", false, "/bin", 0},
		{"/bin", "..", false, "/", 0},
		{"/bin", "/etc", false, "/etc", 0},
		{"/deep/a/b/c", "../../../..", false, "/", 0},
		// trailing slash
		{"", "/bin/", false, "/bin", 0},
		{"", "/bin//", false, "/bin", 0},
		{"", "/bin/hello/", false, "", unix.ENOTDIR},
		{"", "/bin/hello/.", false, "", unix.ENOTDIR},
		{"", "/bin/hello/x", false, "", unix.ENOTDIR},
		{"", "/bin/hello/..", false, "", unix.ENOTDIR},
		{"", "/dev/null/", true, "", unix.ENOTDIR},
		// symlinks
		{"", "/bin/sh", true, "/bin/hello", 0},
		{"", "/bin/sh", false, "/bin/sh", 0},
		{"", "/bin/sh/", false, "", unix.ENOTDIR}, // trailing slash follows
		{"", "/abs", false, "/abs", 0},
		{"", "/abs", true, "/etc", 0},
		{"", "/abs/", false, "/etc", 0},
		{"", "/abs/empty", false, "/etc/empty", 0},
		{"", "/abs/../bin", false, "/bin", 0}, // ".." is physical
		{"/bin", "../abs/owned", false, "/etc/owned", 0},
		{"", "/chain1", true, "/bin/hello", 0},
		{"", "/chain1", false, "/chain1", 0},
		{"", "chain2", true, "/bin/hello", 0},
		{"", "/deep/a/up", true, "/", 0},
		{"", "/deep/a/up/bin/sh", true, "/bin/hello", 0},
		{"/deep/a", "up/deep/a/up/abs/", false, "/etc", 0},
		{"", "/loop1", false, "/loop1", 0},
		{"", "/loop1", true, "", unix.ELOOP},
		{"", "/loop1/x", false, "", unix.ELOOP},
		{"", "/loop2/", false, "", unix.ELOOP},
		{"", "/self", true, "", unix.ELOOP},
		{"", "/dangling", false, "/dangling", 0},
		{"", "/dangling", true, "", unix.ENOENT},
		{"", "/dangling/x", false, "", unix.ENOENT},
		// missing
		{"", "/missing", false, "", unix.ENOENT},
		{"", "/missing/x", false, "", unix.ENOENT},
		{"/etc", "hello", false, "", unix.ENOENT},
		// lengths
		{"", "/" + long, false, "", unix.ENOENT},
		{"", "/" + long + "n", false, "", unix.ENAMETOOLONG},
		{"", "/bin/" + long + "n/..", false, "", unix.ENAMETOOLONG},
		{"", "/" + strings.Repeat("./", 2045) + "bin/", false, "/bin", 0}, // 4095 bytes
		{"", "/" + strings.Repeat("./", 2046) + "bin", false, "", unix.ENAMETOOLONG},
	} {
		var cwd *Node
		if tc.cwd != "" {
			var err error
			if cwd, err = fs.Lookup(tc.cwd, true); err != nil {
				t.Fatal(err)
			}
		}
		name := tc.path
		if len(name) > 40 {
			name = name[:40] + "..."
		}
		got, err := fs.LookupAt(cwd, tc.path, tc.follow)
		if tc.err != 0 {
			if got != nil || !errors.Is(err, tc.err) || err != error(tc.err) {
				t.Errorf("LookupAt(%q, %q, %v) = %v, %v; want %v", tc.cwd, name, tc.follow, got, err, tc.err)
			}
			continue
		}
		if err != nil || got == nil || got.Path != tc.want {
			t.Errorf("LookupAt(%q, %q, %v) = %v, %v; want %s", tc.cwd, name, tc.follow, got, err, tc.want)
		}
	}

	// A relative path from a non-directory.
	f, _ := fs.Lookup("/bin/hello", false)
	if _, err := fs.LookupAt(f, "x", false); err != unix.ENOTDIR {
		t.Errorf("relative lookup from a file: %v, want ENOTDIR", err)
	}
	if n, err := fs.LookupAt(f, "/bin", false); err != nil || n.Path != "/bin" {
		t.Errorf("absolute lookup from a file: %v, %v", n, err)
	}
}

// TestSymlinkHops checks the limit of 40 symlinks per lookup, counted over
// nested resolutions too.
func TestSymlinkHops(t *testing.T) {
	var recs []cpio.Record
	for i := range 41 {
		recs = append(recs, cpio.Symlink(fmt.Sprintf("l%d", i), fmt.Sprintf("l%d", i+1)))
	}
	recs = append(recs, cpio.StaticFile("l41", "end", 0o644))
	// m0 -> m1/ ... nested in intermediate components.
	for i := range 41 {
		recs = append(recs, cpio.Symlink(fmt.Sprintf("d/m%d", i), fmt.Sprintf("m%d/.", i+1)))
	}
	recs = append(recs, cpio.Directory("d/m41", 0o755))
	fs := parseOK(t, urootArchive(t, recs...))
	for _, tc := range []struct {
		path string
		err  error
	}{
		{"/l1", nil}, // 40 hops
		{"/l0", unix.ELOOP},
		{"/d/m1/", nil},
		{"/d/m0/", unix.ELOOP},
	} {
		n, err := fs.Lookup(tc.path, true)
		if err != tc.err {
			t.Errorf("Lookup(%s) = %v, %v; want %v", tc.path, n, err, tc.err)
		}
	}
}

// TestNamesAndReplacement uses hand-made records: name forms, duplicates,
// directory merges, the root record.
func TestNamesAndReplacement(t *testing.T) {
	b := handArchive(
		hrec{name: ".", mode: sIFDIR | 0o711, mtime: 7},
		hrec{name: "./bin/sh", mode: sIFREG | 0o755, data: "one"},
		hrec{name: "bin/sh", mode: sIFREG | 0o700, data: "two"},
		hrec{name: "/bin/sh", mode: sIFREG | 0o750, data: "three"},
		hrec{name: "../../up", mode: sIFREG | 0o644, data: "up"},
		hrec{name: "a//b/./c/../d", mode: sIFREG | 0o644, data: "d"},
		hrec{name: "dir", mode: sIFDIR | 0o700},
		hrec{name: "dir/f", mode: sIFREG | 0o644, data: "f"},
		hrec{name: "dir/", mode: sIFDIR | 0o750, uid: 5}, // merge: keeps dir/f
		hrec{name: "gone/x/y", mode: sIFREG | 0o644},
		hrec{name: "gone", mode: sIFLNK | 0o777, data: "bin"}, // replaces the tree
		hrec{name: "was-file", mode: sIFREG | 0o644, data: "x"},
		hrec{name: "was-file", mode: sIFDIR | 0o755},
		hrec{name: "was-file/in", mode: sIFREG | 0o644, data: "in"},
		hrec{name: "fifo", mode: unix.S_IFIFO | 0o600},
		hrec{name: "blk", mode: unix.S_IFBLK | 0o600, rmaj: 8, rmin: 300},
	)
	fs := parseOK(t, b)
	want := map[string]string{ // path -> mode and content
		"/":            "40711",
		"/bin":         "40755",
		"/bin/sh":      "100750 three",
		"/up":          "100644 up",
		"/a":           "40755",
		"/a/b":         "40755",
		"/a/b/d":       "100644 d",
		"/dir":         "40750",
		"/dir/f":       "100644 f",
		"/gone":        "120777 bin",
		"/was-file":    "40755",
		"/was-file/in": "100644 in",
		"/fifo":        "10600",
		"/blk":         "60600",
	}
	got := map[string]string{}
	fs.Walk(func(n *Node) error {
		s := fmt.Sprintf("%o", n.Mode)
		if c := string(n.Data) + n.Target; c != "" {
			s += " " + c
		}
		got[n.Path] = s
		return nil
	})
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("tree:\n got %v\nwant %v", got, want)
	}
	if fs.Root().Mtime != 7 {
		t.Errorf("root mtime %d, want 7", fs.Root().Mtime)
	}
	if d, _ := fs.Lookup("/dir", false); d.UID != 5 {
		t.Errorf("/dir uid %d, want 5", d.UID)
	}
	if n, _ := fs.Lookup("/blk", false); n.RdevMajor() != 8 || n.RdevMinor() != 300 {
		t.Errorf("/blk rdev %d:%d", n.RdevMajor(), n.RdevMinor())
	}
}

func TestHardLinks(t *testing.T) {
	b := handArchive(
		hrec{name: "x", mode: sIFREG | 0o644, ino: 42, nlink: 3},
		hrec{name: "sub/y", mode: sIFREG | 0o644, ino: 42, nlink: 3},
		hrec{name: "z", mode: sIFREG | 0o644, ino: 42, nlink: 3, data: "shared"},
		hrec{name: "other", mode: sIFREG | 0o644, ino: 42, nlink: 1, data: "mine"}, // same ino, not a link
		hrec{name: "dev", mode: sIFREG | 0o644, ino: 42, nlink: 2, maj: 9, data: "other device"},
	)
	fs := parseOK(t, b)
	x, _ := fs.Lookup("/x", false)
	y, _ := fs.Lookup("/sub/y", false)
	z, _ := fs.Lookup("/z", false)
	for _, n := range []*Node{x, y, z} {
		if string(n.Data) != "shared" || n.Size != 6 || n.Nlink != 3 || n.Ino != x.Ino {
			t.Errorf("%s: data %q size %d nlink %d ino %d", n.Path, n.Data, n.Size, n.Nlink, n.Ino)
		}
		if &n.Data[0] != &z.Data[0] {
			t.Errorf("%s: data not shared", n.Path)
		}
	}
	o, _ := fs.Lookup("/other", false)
	d, _ := fs.Lookup("/dev", false)
	if string(o.Data) != "mine" || o.Ino == x.Ino || o.Nlink != 1 {
		t.Errorf("/other: %q ino %d nlink %d", o.Data, o.Ino, o.Nlink)
	}
	if string(d.Data) != "other device" || d.Ino == x.Ino || d.Ino == o.Ino || d.Nlink != 1 {
		t.Errorf("/dev: %q ino %d nlink %d", d.Data, d.Ino, d.Nlink)
	}
}

func TestCRC(t *testing.T) {
	good := handArchive(
		hrec{magic: magicNewcCRC, name: "d", mode: sIFDIR | 0o755},
		hrec{magic: magicNewcCRC, name: "d/f", mode: sIFREG | 0o644, data: "checked", check: sum("checked")},
		hrec{name: "mixed", mode: sIFREG | 0o644, data: "no check", check: 12345},
	)
	fs := parseOK(t, good)
	if n, err := fs.Lookup("/d/f", false); err != nil || string(n.Data) != "checked" {
		t.Fatalf("/d/f: %v %v", n, err)
	}
	bad := handArchive(hrec{magic: magicNewcCRC, name: "f", mode: sIFREG | 0o644, data: "checked", check: sum("checked") + 1})
	var fe *FormatError
	if _, err := Parse(bad); !errors.As(err, &fe) || !strings.Contains(fe.Msg, "checksum") {
		t.Errorf("bad checksum: %v", err)
	}
}

func TestConcatenated(t *testing.T) {
	a := urootArchive(t, cpio.StaticFile("etc/a", "first", 0o644), cpio.StaticFile("etc/b", "b", 0o644))
	b := handArchive(hrec{magic: magicNewcCRC, name: "etc/a", mode: sIFREG | 0o600, data: "second", check: sum("second")})
	for len(a)%512 != 0 {
		a = append(a, 0)
	}
	all := append(append(slices.Clone(a), b...), make([]byte, 100)...)
	fs := parseOK(t, all)
	n, err := fs.Lookup("/etc/a", false)
	if err != nil || string(n.Data) != "second" || n.Mode != sIFREG|0o600 {
		t.Errorf("/etc/a: %+v, %v", n, err)
	}
	if _, err := fs.Lookup("/etc/b", false); err != nil {
		t.Errorf("/etc/b: %v", err)
	}
	// Data after a trailer must be another archive, aligned.
	var fe *FormatError
	junk := append(slices.Clone(a), "junk"...)
	if _, err := Parse(junk); !errors.As(err, &fe) || fe.Offset != int64(len(a)) {
		t.Errorf("junk after trailer: %v", err)
	}
	unaligned := append(slices.Clone(a), 0, 0)
	unaligned = append(unaligned, b...)
	if _, err := Parse(unaligned); !errors.As(err, &fe) || fe.Offset != int64(len(a)+2) {
		t.Errorf("unaligned archive after trailer: %v", err)
	}
}

// TestSystemCpio parses what GNU cpio makes of a real directory tree.
func TestSystemCpio(t *testing.T) {
	cpioPath, err := exec.LookPath("cpio")
	if err != nil {
		t.Skip("cpio not installed")
	}
	dir := t.TempDir()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(dir, "bin"), 0o755))
	must(os.MkdirAll(filepath.Join(dir, "usr/lib/empty"), 0o700))
	must(os.WriteFile(filepath.Join(dir, "init"), []byte("#!/bin/sh\necho hi\n"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "bin/busybox"), bytes.Repeat([]byte("busybox!"), 1000), 0o755))
	must(os.WriteFile(filepath.Join(dir, "usr/lib/odd"), []byte("abc"), 0o640))
	must(os.WriteFile(filepath.Join(dir, "usr/zero"), nil, 0o600))
	must(os.Link(filepath.Join(dir, "bin/busybox"), filepath.Join(dir, "bin/ls")))
	must(os.Link(filepath.Join(dir, "bin/busybox"), filepath.Join(dir, "usr/cat")))
	must(os.Symlink("busybox", filepath.Join(dir, "bin/sh")))
	must(os.Symlink("/usr/lib", filepath.Join(dir, "lib")))
	must(os.Symlink("../../bin/sh", filepath.Join(dir, "usr/lib/sh")))

	for _, format := range []string{"newc", "crc"} {
		t.Run(format, func(t *testing.T) {
			cmd := exec.Command("sh", "-c", "find . | "+cpioPath+" -o --quiet -H "+format)
			cmd.Dir = dir
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			b, err := cmd.Output()
			if err != nil {
				t.Fatalf("cpio: %v: %s", err, stderr.Bytes())
			}
			if Detect(b) != Cpio {
				t.Fatalf("Detect = %v", Detect(b))
			}
			fs := parseOK(t, b)
			seen := 0
			err = filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
				if err != nil {
					return err
				}
				seen++
				rel, _ := filepath.Rel(dir, p)
				n, err := fs.Lookup("/"+rel, false)
				if err != nil {
					return fmt.Errorf("Lookup(/%s): %v", rel, err)
				}
				st := fi.Sys().(*syscall.Stat_t)
				if n.Mode != st.Mode || n.UID != st.Uid || n.GID != st.Gid || n.Mtime != st.Mtim.Sec {
					t.Errorf("/%s: mode %#o uid %d gid %d mtime %d; want %#o %d %d %d", rel,
						n.Mode, n.UID, n.GID, n.Mtime, st.Mode, st.Uid, st.Gid, st.Mtim.Sec)
				}
				switch {
				case fi.Mode().IsRegular():
					want, _ := os.ReadFile(p)
					if !bytes.Equal(n.Data, want) || n.Size != st.Size || uint64(n.Nlink) != st.Nlink {
						t.Errorf("/%s: %d bytes nlink %d, want %d bytes nlink %d", rel, len(n.Data), n.Nlink, len(want), st.Nlink)
					}
				case fi.Mode()&os.ModeSymlink != 0:
					want, _ := os.Readlink(p)
					if n.Target != want || n.Size != st.Size {
						t.Errorf("/%s: target %q, want %q", rel, n.Target, want)
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if fs.Len() != seen {
				t.Errorf("Len() = %d, want %d", fs.Len(), seen)
			}
			bb, _ := fs.Lookup("/bin/busybox", false)
			for _, p := range []string{"/bin/ls", "/usr/cat"} {
				n, _ := fs.Lookup(p, false)
				if n.Ino != bb.Ino || &n.Data[0] != &bb.Data[0] {
					t.Errorf("%s is not linked to /bin/busybox", p)
				}
			}
			if n, err := fs.Lookup("/lib/sh", true); err != nil || n != bb {
				t.Errorf("/lib/sh: %v, %v", n, err)
			}
			if n, err := fs.Lookup("/init", true); err != nil || !n.IsRegular() || n.Perm() != 0o755 {
				t.Errorf("/init: %v, %v", n, err)
			}
		})
	}
}

func TestMalformed(t *testing.T) {
	valid := urootArchive(t, cpio.Directory("bin", 0o755), cpio.StaticFile("bin/hello", "hello world\n", 0o755))
	second := int64(len(hrec{name: "bin"}.bytes())) // offset of the second record
	noTrailer := valid[:len(valid)-len(trailer.bytes())]
	dataOff := int64(bytes.Index(valid, []byte("hello world")))
	big := bytes.Repeat([]byte{'A'}, 1<<16)

	for _, tc := range []struct {
		name string
		in   []byte
		off  int64 // want FormatError.Offset, or -1 to not check
	}{
		{"empty", nil, 0},
		{"one byte", []byte("0"), 0},
		{"truncated first header", valid[:50], 0},
		{"truncated second header", valid[:second+20], second},
		{"truncated name", valid[:second+headerLen+3], second},
		{"truncated data", valid[:dataOff+5], second},
		{"missing trailer", noTrailer, int64(len(noTrailer))},
		{"name size larger than archive", handArchive(hrec{name: "a", setNameSize: true, nameSize: 0xffffffff}), 0},
		{"name size past end", append(hrec{name: "abc", setNameSize: true, nameSize: 200}.bytes(), big[:100]...), 0},
		{"name size zero", handArchive(hrec{name: "a", setNameSize: true, nameSize: 0}), 0},
		{"name size over PATH_MAX", append(hrec{name: "a", setNameSize: true, nameSize: 5000}.bytes(), big...), 0},
		{"file size larger than archive", handArchive(hrec{name: "a", mode: sIFREG, data: "x", setSize: true, size: 0xfffffff0}), 0},
		{"file size one too big", append(slices.Clone(valid[:second]), hrec{name: "b", mode: sIFREG, data: "abcd", setSize: true, size: uint32(len(valid)) - uint32(second) - 120 + 100}.bytes()...), second},
		{"bad magic mid-archive", append(slices.Clone(valid[:second]), append([]byte("070707"), valid[second+6:]...)...), second},
		{"garbage mid-archive", append(slices.Clone(valid[:second]), big[:200]...), second},
		{"bad hex", handArchive(hrec{name: "ok", mode: sIFDIR}, hrec{name: "a", mode: sIFREG, hexJunk: true}), int64(len(hrec{name: "ok"}.bytes()))},
		{"name without NUL", handArchive(hrec{name: "abc", noNUL: true}), 0},
		{"name with NUL", handArchive(hrec{name: "a\x00b", mode: sIFREG}), 0},
		{"symlink target with NUL", handArchive(hrec{name: "l", mode: sIFLNK | 0o777, data: "a\x00b"}), 0},
		{"symlink target too long", handArchive(hrec{name: "l", mode: sIFLNK | 0o777, data: strings.Repeat("a", 4096)}), 0},
		{"unknown type", handArchive(hrec{name: "a", mode: 0o644}), 0},
		{"parent not a directory", handArchive(hrec{name: "f", mode: sIFREG}, hrec{name: "f/g", mode: sIFREG}), -1},
		{"parent is a symlink", handArchive(hrec{name: "l", mode: sIFLNK, data: "/"}, hrec{name: "l/g", mode: sIFREG}), -1},
		{"root not a directory", handArchive(hrec{name: ".", mode: sIFREG}), 0},
		{"component too long", handArchive(hrec{name: "a/" + strings.Repeat("x", 256), mode: sIFREG}), 0},
		{"bad checksum", handArchive(hrec{magic: magicNewcCRC, name: "f", mode: sIFREG, data: "abc", check: 1}), 0},
		{"raw ELF", []byte("\x7fELF\x02\x01\x01\x00"), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var ms0, ms1 runtime.MemStats
			runtime.ReadMemStats(&ms0)
			fs, err := Parse(tc.in)
			runtime.ReadMemStats(&ms1)
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("Parse = %v, %v; want *FormatError", fs, err)
			}
			if fs != nil {
				t.Errorf("Parse returned an FS with an error")
			}
			if tc.off >= 0 && fe.Offset != tc.off {
				t.Errorf("Offset = %d, want %d (%v)", fe.Offset, tc.off, err)
			}
			if a := ms1.TotalAlloc - ms0.TotalAlloc; a > 1<<20 {
				t.Errorf("Parse allocated %d bytes", a)
			}
			t.Log(err)
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add(urootArchive(f, testRecords()...))
	f.Add(handArchive(
		hrec{name: ".", mode: sIFDIR | 0o755},
		hrec{name: "x", mode: sIFREG | 0o644, ino: 4, nlink: 2},
		hrec{name: "y", mode: sIFREG | 0o644, ino: 4, nlink: 2, data: "linked"},
		hrec{name: "x", mode: sIFDIR | 0o755},
		hrec{magic: magicNewcCRC, name: "x/c", mode: sIFREG | 0o644, data: "crc", check: sum("crc")},
		hrec{name: "x/l", mode: sIFLNK | 0o777, data: "../y"},
		hrec{name: "x/m", mode: sIFLNK | 0o777, data: "m/"},
	))
	two := append(urootArchive(f, cpio.StaticFile("a", "a", 0o644)), make([]byte, 8)...)
	f.Add(append(two, urootArchive(f, cpio.Symlink("a", "b"))...))
	f.Add(handArchive(hrec{name: "a", setNameSize: true, nameSize: 0xffffffff}))
	f.Add([]byte("070701"))
	f.Fuzz(func(t *testing.T, b []byte) {
		fs, err := Parse(b)
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) || fs != nil {
				t.Fatalf("Parse = %v, %v", fs, err)
			}
			return
		}
		checkInvariants(t, fs, b)
	})
}

// Single makes the root a raw ELF initrd runs in: the file at its path
// with its parents, its data not copied, and nothing else.
func TestSingle(t *testing.T) {
	data := []byte("\x7fELF program bytes")
	fs, err := Single("/usr/bin/prog", data, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	n, err := fs.Lookup("/usr/bin/prog", true)
	if err != nil {
		t.Fatal(err)
	}
	if !n.IsRegular() || n.Perm() != 0o755 || n.Size != int64(len(data)) || n.Nlink != 1 || string(n.Data) != string(data) {
		t.Errorf("file: mode %#o size %d nlink %d data %q", n.Mode, n.Size, n.Nlink, n.Data)
	}
	if &n.Data[0] != &data[0] {
		t.Error("Data is a copy, want the caller's bytes")
	}
	if fs.Len() != 4 { // /, /usr, /usr/bin, the file
		t.Errorf("Len = %d, want 4", fs.Len())
	}
	for _, d := range []string{"/", "/usr", "/usr/bin"} {
		if n, err := fs.Lookup(d, true); err != nil || !n.IsDir() {
			t.Errorf("%s: %v, dir %v", d, err, err == nil && n.IsDir())
		}
	}
	if _, err := Single("/"+strings.Repeat("x", MaxNameLen+1), data, 0o755); err == nil {
		t.Error("a name longer than NAME_MAX was accepted")
	}
}

// FuzzParseURoot checks the kernel's newc reader against u-root's cpio
// package, the project's reference for the format: whatever list of
// files, directories and symlinks u-root writes, Parse must accept and
// give back with the same contents, targets, modes and owners. The fuzz
// input is a little program: each record takes a kind byte, a name byte
// (one of a few names, so that records clash and nest), a mode byte and
// a length-prefixed payload.
func FuzzParseURoot(f *testing.F) {
	f.Add([]byte{0, 1, 0o44, 3, 'a', 'b', 'c', 1, 2, 0o55, 0, 2, 3, 0o77, 1, 'x'})
	f.Add([]byte{1, 0, 0o55, 0, 0, 4, 0o44, 5, 'h', 'e', 'l', 'l', 'o'})
	names := []string{"a", "b", "a/b", "a/b/c", "d/e", "x", "x/y", "long-" + strings.Repeat("n", 200)}
	f.Fuzz(func(t *testing.T, b []byte) {
		var recs []cpio.Record
		// u-root's writer drops a record whose name it wrote already:
		// the first of each path is the one in the archive.
		want := map[string]cpio.Record{}
		for len(b) >= 4 && len(recs) < 64 {
			kind, name, mode, n := b[0]%3, names[int(b[1])%len(names)], uint64(b[2])<<3|7, int(b[3])
			b = b[4:]
			data := string(b[:min(n, len(b))])
			b = b[len(data):]
			var r cpio.Record
			switch kind {
			case 0:
				r = cpio.StaticFile(name, data, mode&0o7777)
			case 1:
				r = cpio.Directory(name, mode&0o7777)
			default:
				if data == "" {
					data = "t"
				}
				r = cpio.Symlink(name, data)
			}
			r.UID, r.GID, r.MTime = uint64(b0(b)), uint64(b0(b)+1), 1700000000
			recs = append(recs, r)
			if _, ok := want[name]; !ok {
				want[name] = r
			}
		}
		if len(recs) == 0 {
			return
		}
		arch := urootArchive(t, recs...)
		fs, err := Parse(arch)
		if err != nil {
			// A name under a symlink or a file cannot be made: Parse
			// refuses such an archive with a FormatError, as it must.
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("Parse of u-root's archive: %v", err)
			}
			return
		}
		checkInvariants(t, fs, arch)
		for name, r := range want {
			n, err := fs.Lookup("/"+name, false)
			if err != nil {
				// Replaced by a later record of a parent path.
				continue
			}
			if n.Mode&unix.S_IFMT != uint32(r.Mode)&unix.S_IFMT {
				continue // a later record of another kind under this path
			}
			if n.Perm() != uint32(r.Mode)&0o7777 || n.UID != uint32(r.UID) || n.GID != uint32(r.GID) {
				t.Errorf("%s: mode %o uid %d gid %d, u-root wrote %o %d %d", name, n.Mode, n.UID, n.GID, r.Mode, r.UID, r.GID)
			}
			switch {
			case n.IsRegular() || n.IsSymlink():
				var data bytes.Buffer
				if r.ReaderAt != nil {
					if _, err := data.ReadFrom(io.NewSectionReader(r.ReaderAt, 0, int64(r.FileSize))); err != nil {
						t.Fatal(err)
					}
				}
				got := string(n.Data)
				if n.IsSymlink() {
					got = n.Target
				}
				if got != data.String() {
					t.Errorf("%s: %q, u-root wrote %q", name, got, data.String())
				}
			}
		}
	})
}

// b0 is the first byte of b, or 0.
func b0(b []byte) byte {
	if len(b) == 0 {
		return 0
	}
	return b[0]
}
