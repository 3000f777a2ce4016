package store

import (
	"os"
	"path/filepath"
	"testing"
)

func TestPaperDirRejectsEscapes(t *testing.T) {
	l := Local{Root: "/data"}
	tests := []struct {
		key     string
		want    string
		wantErr bool
	}{
		{"grokking/20261125_x", "/data/papers/grokking/20261125_x", false},
		{"../etc", "", true},
		{"/abs", "", true},
		{"", "", true},
		{"a/../../b", "", true},
	}
	for _, tt := range tests {
		got, err := l.PaperDir(tt.key)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("PaperDir(%q) = %q, %v; want %q, err %v", tt.key, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestCopyDirSkipsSymlinksAndCache(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	must(t, os.MkdirAll(filepath.Join(src, "latex"), 0o755))
	must(t, os.WriteFile(filepath.Join(src, "latex", "a.tex"), []byte("x"), 0o644))
	must(t, os.WriteFile(filepath.Join(src, "run.py"), []byte("print(1)"), 0o755))
	must(t, os.MkdirAll(filepath.Join(src, "__pycache__"), 0o755))
	must(t, os.WriteFile(filepath.Join(src, "__pycache__", "c.pyc"), []byte("c"), 0o644))
	must(t, os.Symlink("/etc/passwd", filepath.Join(src, "link")))
	must(t, CopyDir(src, dst))
	if b, err := os.ReadFile(filepath.Join(dst, "latex", "a.tex")); err != nil || string(b) != "x" {
		t.Fatalf("latex/a.tex = %q, %v", b, err)
	}
	if st, err := os.Stat(filepath.Join(dst, "run.py")); err != nil || st.Mode().Perm() != 0o755 {
		t.Fatalf("run.py mode not kept: %v %v", st, err)
	}
	if Exists(filepath.Join(dst, "link")) || Exists(filepath.Join(dst, "__pycache__")) {
		t.Fatal("symlink or __pycache__ copied")
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
