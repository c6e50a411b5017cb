package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

func testResults() *Results {
	return &Results{
		Date: "2026-01-02 03:04 UTC", Commit: "abc1234", Accel: "tcg", Mem: "512M", Rounds: 3,
		Host: "a CPU, 2 CPUs", QEMU: "QEMU 7.2", LinuxKernel: "linux-image-6.1.0-57-amd64 6.1.192-3",
		Yolk:   map[string][]float64{"boot": {0.5e9, 0.7e9, 0.6e9}, "getppid": {10e3, 12e3, 11e3}, "gzip": {Missing, Missing, Missing}},
		Linux:  map[string][]float64{"boot": {4e9, 5e9, Missing}, "getppid": {2e3, 2e3, 2e3}, "gzip": {1e9, 1.1e9, 1.2e9}},
		Native: map[string][]float64{"getppid": {0.2e3, 0.3e3, 0.25e3}},
		Commands: []Command{
			{"yolk work", []string{"qemu/run", "-i", "build/bench/work.cpio", "/init"}, []string{"-M", "microvm", "-append", "init=/init a b"}},
			{"Linux work (PVH)", []string{"qemu-system-x86_64", "-M", "microvm,acpi=off"}, []string{"-M", "microvm,acpi=off"}},
		},
		Errors: []string{"round 2: Linux boot (PVH): timed out"},
	}
}

func TestWriteMarkdown(t *testing.T) {
	r := testResults()
	var b strings.Builder
	if err := WriteMarkdown(&b, r, r.Rows(metrics), "benchmarks.svg"); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{
		"| boot to first output (Linux: vmlinux by PVH) | s | 0.60 (0.50–0.70) | 4.50 (4.00–5.00) | — | 0.13 (0.12–0.14) |",
		"| getppid round trip | µs | 11.0 (10.0–12.0) | 2.00 (2.00–2.00) | 0.25 (0.20–0.30) | 5.50 (5.00–6.00) |",
		"| busybox gzip -c of 4 MiB of text | s | — | 1.10 (1.00–1.20) | — | — |",
		"![yolk/Linux ratio per metric, log scale](benchmarks.svg)",
		"- round 2: Linux boot (PVH): timed out",
		"qemu/run -i build/bench/work.cpio /init\n# which starts:\nqemu-system-x86_64 -M microvm -append 'init=/init a b'\n",
		"qemu-system-x86_64 -M microvm,acpi=off\n```",
		"| boot | 0.50, 0.70, 0.60 | 4.00, 5.00, — |",
		"## Not measured",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "cycles") && strings.Contains(md, "| yolk cycles") {
		t.Errorf("cycle columns under TCG")
	}
	r.Accel = "kvm"
	r.YolkCycles = map[string][]float64{"getppid": {300, 310, 320}}
	r.LinuxCycles = map[string][]float64{"getppid": {90, 100, 110}}
	b.Reset()
	WriteMarkdown(&b, r, r.Rows(metrics), "x.svg")
	if !strings.Contains(b.String(), "| getppid round trip | µs | 11.0 (10.0–12.0) | 2.00 (2.00–2.00) | 0.25 (0.20–0.30) | 5.50 (5.00–6.00) | 310 (300–320) | 100 (90.0–110) |") {
		t.Errorf("KVM: no cycle columns:\n%s", b.String())
	}
}

func TestWriteSVG(t *testing.T) {
	r := testResults()
	rows := r.Rows(metrics)
	var b strings.Builder
	if err := WriteSVG(&b, rows, "tcg"); err != nil {
		t.Fatal(err)
	}
	// Well-formed XML, one bar (rect with a title) per row with a ratio.
	d := xml.NewDecoder(strings.NewReader(b.String()))
	bars, texts := 0, []string{}
	var inText bool
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("not XML: %v\n%s", err, b.String())
		}
		switch e := tok.(type) {
		case xml.StartElement:
			if e.Name.Local == "rect" && hasAttr(e, "height") && !hasAttr(e, "width", "100%") && attr(e, "fill") != "white" {
				bars++
			}
			inText = e.Name.Local == "text"
		case xml.CharData:
			if inText {
				texts = append(texts, string(e))
			}
		case xml.EndElement:
			inText = false
		}
	}
	if bars != 2 {
		t.Errorf("%d bars, want 2 (boot, getppid; gzip has no ratio)", bars)
	}
	joined := strings.Join(texts, "|")
	for _, want := range []string{"boot|0.13×", "getppid|5.50×", "gzip|no ratio", "1×", "0.1×", "10×"} {
		if !strings.Contains(joined, want) {
			t.Errorf("chart text lacks %q: %s", want, joined)
		}
	}
}

