//go:build unix

package s3store

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestPushNotesWhatItLeavesOut(t *testing.T) {
	f := newFake(t)
	src := t.TempDir()
	writeFile(t, filepath.Join(src, "keep.txt"), []byte("x"), 0o644)
	writeFile(t, filepath.Join(src, "sub", tmpPrefix+"0123456789abcdef"+tmpSuffix), []byte("half"), 0o600)
	if err := syscall.Mkfifo(filepath.Join(src, "pipe"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/passwd", filepath.Join(src, "sub", "passwd")); err != nil {
		t.Fatal(err)
	}
	st, err := f.store.Push(context.Background(), "k", src)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"pipe: not a regular file (p---------)",
		"sub/" + tmpPrefix + "0123456789abcdef" + tmpSuffix + ": temporary file of an unfinished pull",
		"sub/passwd: symbolic link, not followed",
	}
	if st.Transferred != 1 || strings.Join(st.Notes, "\n") != strings.Join(want, "\n") {
		t.Fatalf("stats = %+v, want 1 file and notes %q", st, want)
	}
}
