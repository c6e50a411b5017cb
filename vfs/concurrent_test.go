package vfs_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"yolk/vfs"
)

// TestConcurrent runs creators, renamers, removers, readers and listers
// against the same directories; run it with -race.
func TestConcurrent(t *testing.T) {
	e := newEnv(t)
	e.mkdir("/shared", "/other")
	const workers, rounds = 8, 200
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			c := e.c
			for i := 0; i < rounds; i++ {
				name := fmt.Sprintf("/shared/w%d-%d", w, i)
				f, err := e.v.Openat(c, root, name, vfs.OpenHow{Flags: unix.O_CREAT | unix.O_RDWR, Mode: 0o644})
				if err != nil {
					t.Error(err)
					return
				}
				f.Write([]byte(name))
				f.DecRef()
				if _, err := e.v.Statat(c, root, name, 0); err != nil {
					t.Error(err)
				}
				switch i % 3 {
				case 0:
					if err := e.v.Unlinkat(c, root, name, 0); err != nil {
						t.Error(err)
					}
				case 1:
					if err := e.v.Renameat2(c, root, name, root, fmt.Sprintf("/other/w%d-%d", w, i), 0); err != nil {
						t.Error(err)
					}
				case 2:
					e.v.Mkdirat(c, root, name+".d", 0o755)
					e.v.Renameat2(c, root, name+".d", root, "/other/dir", 0) // races with the others
				}
			}
		}(w)
	}
	done := make(chan struct{})
	var readers sync.WaitGroup
	for r := 0; r < 4; r++ {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				for _, d := range []string{"/shared", "/other"} {
					f, err := e.v.Openat(e.c, root, d, vfs.OpenHow{Flags: unix.O_RDONLY | unix.O_DIRECTORY})
					if err != nil {
						t.Error(err)
						return
					}
					seen := map[string]bool{}
					f.ReadDir(func(de vfs.Dirent) bool {
						// "dir" is renamed over again and again: each new
						// entry has a new position and may be listed again.
						if seen[de.Name] && de.Name != "dir" {
							t.Errorf("%s listed twice", de.Name)
						}
						seen[de.Name] = true
						e.v.Statat(e.c, f.Path(), de.Name, unix.AT_SYMLINK_NOFOLLOW)
						return true
					})
					f.DecRef()
				}
			}
		}()
	}
	wg.Wait()
	close(done)
	readers.Wait()
	// Every third file stays; each round-2 directory was renamed away.
	if n, want := len(e.list("/shared")), workers*(rounds/3); n != want {
		t.Errorf("/shared has %d entries, want %d", n, want)
	}
}

// TestConcurrentAppend shares one O_APPEND description between goroutines
// and opens another: no write overlaps another.
func TestConcurrentAppend(t *testing.T) {
	e := newEnv(t)
	shared, err := e.open("/log", unix.O_CREAT|unix.O_WRONLY|unix.O_APPEND, 0o644)
	e.must(err)
	defer shared.DecRef()
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			f := shared
			if w%2 == 1 {
				f, _ = e.open("/log", unix.O_WRONLY|unix.O_APPEND, 0)
				defer f.DecRef()
			} else {
				f.IncRef()
				defer f.DecRef()
			}
			for i := 0; i < 100; i++ {
				f.Write([]byte("0123456789"))
				f.Stat()
			}
		}(w)
	}
	wg.Wait()
	got := e.read("/log")
	if len(got) != 8*100*10 {
		t.Fatalf("log has %d bytes", len(got))
	}
	for i := 0; i < len(got); i += 10 {
		if got[i:i+10] != "0123456789" {
			t.Fatalf("interleaved write at %d: %q", i, got[i:i+10])
		}
	}
}

func TestWaitQueue(t *testing.T) {
	var q vfs.WaitQueue
	w := vfs.NewWaiter(vfs.EventIn)
	q.Subscribe(w)
	var got atomic.Uint32 // the callback runs in the notifier's goroutine
	cb := vfs.NewCallbackWaiter(vfs.EventOut, func(m vfs.EventMask) { got.Or(uint32(m)) })
	q.Subscribe(cb)
	q.Notify(vfs.EventOut)
	select {
	case <-w.C():
		t.Errorf("EventOut woke an EventIn waiter")
	default:
	}
	if vfs.EventMask(got.Load()) != vfs.EventOut {
		t.Errorf("callback got %#x", got.Load())
	}
	go q.Notify(vfs.EventIn | vfs.EventHup)
	select {
	case <-w.C():
	case <-time.After(5 * time.Second):
		t.Fatal("waiter not woken")
	}
	// The notifier may wake w before it runs the callback: wait for it.
	for deadline := time.Now().Add(5 * time.Second); vfs.EventMask(got.Load()) != vfs.EventOut|vfs.EventHup && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	if vfs.EventMask(got.Load()) != vfs.EventOut|vfs.EventHup {
		t.Errorf("callback got %#x; EventHup is always delivered", got.Load())
	}
	q.Unsubscribe(w)
	q.Unsubscribe(cb)
	if q.Len() != 0 {
		t.Errorf("%d waiters left", q.Len())
	}
}

func BenchmarkCreateStatUnlink(b *testing.B) {
	const n = 10000
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("/d/file%05d", i)
	}
	for b.Loop() {
		e := newEnv(b)
		e.mkdir("/d")
		for _, name := range names {
			f, err := e.open(name, unix.O_CREAT|unix.O_EXCL|unix.O_WRONLY, 0o644)
			if err != nil {
				b.Fatal(err)
			}
			f.DecRef()
		}
		for _, name := range names {
			if _, err := e.v.Statat(e.c, root, name, 0); err != nil {
				b.Fatal(err)
			}
		}
		for _, name := range names {
			if err := e.v.Unlinkat(e.c, root, name, 0); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkParallelStat stats files from every CPU at once: walks share
// the namespace lock.
func BenchmarkParallelStat(b *testing.B) {
	e := newEnv(b)
	e.mkdir("/a", "/a/b", "/a/b/c")
	for i := 0; i < 100; i++ {
		e.write(fmt.Sprintf("/a/b/c/f%d", i), "")
	}
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := e.v.Statat(e.c, root, fmt.Sprintf("/a/b/c/f%d", i%100), 0); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}
