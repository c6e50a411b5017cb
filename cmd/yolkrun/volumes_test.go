package main

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"yolk/kernel"
)

func TestVolumeFlags(t *testing.T) {
	o, err := parseArgs([]string{"-v", "/h/a:/mnt", "-v/h/b:/data:ro", "-v", "rel:/c:rw", "-w", "/mnt", "prog"}, noEnv, files(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := []volume{{host: "/h/a", guest: "/mnt"}, {host: "/h/b", guest: "/data", readOnly: true}, {host: "rel", guest: "/c"}}
	if !reflect.DeepEqual(o.volumes, want) || o.workdir != "/mnt" || o.program != "prog" {
		t.Fatalf("got %+v workdir %q", o.volumes, o.workdir)
	}
	for _, args := range [][]string{
		{"-v", "/h"}, {"-v", "/h:rel"}, {"-v", ":/g"}, {"-v", "/h:/g:rx"}, {"-v", "/h:/g:ro:x"}, {"-v"},
		{"-w", "rel"}, {"-w"},
	} {
		_, err := parseArgs(args, noEnv, files(nil))
		var ue *usageError
		if !errors.As(err, &ue) {
			t.Errorf("%q: error %v, want a usage error", args, err)
		}
	}
}

// TestVolumeArgs: QEMU's devices and the kernel's words for -v and -w,
// and the words parse back into the kernel's options.
func TestVolumeArgs(t *testing.T) {
	dir := t.TempDir()
	comma := filepath.Join(dir, "a,b")
	os.Mkdir(comma, 0o755)
	for _, machine := range []string{"microvm", "q35"} {
		o := &options{machine: machine, workdir: "/w d",
			volumes: []volume{{host: dir, guest: "/mnt"}, {host: comma, guest: "/ro dir", readOnly: true}}}
		s := &setup{o: o}
		if err := s.resolveVolumes(); err != nil {
			t.Fatal(err)
		}
		args := strings.Join(s.shareArgs(), " ")
		dev := map[string]string{"microvm": "virtio-9p-device", "q35": "virtio-9p-pci,disable-legacy=on"}[machine]
		for _, w := range []string{
			"-fsdev local,id=fs0,path=" + dir + ",security_model=none,multidevs=remap -device " + dev + ",fsdev=fs0,mount_tag=share0",
			"-fsdev local,id=fs1,path=" + strings.ReplaceAll(comma, ",", ",,") + ",security_model=none,multidevs=remap,readonly=on -device " + dev + ",fsdev=fs1,mount_tag=share1",
		} {
			if !strings.Contains(args, w) {
				t.Errorf("%s: QEMU args %q lack %q", machine, args, w)
			}
		}
		if machine == "microvm" && !strings.Contains(args, "virtio-mmio.force-legacy=false") {
			t.Errorf("microvm args %q keep legacy virtio-mmio", args)
		}
		k := kernel.ParseCmdline(kernelCmdline("", s.extra, nil, false, "", nil))
		wantMounts := []kernel.Mount{{Tag: "share0", Path: "/mnt"}, {Tag: "share1", Path: "/ro dir", ReadOnly: true}}
		if !reflect.DeepEqual(k.Mounts, wantMounts) || k.Cwd != "/w d" {
			t.Errorf("%s: kernel sees %+v cwd %q", machine, k.Mounts, k.Cwd)
		}
	}
	s := &setup{o: &options{volumes: []volume{{host: filepath.Join(dir, "missing"), guest: "/m"}}}}
	var f *failure
	if err := s.resolveVolumes(); !errors.As(err, &f) || f.status != exitRunner {
		t.Errorf("missing host directory: %v", err)
	}
}
