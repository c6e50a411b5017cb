package tmpfs

import (
	"golang.org/x/sys/unix"

	"yolk/vfs"
)

// regFile is an open regular file.
type regFile struct {
	vfs.FileBase
	i *inode
}

var _ vfs.PageSource = (*regFile)(nil)

// Read implements vfs.FileImpl.
func (f *regFile) Read(dst []byte, off int64) (int, error) {
	i := f.i
	i.mu.Lock()
	defer i.mu.Unlock()
	i.touchAtime()
	if off >= i.size {
		return 0, nil
	}
	dst = dst[:min(int64(len(dst)), i.size-off)]
	n := 0
	for n < len(dst) {
		idx, po := (off+int64(n))/vfs.PageSize, (off+int64(n))%vfs.PageSize
		chunk := dst[n:min(len(dst), n+int(vfs.PageSize-po))]
		if p := i.pages[idx]; p != nil {
			copy(chunk, p[po:])
		} else {
			clear(chunk)
		}
		n += len(chunk)
	}
	return n, nil
}

// Write implements vfs.FileImpl.
func (f *regFile) Write(src []byte, off int64, appending bool) (int, int64, error) {
	i := f.i
	i.mu.Lock()
	defer i.mu.Unlock()
	if appending {
		off = i.size
	}
	if len(src) == 0 {
		return 0, off, nil
	}
	if off >= maxFileSize {
		return 0, off, unix.EFBIG
	}
	src = src[:min(int64(len(src)), maxFileSize-off)]
	if i.pages == nil {
		i.pages = make(map[int64]*Page)
	}
	n := 0
	var err error
	for n < len(src) {
		idx, po := (off+int64(n))/vfs.PageSize, (off+int64(n))%vfs.PageSize
		p := i.pages[idx]
		if p == nil {
			if p, err = i.fs.allocPage(); err != nil {
				break
			}
			i.pages[idx] = p
		}
		delete(i.unwritten, idx)
		n += copy(p[po:], src[n:])
	}
	if n == 0 {
		return 0, off, err
	}
	end := off + int64(n)
	i.size = max(i.size, end)
	i.modified()
	return n, end, nil
}

// Lseek implements vfs.FileImpl. SEEK_DATA and SEEK_HOLE see the pages:
// a page never written is a hole, even if fallocate allocated it.
func (f *regFile) Lseek(cur, off int64, whence int) (int64, error) {
	i := f.i
	i.mu.Lock()
	defer i.mu.Unlock()
	if whence != unix.SEEK_DATA && whence != unix.SEEK_HOLE {
		return vfs.SeekTo(cur, off, whence, i.size)
	}
	if off < 0 || off >= i.size {
		return 0, unix.ENXIO
	}
	wantData := whence == unix.SEEK_DATA
	last := (i.size - 1) / vfs.PageSize
	for idx := off / vfs.PageSize; idx <= last; idx++ {
		if (i.pages[idx] != nil && !i.unwritten[idx]) == wantData {
			return max(off, idx*vfs.PageSize), nil
		}
	}
	if wantData {
		return 0, unix.ENXIO
	}
	return i.size, nil // the end of the file is a hole
}

// Stat implements vfs.FileImpl.
func (f *regFile) Stat() (vfs.Stat, error) { return f.i.Stat(), nil }

// Truncate implements vfs.FileImpl: ftruncate changes mtime and ctime
// even when the size stays.
func (f *regFile) Truncate(size int64) error {
	return f.i.SetAttr(&vfs.SetAttr{Mask: vfs.SetSize | vfs.SetMtimeNow | vfs.SetCtime, Size: size})
}

// Allocate implements vfs.FileImpl: it allocates every page of the range,
// or none of those it lacked if the filesystem fills up.
func (f *regFile) Allocate(mode uint32, off, length int64) error {
	i := f.i
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.pages == nil {
		i.pages = make(map[int64]*Page)
	}
	var added []int64
	for idx := off / vfs.PageSize; idx <= (off+length-1)/vfs.PageSize; idx++ {
		if i.pages[idx] != nil {
			continue
		}
		p, err := i.fs.allocPage()
		if err != nil {
			for _, a := range added {
				delete(i.pages, a)
				i.fs.pages.Add(-1)
			}
			return err
		}
		i.pages[idx] = p
		added = append(added, idx)
	}
	// Allocated but unwritten pages are holes to SEEK_DATA, as in
	// Linux's tmpfs.
	if len(added) > 0 && i.unwritten == nil {
		i.unwritten = make(map[int64]bool)
	}
	for _, a := range added {
		i.unwritten[a] = true
	}
	if mode&unix.FALLOC_FL_KEEP_SIZE == 0 && off+length > i.size {
		i.size = off + length
	}
	i.modified()
	return nil
}

// Sync implements vfs.FileImpl; memory is the backing store.
func (f *regFile) Sync(bool) error { return nil }

// Release implements vfs.FileImpl.
func (f *regFile) Release() {
	f.i.mu.Lock()
	defer f.i.mu.Unlock()
	f.i.opens--
	f.i.releaseIfUnused()
}

// Page implements vfs.PageSource.
func (f *regFile) Page(index int64, alloc bool) (*Page, error) {
	i := f.i
	i.mu.Lock()
	defer i.mu.Unlock()
	if p := i.pages[index]; p != nil || !alloc {
		if alloc {
			delete(i.unwritten, index) // mapped for writing: data from now on
		}
		return p, nil
	}
	p, err := i.fs.allocPage()
	if err != nil {
		return nil, err
	}
	if i.pages == nil {
		i.pages = make(map[int64]*Page)
	}
	i.pages[index] = p
	return p, nil
}

// dirFile is an open directory.
type dirFile struct {
	vfs.FileBase
	i *inode
}

// Read implements vfs.FileImpl.
func (f *dirFile) Read([]byte, int64) (int, error) { return 0, unix.EISDIR }

// Lseek implements vfs.FileImpl: positions are cookies.
func (f *dirFile) Lseek(cur, off int64, whence int) (int64, error) {
	return vfs.SeekDir(cur, off, whence)
}

// ReadDir implements vfs.FileImpl.
func (f *dirFile) ReadDir(pos int64, emit func(vfs.Dirent) bool) error {
	return f.i.readDir(pos, emit)
}

// Stat implements vfs.FileImpl.
func (f *dirFile) Stat() (vfs.Stat, error) { return f.i.Stat(), nil }

// Sync implements vfs.FileImpl.
func (f *dirFile) Sync(bool) error { return nil }
