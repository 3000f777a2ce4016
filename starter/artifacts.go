package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/aiscientist/aiscientist/internal/store"
	"github.com/aiscientist/aiscientist/internal/store/s3store"
)

// artifactStore is the store the workers keep workspaces in, as the
// starter reaches it: the bucket when AISCI_S3_BUCKET is set and no
// --artifacts is given, else the local folder (default <data-dir>/artifacts).
type artifactStore struct {
	s3    *s3store.Store
	local string
}

func openArtifacts(ctx context.Context, dataDir, artifacts string) (*artifactStore, error) {
	if cfg := s3store.ConfigFromEnv(os.Getenv); cfg.Bucket != "" && artifacts == "" {
		st, err := s3store.New(ctx, cfg)
		if err != nil {
			return nil, err
		}
		return &artifactStore{s3: st}, nil
	}
	if artifacts == "" {
		artifacts = filepath.Join(dataDir, "artifacts")
	}
	return &artifactStore{local: artifacts}, nil
}

func (a *artifactStore) String() string {
	if a.s3 != nil {
		return "s3://" + a.s3.Bucket()
	}
	return a.local
}

// put copies files (workspace-relative path → file on this machine) into
// workspace key, leaving what is there already.
func (a *artifactStore) put(ctx context.Context, key string, files map[string]string) error {
	dst := ""
	if a.s3 != nil {
		tmp, err := os.MkdirTemp("", "aisci-put-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dst = tmp
	} else {
		d, err := store.Local{Root: a.local}.PaperDir(key)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("the artifact store %s: %w (pass --artifacts or --data-dir as given to the worker)", a.local, err)
		}
		dst = d
	}
	for rel, src := range files {
		if a.s3 == nil && sameSize(src, filepath.Join(dst, rel)) {
			continue // put there by an earlier run
		}
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dst, rel)), 0o755); err != nil {
			return err
		}
		if err := store.CopyFile(src, filepath.Join(dst, rel)); err != nil {
			return fmt.Errorf("put %s into the artifact store: %w", src, err)
		}
	}
	if a.s3 != nil {
		if _, err := a.s3.Push(ctx, "papers/"+key, dst); err != nil {
			return fmt.Errorf("put files into s3://%s: %w", a.s3.Bucket(), err)
		}
	}
	return nil
}

// read returns a file of workspace key.
func (a *artifactStore) read(ctx context.Context, key, rel string) ([]byte, error) {
	if a.s3 != nil {
		tmp, err := os.MkdirTemp("", "aisci-get-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		if _, err := a.s3.Pull(ctx, "papers/"+key, tmp); err != nil {
			return nil, fmt.Errorf("fetch %s from s3://%s: %w", key, a.s3.Bucket(), err)
		}
		return os.ReadFile(filepath.Join(tmp, rel))
	}
	d, err := store.Local{Root: a.local}.PaperDir(key)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(filepath.Join(d, rel))
	if err != nil {
		return nil, fmt.Errorf("%w (pass --artifacts or --data-dir as given to the worker)", err)
	}
	return b, nil
}

func sameSize(a, b string) bool {
	sa, err := os.Stat(a)
	if err != nil {
		return false
	}
	sb, err := os.Stat(b)
	return err == nil && sa.Size() == sb.Size()
}
