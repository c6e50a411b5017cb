package syscallshim

import (
	"fmt"

	"golang.org/x/sys/unix"

	ynet "yolk/net"
	"yolk/vfs"
)

// The resolver's files, made in /etc at boot when the initrd lacks them
// and the machine gives the shim a network stack (Config.Net), so that glibc's, musl's and Go's resolvers find localhost, the DNS
// server of the network stack's configuration (QEMU user networking's
// 10.0.2.3 by default), service names and the lookup order.

// services is a short /etc/services: the ports programs look up by name.
const services = `ftp-data	20/tcp
ftp		21/tcp
ssh		22/tcp
telnet		23/tcp
smtp		25/tcp
domain		53/tcp
domain		53/udp
http		80/tcp		www
ntp		123/udp
https		443/tcp
https		443/udp
mysql		3306/tcp
postgresql	5432/tcp
redis		6379/tcp
http-alt	8080/tcp	webcache
`

// netFiles returns the files' contents by path.
func (s *System) netFiles() map[string]string {
	dns := "10.0.2.3"
	if c, _ := s.netConfig(); c.DNS.IsValid() {
		dns = c.DNS.String()
	}
	return map[string]string{
		"/etc/hosts":         "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n10.0.2.15\tyolk\n",
		"/etc/resolv.conf":   fmt.Sprintf("nameserver %s\n", dns),
		"/etc/services":      services,
		"/etc/nsswitch.conf": "hosts: files dns\nnetworks: files\nservices: files\nprotocols: files\npasswd: files\ngroup: files\n",
		"/etc/protocols":     "ip\t0\tIP\nicmp\t1\tICMP\ntcp\t6\tTCP\nudp\t17\tUDP\nipv6-icmp\t58\tIPv6-ICMP\n",
	}
}

// netConfig is the network's configuration, from the stack or the one it
// will be made with; false when the machine gave neither.
func (s *System) netConfig() (ynet.Config, bool) {
	switch {
	case s.cfg.Net != nil:
		return s.cfg.Net.Config(), true
	case s.cfg.NetConfig != nil:
		return *s.cfg.NetConfig, true
	}
	return ynet.Config{}, false
}

// writeNetFiles creates the missing ones (root's, mode 0644).
func (s *System) writeNetFiles(v *vfs.VFS, c *vfs.Context) error {
	if _, ok := s.netConfig(); !ok {
		return nil
	}
	if err := mkdirAll(v, c, "/etc"); err != nil {
		return err
	}
	for p, body := range s.netFiles() {
		f, err := v.Openat(c, v.Root(), p, vfs.OpenHow{Flags: unix.O_WRONLY | unix.O_CREAT | unix.O_EXCL, Mode: 0o644})
		if err == unix.EEXIST {
			continue
		}
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		_, err = f.Write([]byte(body))
		f.DecRef()
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
	}
	return nil
}
