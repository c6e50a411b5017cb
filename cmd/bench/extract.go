package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
)

// xzMagic starts an XZ stream (the .xz file format, section 2.1.1.1).
var xzMagic = []byte{0xFD, '7', 'z', 'X', 'Z', 0x00}

// A PayloadError says why a bzImage's compressed kernel was not found,
// with the offset where the reading stopped.
type PayloadError struct {
	Off int64
	Msg string
}

func (e *PayloadError) Error() string { return fmt.Sprintf("bzImage offset %#x: %s", e.Off, e.Msg) }

// XZPayload finds the compressed vmlinux inside a bzImage through the boot
// protocol's setup header (Documentation/arch/x86/boot.rst: setup_sects at
// 0x1f1, "HdrS" at 0x202, payload_offset and payload_length at 0x248 and
// 0x24c, protocol 2.08 or later, relative to the protected-mode code at
// (setup_sects+1)*512) and checks that it is an XZ stream.
func XZPayload(img []byte) ([]byte, error) {
	if len(img) < 0x250 {
		return nil, &PayloadError{0, "too short for a setup header"}
	}
	if string(img[0x202:0x206]) != "HdrS" {
		return nil, &PayloadError{0x202, "no HdrS: not a bzImage"}
	}
	if v := binary.LittleEndian.Uint16(img[0x206:]); v < 0x208 {
		return nil, &PayloadError{0x206, fmt.Sprintf("boot protocol %#x has no payload fields (2.08+)", v)}
	}
	sects := int64(img[0x1f1])
	if sects == 0 {
		sects = 4
	}
	pm := (sects + 1) * 512
	off := pm + int64(binary.LittleEndian.Uint32(img[0x248:]))
	n := int64(binary.LittleEndian.Uint32(img[0x24c:]))
	if off < 0 || n <= 0 || off+n > int64(len(img)) {
		return nil, &PayloadError{0x248, fmt.Sprintf("payload %#x+%#x outside the %#x-byte image", off, n, len(img))}
	}
	p := img[off : off+n]
	if !bytes.HasPrefix(p, xzMagic) {
		return nil, &PayloadError{off, fmt.Sprintf("payload starts % x, not XZ (this kernel is compressed otherwise)", p[:min(6, len(p))])}
	}
	return p, nil
}

// extractVmlinux writes the uncompressed kernel of bzImage to out. The
// standard library has no XZ decoder; Debian's xz (xz-utils, which
// scripts/setup installs) decompresses, --single-stream because the
// payload may carry padding after the stream.
func extractVmlinux(bzImage, out string) error {
	img, err := os.ReadFile(bzImage)
	if err != nil {
		return err
	}
	p, err := XZPayload(img)
	if err != nil {
		return fmt.Errorf("%s: %w", bzImage, err)
	}
	f, err := os.Create(out + ".tmp")
	if err != nil {
		return err
	}
	defer os.Remove(out + ".tmp")
	cmd := exec.Command("xz", "-dc", "--single-stream")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = bytes.NewReader(p), f, os.Stderr
	if err := cmd.Run(); err != nil {
		f.Close()
		return fmt.Errorf("xz: %v", err)
	}
	if err := f.Close(); err != nil {
		return err
	}
	head := make([]byte, 4)
	if g, err := os.Open(out + ".tmp"); err == nil {
		g.Read(head)
		g.Close()
	}
	if string(head) != "\x7fELF" {
		return fmt.Errorf("%s: the decompressed payload is not an ELF file", bzImage)
	}
	return os.Rename(out+".tmp", out)
}
