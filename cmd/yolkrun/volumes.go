package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// resolveVolumes checks the -v host directories and adds the kernel's
// mount= words (share tags in -v order) and -w's cwd= word.
func (s *setup) resolveVolumes() error {
	if s.o.rootDir != "" {
		// -R: the root share goes last, tagged after the -v shares.
		s.o.volumes = append(s.o.volumes, volume{host: s.o.rootDir, guest: "/", readOnly: true, root: true})
	}
	for i, v := range s.o.volumes {
		abs, err := filepath.Abs(v.host)
		if err != nil {
			return fail(exitRunner, "-v %s: %v", v.host, err)
		}
		st, err := os.Stat(abs)
		if err != nil || !st.IsDir() {
			return fail(exitRunner, "-v: host directory '%s' not found or not a directory", v.host)
		}
		s.o.volumes[i].host = abs
		if v.root {
			s.extra = append(s.extra, "rootshare="+shareTag(i))
			continue
		}
		w := "mount=" + shareTag(i) + ":" + v.guest
		if v.readOnly {
			w += ":ro"
		}
		s.extra = append(s.extra, w)
	}
	if s.o.workdir != "" {
		s.extra = append(s.extra, "cwd="+s.o.workdir)
	}
	return nil
}

func shareTag(i int) string { return "share" + strconv.Itoa(i) }

// shareArgs are QEMU's arguments for the -v shares: a local fsdev each
// (security_model=none: files belong to the user running QEMU) and a
// virtio-9p device on the machine's virtio transport.
func (s *setup) shareArgs() []string {
	if len(s.o.volumes) == 0 {
		return nil
	}
	dev := "virtio-9p-pci,disable-legacy=on"
	var a []string
	if s.o.machine == "microvm" {
		dev = "virtio-9p-device"
		a = append(a, "-global", "virtio-mmio.force-legacy=false")
	}
	for i, v := range s.o.volumes {
		fsdev := fmt.Sprintf("local,id=fs%d,path=%s,security_model=none,multidevs=remap", i, qemuEscape(v.host))
		if v.readOnly {
			fsdev += ",readonly=on"
		}
		a = append(a, "-fsdev", fsdev, "-device", fmt.Sprintf("%s,fsdev=fs%d,mount_tag=%s", dev, i, shareTag(i)))
	}
	return a
}
