// Package initrd interprets the boot module that QEMU hands yolk as its
// initrd.
//
// # Two forms
//
// The module is one of:
//
//   - A raw ELF executable (Detect returns RawELF; "\x7fELF" magic), e.g.
//     `qemu ... -initrd helloworld`. The bytes are the program itself; the
//     kernel loads and runs it directly, and there is no root filesystem
//     beyond whatever the kernel synthesises.
//
//   - A newc cpio archive (Detect returns Cpio; "070701", or "070702" for
//     the variant with checksums), e.g. one made with
//     `cd root && find . | cpio -o -H newc`. Parse turns it into an FS, an
//     immutable in-memory tree that becomes the program's read-only root
//     filesystem. The program run is /init unless the kernel command line
//     names another path.
//
// Anything else (including compressed archives) is Unknown.
//
// # Parsing
//
// Parse walks the newc headers itself and bounds every field against the
// archive before it uses it. (It no longer hands the records to
// github.com/u-root/u-root/pkg/cpio, which the tests still use to write
// archives: that package's imports cost the kernel about 10 ms of package
// initialisation at every boot under TCG.) File contents are never
// copied: a regular file's Node.Data is a sub-slice of the archive (with its
// capacity clipped), so the archive must stay alive and unmodified for the
// life of the FS.
//
// Names are normalised to absolute, clean paths ("./bin/sh", "bin/sh",
// "/bin/sh" and "/bin/../bin//sh" are all "/bin/sh"; ".." cannot climb
// above "/"). Missing parent directories are created implicitly (mode
// 0755, owner 0:0, mtime 0). A later record replaces an earlier one with
// the same path, except that a directory over a directory only updates the
// metadata and keeps the children. A record whose name is "." (or empty)
// sets the root directory's metadata.
//
// Parsing stops at the first record whose name is "TRAILER!!!". As the
// Linux kernel does, zero padding may follow a trailer, and after it (at a
// 4-byte aligned offset) another archive may start; its records are merged
// into the same tree (this is how early-microcode archives are prepended).
// An archive that ends without a trailer is rejected: a boot image cut short
// would otherwise boot with files silently missing.
//
// Hard links (best effort): newc stores the content of a hard-linked file
// only in the last of its links, the others having size 0. Non-directory,
// non-symlink records with nlink >= 2 are grouped by (dev major, dev minor,
// ino, mode) as Linux's initramfs unpacker does; after parsing, every member
// of a group shares the Data of the last member that carried content, one
// inode number, and an Nlink equal to the number of paths of the group left
// in the tree. Each link is still its own *Node (it has its own Path).
//
// Inode numbers: the archive's ino is kept when it is non-zero and not
// already used by another file; otherwise (e.g. archives written with ino 0
// throughout, or implicit directories) a fresh number above every archive
// ino is assigned, so Node.Ino is unique per file within an FS. Directory
// Nlink is 2 plus the number of subdirectories, whatever the header says.
//
// # Limits and errors
//
// A header that is truncated, has bad magic or non-hex fields, a name size
// of 0 or above 4096 (PATH_MAX) or beyond the end of the archive, a name not
// NUL-terminated or containing NUL, a path component longer than 255 bytes,
// a file size beyond the end of the archive, a symlink target longer than
// 4095 bytes or containing NUL, an unknown file type, a bad 070702 checksum,
// a path whose parent is not a directory (a symlinked parent is not
// followed while unpacking, unlike Linux), a non-directory named ".", or a
// missing trailer makes Parse return a *FormatError giving the offset of the
// offending record. No allocation is sized from a header field before it is
// bounded; memory use is linear in the archive size (a few hundred bytes per
// node, and an adversarial name like "a/a/a/..." makes a node per 2 bytes).
//
// Lookup and LookupAt resolve paths as Linux's path walk does: "." and
// "..", repeated slashes, a trailing slash (the result must be a directory,
// and a final symlink is then followed), symlinks in intermediate components
// always followed and the last one only when asked, at most 40 symlinks per
// lookup. Their errors are golang.org/x/sys/unix Errno values (ENOENT,
// ENOTDIR, ELOOP, ENAMETOOLONG for a component over 255 bytes or a path over
// 4095 bytes) so syscall handlers can return them as they are.
package initrd
