// Command gofiles uses the file APIs Go tests and tools use: a temporary
// directory, N files (default 10,000) created with os.CreateTemp, renamed, their
// times set with os.Chtimes, walked with filepath.Walk, listed with
// os.ReadDir, and removed with os.RemoveAll. It prints what it found.
package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

func main() {
	base := "/tmp"
	if len(os.Args) > 1 {
		base = os.Args[1]
	}
	dir, err := os.MkdirTemp(base, "gofiles-")
	check(err)
	sub := filepath.Join(dir, "sub")
	check(os.Mkdir(sub, 0o755))
	n := 10000
	if len(os.Args) > 2 {
		n, err = strconv.Atoi(os.Args[2])
		check(err)
	}
	when := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC)
	for i := range n {
		f, err := os.CreateTemp(sub, "tmp-*")
		check(err)
		fmt.Fprintf(f, "file %d\n", i)
		check(f.Close())
		check(os.Rename(f.Name(), filepath.Join(sub, fmt.Sprintf("f%05d.txt", i))))
	}
	check(os.Chtimes(filepath.Join(sub, "f00042.txt"), when, when))
	st, err := os.Stat(filepath.Join(sub, "f00042.txt"))
	check(err)
	fmt.Println("mtime set:", st.ModTime().UTC().Equal(when))

	files, bytes := 0, int64(0)
	check(filepath.Walk(dir, func(p string, info fs.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if info.Mode().IsRegular() {
			files++
			bytes += info.Size()
		}
		return nil
	}))
	fmt.Println("walked:", files, "files,", bytes, "bytes")

	ents, err := os.ReadDir(sub)
	check(err)
	sorted := true
	for i := 1; i < len(ents); i++ {
		if ents[i-1].Name() >= ents[i].Name() {
			sorted = false
		}
	}
	leftover := 0
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "tmp-") {
			leftover++
		}
	}
	fmt.Println("read dir:", len(ents), "entries, sorted:", sorted, "temporary names left:", leftover)
	b, err := os.ReadFile(filepath.Join(sub, fmt.Sprintf("f%05d.txt", n-1)))
	check(err)
	fmt.Printf("last file: %q\n", b)

	check(os.RemoveAll(dir))
	_, err = os.Stat(dir)
	fmt.Println("removed:", os.IsNotExist(err))
}

func check(err error) {
	if err != nil {
		fmt.Println("FAIL:", err)
		os.Exit(1)
	}
}