func hasAttr(e xml.StartElement, name string, value ...string) bool {
	for _, a := range e.Attr {
		if a.Name.Local == name && (len(value) == 0 || a.Value == value[0]) {
			return true
		}
	}
	return false
}

func attr(e xml.StartElement, name string) string {
	for _, a := range e.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func TestShellQuoteAndRelPaths(t *testing.T) {
	got := shellQuote(relPaths([]string{"/r/qemu/run", "-append", "a b", "path=/tmp/yolk-run.123/io.sock", "it's", ""}, "/r"))
	want := `qemu/run -append 'a b' 'path=$TMP/io.sock' 'it'\''s' ''`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// bzImage makes the smallest image XZPayload reads: a setup header with
// one setup sector and the payload fields.
func bzImage(version uint16, payload []byte) []byte {
	img := make([]byte, 2*512+16+len(payload))
	img[0x1f1] = 1
	copy(img[0x202:], "HdrS")
	binary.LittleEndian.PutUint16(img[0x206:], version)
	binary.LittleEndian.PutUint32(img[0x248:], 16)
	binary.LittleEndian.PutUint32(img[0x24c:], uint32(len(payload)))
	copy(img[2*512+16:], payload)
	return img
}

func TestXZPayload(t *testing.T) {
	xz := append(append([]byte{}, xzMagic...), "rest"...)
	p, err := XZPayload(bzImage(0x20f, xz))
	if err != nil || !bytes.Equal(p, xz) {
		t.Fatalf("XZPayload = %q, %v; want %q", p, err, xz)
	}
	for name, img := range map[string][]byte{
		"short":        make([]byte, 0x100),
		"no HdrS":      make([]byte, 0x400),
		"old":          bzImage(0x207, xz),
		"gzip":         bzImage(0x20f, []byte{0x1f, 0x8b, 8, 0, 0, 0}),
		"past the end": func() []byte { b := bzImage(0x20f, xz); binary.LittleEndian.PutUint32(b[0x24c:], 1<<20); return b }(),
	} {
		var pe *PayloadError
		if _, err := XZPayload(img); !errors.As(err, &pe) {
			t.Errorf("%s: err %v, want a *PayloadError", name, err)
		}
	}
}

func TestGenText(t *testing.T) {
	a, b := GenText(100000), GenText(100000)
	if len(a) != 100000 || !bytes.Equal(a, b) {
		t.Fatalf("GenText: %d bytes, same twice: %v", len(a), bytes.Equal(a, b))
	}
	if n := bytes.Count(a, []byte("\n")); n < 1000 {
		t.Errorf("%d lines in 100000 bytes, want text", n)
	}
}

func TestGenJSON(t *testing.T) {
	a, b := GenJSON(200000), GenJSON(200000)
	if len(a) < 200000 || !bytes.Equal(a, b) {
		t.Fatalf("GenJSON: %d bytes, same twice: %v", len(a), bytes.Equal(a, b))
	}
	var recs []struct {
		ID     int      `json:"id"`
		Name   string   `json:"name"`
		Score  float64  `json:"score"`
		Active bool     `json:"active"`
		Tags   []string `json:"tags"`
		Owner  struct {
			UID   int    `json:"uid"`
			Group string `json:"group"`
		} `json:"owner"`
	}
	if err := json.Unmarshal(a, &recs); err != nil {
		t.Fatal(err)
	}
	if len(recs) < 1000 || recs[len(recs)-1].ID != len(recs)-1 || recs[7].Owner.Group == "" {
		t.Errorf("%d records, last id %d", len(recs), recs[len(recs)-1].ID)
	}
}

// The boots of a round: the xz pair with -smp N on both sides (MTTCG for
// Linux, as qemu/run gives yolk), the jobs file reaching each init as its
// argument (after Linux's tsc_early_khz), and every boot in exactly one
// group.
func TestVMs(t *testing.T) {
	f := runFlags{root: ".", work: "w", linux: "l", kernel: "k", accel: "tcg", mem: "512M", smp: 2, timeout: time.Minute}
	vms, groups := f.vms()
	seen := map[int]int{}
	for _, g := range groups {
		for _, i := range g {
			seen[i]++
		}
	}
	if len(vms) != 8 || len(seen) != len(vms) {
		t.Fatalf("%d boots, %d grouped: %v", len(vms), len(seen), groups)
	}
	for i, n := range seen {
		if n != 1 {
			t.Errorf("boot %d (%s) in %d groups", i, vms[i].vm.Name, n)
		}
	}
	yolkSMP, linuxSMP := strings.Join(vms[6].vm.Argv, " "), strings.Join(vms[7].vm.Argv, " ")
	if !strings.Contains(yolkSMP, "--smp 2 -i w/work.cpio /init /jobs.smp") {
		t.Errorf("yolk -smp boot: %s", yolkSMP)
	}
	if !strings.Contains(linuxSMP, "-smp 2 -accel tcg,thread=multi") || !strings.Contains(linuxSMP, " tsc_early_khz=") || !strings.HasSuffix(linuxSMP, " -- /jobs.smp -serial stdio") {
		t.Errorf("Linux -smp boot: %s", linuxSMP)
	}
	if prof := strings.Join(vms[5].vm.Argv, " "); !strings.HasSuffix(prof, "/init /jobs.profiled") {
		t.Errorf("profiled boot: %s", prof)
	}
	if f.smp = 0; len(func() []benchVM { v, _ := f.vms(); return v }()) != 6 {
		t.Error("-smp 0 still boots the xz pair")
	}
}

// The host's TSC rate, which Linux is told, is a plausible CPU clock.
func TestHostTSC(t *testing.T) {
	if k := hostTSCkHz(50 * time.Millisecond); k < 100_000 || k > 10_000_000 {
		t.Errorf("hostTSCkHz = %d kHz", k)
	}
}

// QEMU's CPU time gets its own ratio column, on the rows that have it,
// its samples, and the runner's part of yolk's boot a sentence.
func TestWriteMarkdownCPU(t *testing.T) {
	r := testResults()
	r.YolkCPU = map[string][]float64{"lua": {2e9, 2.2e9, 2.1e9}}
	r.LinuxCPU = map[string][]float64{"lua": {2e9, 2e9, Missing}}
	r.Yolk["lua"] = []float64{3e9, 4e9, 3.5e9}
	r.Linux["lua"] = []float64{2.5e9, 2.5e9, 2.5e9}
	r.Yolk[runnerKey] = []float64{6e6, 8e6, 7e6}
	var b strings.Builder
	if err := WriteMarkdown(&b, r, r.Rows(metrics), "benchmarks.svg"); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{
		" | yolk/Linux | yolk/Linux, QEMU's CPU time |\n|---|---|---|---|---|---|---|\n",
		"| lua 5.4: calls, tables, sorting, strings, floating point (examples/lua/bench.lua 2) | s | 3.50 (3.00–4.00) | 2.50 (2.50–2.50) | — | 1.40 (1.20–1.60) | 1.05 (1.00–1.10) |",
		"| getppid round trip | µs | 11.0 (10.0–12.0) | 2.00 (2.00–2.00) | 0.25 (0.20–0.30) | 5.50 (5.00–6.00) | — |",
		"| lua, QEMU's CPU time | 2.00, 2.20, 2.10 | 2.00, 2.00, — |",
		"Of yolk's boot, 7.00 ms (6.00–8.00, medians of the rounds) passed before QEMU started",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}

// jobCPU takes QEMU's CPU time at a job's benchstart and bench lines
// (here this process's own, which the loop makes grow) and ignores
// micro-benchmark lines, which have no start.
func TestJobCPU(t *testing.T) {
	c := jobCPU{pid: os.Getpid(), started: map[string]time.Duration{}, used: map[string]time.Duration{}}
	c.line("benchinit: ready")
	c.line("benchstart lua")
	t0, _ := processCPU(os.Getpid())
	for x := 0; ; x++ {
		if t1, _ := processCPU(os.Getpid()); t1-t0 > 30*time.Millisecond && x > 0 {
			break
		}
	}
	c.line("\rbench lua 123 456")
	c.line("bench getppid 100 200")
	if _, ok := c.used["getppid"]; ok || len(c.used) != 1 {
		t.Errorf("used %v, want lua only", c.used)
	}
	if d := c.used["lua"]; d < 20*time.Millisecond || d > 5*time.Second {
		t.Errorf("lua used %v of CPU, want about 30 ms", d)
	}
	if _, ok := processCPU(-1); ok {
		t.Errorf("processCPU(-1) ok")
	}
}
