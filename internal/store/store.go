// Package store is the artifact store: per-paper workspaces that activities
// read and write, so workflow histories carry paths, never file contents.
package store

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Local keeps workspaces under a root directory on this host.
type Local struct{ Root string }

// PaperDir is the workspace of one paper; key is a relative, slash-separated
// name such as "grokking/20261125_181500_weight_decay".
func (l Local) PaperDir(key string) (string, error) { return l.sub("papers", key) }

// IdeaDir is a template's idea store: every idea any campaign generated for
// it, accumulated and never overwritten.
func (l Local) IdeaDir(template string) (string, error) { return l.sub("ideas", template) }

// CampaignDir holds a campaign's idea store and logs.
func (l Local) CampaignDir(key string) (string, error) { return l.sub("campaigns", key) }

func (l Local) sub(kind, key string) (string, error) {
	clean := filepath.Clean(filepath.FromSlash(key))
	if key == "" || filepath.IsAbs(clean) || clean == "." || strings.HasPrefix(clean, "..") {
		return "", fmt.Errorf("store: invalid key %q", key)
	}
	return filepath.Join(l.Root, kind, clean), nil
}

// CopyDir copies the tree src into dst (created if missing), overwriting
// files; symlinks are skipped so a template cannot point outside itself.
func CopyDir(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			if d.Name() == "__pycache__" {
				return filepath.SkipDir
			}
			return os.MkdirAll(target, 0o755)
		case d.Type().IsRegular():
			return CopyFile(path, target)
		}
		return nil
	})
}

// CopyFile copies one regular file atomically, keeping its mode.
func CopyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".copy-*")
	if err != nil {
		return err
	}
	if _, err := io.Copy(tmp, in); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Chmod(tmp.Name(), st.Mode().Perm()); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), dst)
}

// WriteFile writes data atomically (temp file + rename), so a crash never
// leaves a half-written file for the next attempt to trip over.
func WriteFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".write-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// Exists reports whether path exists.
func Exists(path string) bool {
	_, err := os.Stat(path)
	return !errors.Is(err, fs.ErrNotExist)
}
