// Package vfs is yolk's virtual file system: the namespace that path
// names resolve in, the mounts that make it up, and the open-file
// descriptions that file descriptors point to. Filesystems (vfs/tmpfs,
// vfs/cpiofs, vfs/overlay, later 9p, /dev and /proc) implement Inode and
// FileImpl; everything Linux decides above a single filesystem is decided
// here, once: path resolution, permission checks, the errno of every
// namespace operation, the O_* flag logic of open, readdir positions for
// "." and "..", and file offsets.
//
// # Objects
//
//   - A Filesystem is one mounted tree; its Inodes are the files. Inodes
//     are compared with ==, so a filesystem returns the same value for
//     the same file every time.
//   - A Dentry is a name in the VFS's name cache: the Inode it names, its
//     parent, its cached children, and how many mounts sit on it.
//     Directories have exactly one Dentry per mount; hard links give a
//     non-directory one Dentry per name.
//   - A Mount attaches a Filesystem's root at a Dentry of its parent
//     mount. A Path is the pair (Mount, Dentry): the unit the walker
//     moves, what a working directory or a directory fd holds.
//   - A File is an open-file description (open(2) "open file
//     description"): reference count, offset, status flags, and the
//     FileImpl the filesystem returned from Inode.Open. dup and fork share
//     a File; each open makes a new one.
//   - A WaitQueue is the readiness channel of one object: blocked readers
//     and poll/epoll subscribe to the queue of the file they wait on.
//
// # Locking
//
// One reader/writer lock per VFS guards the namespace: walks hold it for
// reading, operations that change names (create, link, unlink, rename,
// mount) hold it for writing for the whole operation. The name cache is
// filled under a per-Dentry mutex. File data, attributes and offsets are
// not under the namespace lock: filesystems lock their inodes and a File
// locks its offset.
//
// # Linux behaviour, and where it differs
//
// Namespace operations are checked against Linux by a differential test
// (linux_test.go, internal/linuxdiff): random sequences of mkdir, rmdir,
// unlink, rename(2) with its flags, link, symlink, mknod, open with
// assorted flags, truncate, fallocate, lseek SEEK_DATA/SEEK_HOLE, stat,
// readlink, utimensat, chmod, chown and faccessat2, as root and as an
// unprivileged user, run on the VFS and on Linux's own tmpfs (and
// overlayfs, in vfs/overlay) and must give the same errno, results and
// final tree. Security sysctls are those of a default kernel:
// fs.protected_hardlinks=1 (only a file's owner may hard-link a file they
// could not read and write), fs.protected_regular=0, fs.protected_fifos=0,
// fs.protected_symlinks=0; O_CREAT on an existing file of another type
// owned by someone else in a sticky world-writable directory is EACCES.
//
// What a user can notice:
//
//   - Opening a FIFO or device node goes to the SpecialOpener the kernel
//     installs (pipes and drivers are not filesystems); without one it is
//     ENXIO.
//   - The name cache keeps every name it has looked up until the name is
//     removed through the VFS; filesystems whose contents change behind it
//     (9p, /proc) implement Revalidator.
//   - RESOLVE_NO_MAGICLINKS and RESOLVE_CACHED: there are no magic links
//     yet, and RESOLVE_CACHED always answers EAGAIN.
//   - getcwd of a directory outside the process's root names it from the
//     namespace's root, not "(unreachable)".
//   - Access checks use one credential (fsuid, fsgid, groups): the real
//     and effective IDs are not told apart (AT_EACCESS changes nothing).
//
// # References
//
// path_resolution(7), openat2(2) (RESOLVE_*), open(2), rename(2) (and
// renameat2 flags), link(2), unlink(2), rmdir(2), mkdir(2), mknod(2),
// symlink(2), chmod(2), chown(2), utimensat(2), stat(2), statx(2),
// truncate(2), fallocate(2), getdents64(2), statfs(2), lseek(2), inode(7)
// for times and set-id clearing, and Linux's fs/namei.c behaviour where the
// man pages are silent (which errno wins when several apply).
package vfs
