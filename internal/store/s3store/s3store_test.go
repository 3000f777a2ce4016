package s3store

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

const testBucket = "workspaces"

// fake is an in-memory S3 (gofakes3) behind httptest, counting requests by
// kind: LIST, GET, PUT, HEAD, POST (multipart and multi-delete), DELETE.
type fake struct {
	t       *testing.T
	srv     *httptest.Server
	backend *s3mem.Backend
	store   *Store

	mu     sync.Mutex
	counts map[string]int
	// hook, when set, runs before each request reaches gofakes3.
	hook func(kind string, r *http.Request)
	// kmsETags makes listings show ETags that are not the content's MD5, as
	// AWS does for multipart and SSE-KMS objects.
	kmsETags bool
}

var etagRE = regexp.MustCompile(`(<ETag>(?:&#34;|&quot;|")?)([0-9a-f]{32})`)

func newFake(t *testing.T) *fake {
	t.Helper()
	f := &fake{t: t, backend: s3mem.New(), counts: map[string]int{}}
	if err := f.backend.CreateBucket(testBucket); err != nil {
		t.Fatal(err)
	}
	s3h := gofakes3.New(f.backend).Server()
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		kind := r.Method
		if r.Method == http.MethodGet && r.URL.Query().Get("list-type") == "2" {
			kind = "LIST"
		}
		f.mu.Lock()
		f.counts[kind]++
		hook := f.hook
		f.mu.Unlock()
		if hook != nil {
			hook(kind, r)
		}
		if kind != "LIST" || !f.kmsETags {
			s3h.ServeHTTP(w, r)
			return
		}
		rec := httptest.NewRecorder()
		s3h.ServeHTTP(rec, r)
		for k, v := range rec.Header() {
			if k != "Content-Length" {
				w.Header()[k] = v
			}
		}
		w.WriteHeader(rec.Code)
		w.Write(etagRE.ReplaceAll(rec.Body.Bytes(), []byte("${1}${2}-2")))
	}))
	t.Cleanup(f.srv.Close)
	f.store = NewWithClient(testClient(f.srv), Config{Bucket: testBucket, Prefix: "aiscientist"})
	return f
}

// testClient is the real SDK client, path-style, static credentials, no
// retries (so request counts are exact).
func testClient(srv *httptest.Server) *s3.Client {
	return s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		HTTPClient:   srv.Client(),
		Retryer:      aws.NopRetryer{},
	})
}

// take returns the request counts since the last call and resets them.
func (f *fake) take() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.counts
	f.counts = map[string]int{}
	return c
}

func (f *fake) wantRequests(want map[string]int) {
	f.t.Helper()
	got := f.take()
	for k, v := range got {
		if v == 0 {
			delete(got, k)
		}
	}
	if len(got) != len(want) {
		f.t.Fatalf("requests = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			f.t.Fatalf("requests = %v, want %v", got, want)
		}
	}
}

// putRaw stores an object straight into the backend, bypassing the SDK's
// key encoding, as a hostile or corrupt store could hold it.
func (f *fake) putRaw(key string, data []byte) {
	f.t.Helper()
	if _, err := f.backend.PutObject(testBucket, key, map[string]string{}, bytes.NewReader(data), int64(len(data)), nil); err != nil {
		f.t.Fatalf("put %q: %v", key, err)
	}
}

// workspace writes a tree with nested dirs, an empty file, a binary file,
// a 1 MiB file, an executable script and two symlinks (one pointing out).
func workspace(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	bin := make([]byte, 256)
	for i := range bin {
		bin[i] = byte(i)
	}
	big := make([]byte, 1<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range big {
		big[i] = byte(rng.Uint32())
	}
	files := map[string][]byte{
		"README.md":                       []byte("# paper\n"),
		"empty.txt":                       {},
		"code/sub/deep/weights.bin":       bin,
		"data/big.bin":                    big,
		"run_1/final_info.json":           []byte(`{"loss": 0.1}`),
		"notes with spaces/é ünïcode.txt": []byte("names are kept"),
	}
	for rel, data := range files {
		writeFile(t, filepath.Join(dir, rel), data, 0o644)
	}
	writeFile(t, filepath.Join(dir, "run.sh"), []byte("#!/bin/sh\necho hi\n"), 0o755)
	if err := os.Symlink("README.md", filepath.Join(dir, "link.md")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(t.TempDir(), filepath.Join(dir, "outside")); err != nil {
		t.Fatal(err)
	}
	return dir
}

const workspaceFiles = 7

func writeFile(t *testing.T, path string, data []byte, perm os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, perm); err != nil {
		t.Fatal(err)
	}
}

// regularFiles maps each regular file under dir to its content and mode.
func regularFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			info, _ := d.Info()
			rel, _ := filepath.Rel(dir, p)
			out[filepath.ToSlash(rel)] = info.Mode().Perm().String() + ":" + string(data)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sameTree(t *testing.T, want, got string) {
	t.Helper()
	w, g := regularFiles(t, want), regularFiles(t, got)
	if len(w) != len(g) {
		t.Fatalf("trees differ: %d files, want %d", len(g), len(w))
	}
	for rel, data := range w {
		if g[rel] != data {
			t.Fatalf("%s differs after the round trip", rel)
		}
	}
}

func TestPushPullRoundTrip(t *testing.T) {
	f := newFake(t)
	ctx := context.Background()
	src := workspace(t)
	const key = "grokking/20261125_181500_weight_decay"

	st, err := f.store.Push(ctx, key, src)
	if err != nil {
		t.Fatal(err)
	}
	if st.Transferred != workspaceFiles || st.Skipped != 0 {
		t.Fatalf("push stats = %+v", st)
	}
	if want := int64(8 + 256 + 1<<20 + 13 + 14 + 18); st.TransferredBytes != want {
		t.Fatalf("pushed %d bytes, want %d", st.TransferredBytes, want)
	}
	if len(st.Notes) != 2 || !strings.HasPrefix(st.Notes[0], "link.md: symbolic link") || !strings.HasPrefix(st.Notes[1], "outside: symbolic link") {
		t.Fatalf("notes = %q", st.Notes)
	}
	f.wantRequests(map[string]int{"LIST": 1, "PUT": workspaceFiles})

	if ok, err := f.store.Exists(ctx, key); err != nil || !ok {
		t.Fatalf("Exists = %v, %v", ok, err)
	}
	f.take()

	dst := filepath.Join(t.TempDir(), "fresh", "ws")
	st, err = f.store.Pull(ctx, key, dst)
	if err != nil {
		t.Fatal(err)
	}
	if st.Transferred != workspaceFiles || st.Skipped != 0 {
		t.Fatalf("pull stats = %+v", st)
	}
	f.wantRequests(map[string]int{"LIST": 1, "GET": workspaceFiles})
	sameTree(t, src, dst)
	if info, err := os.Stat(filepath.Join(dst, "run.sh")); err != nil || info.Mode().Perm() != 0o755 {
		t.Fatalf("run.sh mode = %v, %v; want 0755", info.Mode(), err)
	}

	// Pulling again into the same tree transfers nothing.
	st, err = f.store.Pull(ctx, key, dst)
	if err != nil || st.Transferred != 0 || st.Skipped != workspaceFiles {
		t.Fatalf("second pull = %+v, %v", st, err)
	}
	f.wantRequests(map[string]int{"LIST": 1})
}

func TestPushSkipsUnchangedAndSendsChanged(t *testing.T) {
	tests := []struct {
		name     string
		kmsETags bool
		change   func(t *testing.T, dir string)
		want     map[string]int
		bytes    int64
	}{
		{"unchanged", false, func(*testing.T, string) {}, map[string]int{"LIST": 1}, 0},
		// ETags that are not MD5s: one HEAD per file compares the sha256
		// kept in the metadata, and nothing is re-sent.
		{"unchanged, non-MD5 ETags", true, func(*testing.T, string) {}, map[string]int{"LIST": 1, "HEAD": workspaceFiles}, 0},
		{"one edit, non-MD5 ETags", true, func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "run_1/final_info.json"), []byte(`{"loss": 0.2}`), 0o644)
		}, map[string]int{"LIST": 1, "HEAD": workspaceFiles, "PUT": 1}, 13},
		{"grown file", false, func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "run_1/final_info.json"), []byte(`{"loss": 0.05}`), 0o644)
		}, map[string]int{"LIST": 1, "PUT": 1}, 14},
		// Same size, other content: the ETag (MD5) differs, so one HEAD
		// checks the stored sha256 before the upload.
		{"same-size edit", false, func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "run_1/final_info.json"), []byte(`{"loss": 0.2}`), 0o644)
		}, map[string]int{"LIST": 1, "HEAD": 1, "PUT": 1}, 13},
		{"new file", false, func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "run_2/log.txt"), []byte("step 1"), 0o644)
		}, map[string]int{"LIST": 1, "PUT": 1}, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			ctx := context.Background()
			src := workspace(t)
			if _, err := f.store.Push(ctx, "k", src); err != nil {
				t.Fatal(err)
			}
			f.take()
			f.kmsETags = tt.kmsETags
			tt.change(t, src)
			st, err := f.store.Push(ctx, "k", src)
			if err != nil {
				t.Fatal(err)
			}
			f.wantRequests(tt.want)
			if want := tt.want["PUT"]; st.Transferred != want || st.TransferredBytes != tt.bytes {
				t.Fatalf("stats = %+v, want %d file(s), %d bytes sent", st, want, tt.bytes)
			}
			dst := t.TempDir()
			if _, err := f.store.Pull(ctx, "k", dst); err != nil {
				t.Fatal(err)
			}
			sameTree(t, src, dst)
		})
	}
}

func TestPullDownloadsOnlyStale(t *testing.T) {
	tests := []struct {
		name     string
		kmsETags bool
		local    func(t *testing.T, dir string)
		want     map[string]int
	}{
		{"same-size stale file, non-MD5 ETags", true, func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "README.md"), []byte("# PAPER\n"), 0o644)
		}, map[string]int{"LIST": 1, "HEAD": workspaceFiles, "GET": 1}},
		{"one stale file", false, func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "README.md"), []byte("# stale, longer\n"), 0o644)
		}, map[string]int{"LIST": 1, "GET": 1}},
		{"same-size stale file", false, func(t *testing.T, dir string) {
			writeFile(t, filepath.Join(dir, "README.md"), []byte("# PAPER\n"), 0o644)
		}, map[string]int{"LIST": 1, "HEAD": 1, "GET": 1}},
		{"one missing file", false, func(t *testing.T, dir string) {
			if err := os.Remove(filepath.Join(dir, "data/big.bin")); err != nil {
				t.Fatal(err)
			}
		}, map[string]int{"LIST": 1, "GET": 1}},
		{"symlink in place of a file", false, func(t *testing.T, dir string) {
			p := filepath.Join(dir, "run_1/final_info.json")
			os.Remove(p)
			if err := os.Symlink("../README.md", p); err != nil {
				t.Fatal(err)
			}
		}, map[string]int{"LIST": 1, "GET": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			ctx := context.Background()
			src := workspace(t)
			if _, err := f.store.Push(ctx, "k", src); err != nil {
				t.Fatal(err)
			}
			dst := t.TempDir()
			if _, err := f.store.Pull(ctx, "k", dst); err != nil {
				t.Fatal(err)
			}
			writeFile(t, filepath.Join(dst, "extra.txt"), []byte("local only"), 0o644)
			tt.local(t, dst)
			f.take()
			f.kmsETags = tt.kmsETags
			st, err := f.store.Pull(ctx, "k", dst)
			if err != nil {
				t.Fatal(err)
			}
			f.wantRequests(tt.want)
			if st.Transferred != 1 || st.Skipped != workspaceFiles-1 {
				t.Fatalf("stats = %+v", st)
			}
			os.Remove(filepath.Join(dst, "extra.txt")) // left alone by Pull
			sameTree(t, src, dst)
		})
	}
}

func TestPullRefusesHostileKeys(t *testing.T) {
	tests := []struct {
		name string
		put  func(f *fake)
	}{
		{"dotdot twice", func(f *fake) { f.putRaw("aiscientist/k/../../evil", []byte("x")) }},
		{"dotdot once", func(f *fake) { f.putRaw("aiscientist/k/../evil", []byte("x")) }},
		{"dotdot inside", func(f *fake) { f.putRaw("aiscientist/k/a/../../../evil", []byte("x")) }},
		{"dot segment", func(f *fake) { f.putRaw("aiscientist/k/./evil", []byte("x")) }},
		{"absolute", func(f *fake) { f.putRaw("aiscientist/k//tmp/evil", []byte("x")) }},
		{"backslashes", func(f *fake) { f.putRaw(`aiscientist/k/..\..\evil`, []byte("x")) }},
		// Sent over HTTP percent-encoded: gofakes3 decodes the path, as a
		// careless server or proxy might, and stores "k/../evil".
		{"percent-encoded dotdot", func(f *fake) {
			req, _ := http.NewRequest(http.MethodPut, f.srv.URL+"/"+testBucket+"/aiscientist/k/%2e%2e/%2e%2e/evil", strings.NewReader("x"))
			req.Header.Set("Content-Length", "1")
			resp, err := f.srv.Client().Do(req)
			if err != nil {
				f.t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				f.t.Fatalf("raw PUT: %s", resp.Status)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			ctx := context.Background()
			if _, err := f.store.Push(ctx, "k", workspace(t)); err != nil {
				t.Fatal(err)
			}
			tt.put(f)
			parent := t.TempDir()
			dst := filepath.Join(parent, "a", "ws")
			_, err := f.store.Pull(ctx, "k", dst)
			if !errors.Is(err, ErrUnsafeObjectKey) || !IsPermanent(err) {
				t.Fatalf("Pull = %v, want a permanent ErrUnsafeObjectKey", err)
			}
			// Nothing was written at all, inside or outside.
			if err := filepath.WalkDir(parent, func(p string, d fs.DirEntry, err error) error {
				if err == nil && p != parent {
					t.Errorf("Pull wrote %s", p)
				}
				return err
			}); err != nil {
				t.Fatal(err)
			}
			// Push and Delete are not confused by the hostile object.
			if _, err := f.store.Push(ctx, "k", workspace(t)); err != nil {
				t.Fatal(err)
			}
			if err := f.store.Delete(ctx, "k"); err != nil {
				t.Fatal(err)
			}
			if ok, err := f.store.Exists(ctx, "k"); err != nil || ok {
				t.Fatalf("after Delete: Exists = %v, %v", ok, err)
			}
		})
	}
}

// A key that merely looks encoded ("%2e%2e" stored literally) is a plain
// file name and lands inside the workspace.
func TestPullLiteralPercentNameStaysInside(t *testing.T) {
	f := newFake(t)
	f.putRaw("aiscientist/k/%2e%2e/evil", []byte("x"))
	dst := t.TempDir()
	if _, err := f.store.Pull(context.Background(), "k", dst); err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile(filepath.Join(dst, "%2e%2e", "evil")); err != nil || string(data) != "x" {
		t.Fatalf("read = %q, %v", data, err)
	}
}

// A symlink inside the local directory cannot redirect a pull outside it.
func TestPullDoesNotFollowSymlinkOut(t *testing.T) {
	f := newFake(t)
	ctx := context.Background()
	f.putRaw("aiscientist/k/sub/file.txt", []byte("payload"))
	outside := t.TempDir()
	dst := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(dst, "sub")); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.Pull(ctx, "k", dst); err == nil {
		t.Fatal("Pull followed a symlink out of the workspace")
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Fatalf("Pull wrote outside: %v", entries)
	}
}

func TestPermanentErrors(t *testing.T) {
	ctx := context.Background()
	f := newFake(t)
	missing := NewWithClient(testClient(f.srv), Config{Bucket: "no-such-bucket", Prefix: "p"})
	src := workspace(t)

	denied := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusForbidden)
		w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>InvalidAccessKeyId</Code><Message>The AWS Access Key Id you provided does not exist in our records.</Message></Error>`))
	}))
	defer denied.Close()
	deniedStore := NewWithClient(testClient(denied), Config{Bucket: testBucket})

	busy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>`))
	}))
	defer busy.Close()
	busyStore := NewWithClient(testClient(busy), Config{Bucket: testBucket})

	tests := []struct {
		name      string
		op        func() error
		permanent bool
	}{
		{"push to missing bucket", func() error { _, err := missing.Push(ctx, "k", src); return err }, true},
		{"pull from missing bucket", func() error { _, err := missing.Pull(ctx, "k", t.TempDir()); return err }, true},
		{"exists in missing bucket", func() error { _, err := missing.Exists(ctx, "k"); return err }, true},
		{"delete in missing bucket", func() error { return missing.Delete(ctx, "k") }, true},
		{"bad credentials (403)", func() error { _, err := deniedStore.Push(ctx, "k", src); return err }, true},
		{"pull of missing workspace", func() error { _, err := f.store.Pull(ctx, "nothing/here", t.TempDir()); return err }, true},
		{"invalid key", func() error { _, err := f.store.Push(ctx, "../k", src); return err }, true},
		{"missing local dir", func() error { _, err := f.store.Push(ctx, "k", filepath.Join(src, "nope")); return err }, false},
		{"throttled (503)", func() error { _, err := busyStore.Push(ctx, "k", src); return err }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.op()
			if err == nil {
				t.Fatal("no error")
			}
			if got := IsPermanent(err); got != tt.permanent {
				t.Fatalf("IsPermanent(%v) = %v, want %v", err, got, tt.permanent)
			}
		})
	}
	if IsPermanent(nil) || IsPermanent(context.Canceled) || IsPermanent(errors.New("x")) {
		t.Fatal("IsPermanent true for nil, cancellation or a plain error")
	}
	if _, err := f.store.Pull(ctx, "nothing/here", t.TempDir()); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Pull of a missing workspace = %v, want ErrNotFound", err)
	}
}

func TestCancelledContext(t *testing.T) {
	t.Run("before push", func(t *testing.T) {
		f := newFake(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := f.store.Push(ctx, "k", workspace(t))
		if !errors.Is(err, context.Canceled) || IsPermanent(err) {
			t.Fatalf("Push = %v, want context.Canceled", err)
		}
		if c := f.take(); c["PUT"] != 0 {
			t.Fatalf("uploads after cancellation: %v", c)
		}
	})

	t.Run("during pull", func(t *testing.T) {
		f := newFake(t)
		if _, err := f.store.Push(context.Background(), "k", workspace(t)); err != nil {
			t.Fatal(err)
		}
		started := make(chan struct{}, 64)
		f.hook = func(kind string, r *http.Request) {
			if kind == "GET" {
				started <- struct{}{}
				<-r.Context().Done() // hang until the client gives up
			}
		}
		ctx, cancel := context.WithCancel(context.Background())
		dst := t.TempDir()
		errc := make(chan error, 1)
		go func() { _, err := f.store.Pull(ctx, "k", dst); errc <- err }()
		select {
		case <-started:
		case <-time.After(5 * time.Second):
			t.Fatal("no download started")
		}
		cancel()
		select {
		case err := <-errc:
			if !errors.Is(err, context.Canceled) || IsPermanent(err) {
				t.Fatalf("Pull = %v, want context.Canceled", err)
			}
		case <-time.After(2 * time.Second):
			t.Fatal("Pull did not stop after cancellation")
		}
		// No temporary or partial file is left behind.
		if files := regularFiles(t, dst); len(files) != 0 {
			t.Fatalf("left behind: %v", files)
		}
	})
}

func TestMultipartUpload(t *testing.T) {
	f := newFake(t)
	f.store.multipartThreshold = 5 << 20
	f.store.partSize = 5 << 20
	ctx := context.Background()
	src := t.TempDir()
	big := make([]byte, 11<<20+123)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range big {
		big[i] = byte(rng.Uint32())
	}
	writeFile(t, filepath.Join(src, "ckpt/model.pt"), big, 0o600)

	st, err := f.store.Push(ctx, "k", src)
	if err != nil || st.Transferred != 1 || st.TransferredBytes != int64(len(big)) {
		t.Fatalf("Push = %+v, %v", st, err)
	}
	// Create + 3 parts + complete.
	f.wantRequests(map[string]int{"LIST": 1, "POST": 2, "PUT": 3})

	// On AWS a multipart ETag is not an MD5 and one HEAD confirms the
	// sha256; gofakes3 gives the whole MD5. Either way nothing is sent.
	st, err = f.store.Push(ctx, "k", src)
	if err != nil || st.Skipped != 1 {
		t.Fatalf("second Push = %+v, %v", st, err)
	}
	if c := f.take(); c["PUT"]+c["POST"] != 0 || c["HEAD"] > 1 {
		t.Fatalf("unchanged multipart object: requests %v", c)
	}

	dst := t.TempDir()
	if _, err := f.store.Pull(ctx, "k", dst); err != nil {
		t.Fatal(err)
	}
	sameTree(t, src, dst)
}

func TestKeys(t *testing.T) {
	f := newFake(t)
	ctx := context.Background()
	for _, bad := range []string{"", ".", "/abs", "..", "../x", "a/../../x", "..hidden", `a\b`, "a\x00b"} {
		if _, err := f.store.objectPrefix(bad); err == nil || !IsPermanent(err) {
			t.Errorf("key %q accepted (err %v)", bad, err)
		}
		if _, err := f.store.Exists(ctx, bad); err == nil {
			t.Errorf("Exists(%q) accepted", bad)
		}
	}
	for key, want := range map[string]string{
		"a":              "aiscientist/a/",
		"a/b":            "aiscientist/a/b/",
		"a//b/":          "aiscientist/a/b/",
		"a/./b":          "aiscientist/a/b/",
		"a/x/../b":       "aiscientist/a/b/",
		"grokking/2026_": "aiscientist/grokking/2026_/",
	} {
		if got, err := f.store.objectPrefix(key); err != nil || got != want {
			t.Errorf("objectPrefix(%q) = %q, %v; want %q", key, got, err, want)
		}
	}
	for prefix, want := range map[string]string{"": "k/", "/": "k/", "p/": "p/k/", "/p/q/": "p/q/k/"} {
		s := NewWithClient(nil, Config{Bucket: "b", Prefix: prefix})
		if got, _ := s.objectPrefix("k"); got != want {
			t.Errorf("prefix %q: objectPrefix(k) = %q, want %q", prefix, got, want)
		}
	}

	// Workspaces whose names share a prefix stay apart.
	src := t.TempDir()
	writeFile(t, filepath.Join(src, "f"), []byte("x"), 0o644)
	if _, err := f.store.Push(ctx, "ab", src); err != nil {
		t.Fatal(err)
	}
	if ok, err := f.store.Exists(ctx, "a"); err != nil || ok {
		t.Fatalf("Exists(a) = %v, %v after pushing ab", ok, err)
	}
	if err := f.store.Delete(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := f.store.Exists(ctx, "ab"); !ok {
		t.Fatal("Delete(a) removed ab")
	}
}

func TestConfigFromEnv(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want Config
	}{
		{"empty", nil, Config{Prefix: "aiscientist"}},
		{"aws", map[string]string{"AISCI_S3_BUCKET": "b", "AWS_REGION": "eu-west-1"},
			Config{Bucket: "b", Prefix: "aiscientist", Region: "eu-west-1"}},
		{"custom prefix", map[string]string{"AISCI_S3_BUCKET": "b", "AISCI_S3_PREFIX": "team/x"},
			Config{Bucket: "b", Prefix: "team/x"}},
		{"minio", map[string]string{"AISCI_S3_BUCKET": "b", "AISCI_S3_ENDPOINT": "http://minio:9000"},
			Config{Bucket: "b", Prefix: "aiscientist", Endpoint: "http://minio:9000", Region: "us-east-1", PathStyle: true}},
		{"minio with region", map[string]string{"AISCI_S3_BUCKET": " b ", "AISCI_S3_ENDPOINT": "https://s3.local", "AWS_REGION": "eu-central-1"},
			Config{Bucket: "b", Prefix: "aiscientist", Endpoint: "https://s3.local", Region: "eu-central-1", PathStyle: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ConfigFromEnv(func(k string) string { return tt.env[k] }); got != tt.want {
				t.Fatalf("ConfigFromEnv = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// New with a custom endpoint: credentials from the environment, path style,
// checksums only where required; the round trip works against gofakes3.
func TestNewWithEndpoint(t *testing.T) {
	f := newFake(t)
	home := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID":           "AKIDENV",
		"AWS_SECRET_ACCESS_KEY":       "secret",
		"AWS_SESSION_TOKEN":           "",
		"AWS_PROFILE":                 "",
		"AWS_CONFIG_FILE":             filepath.Join(home, "config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(home, "credentials"),
		"AWS_REGION":                  "",
		"AWS_DEFAULT_REGION":          "",
		"AWS_EC2_METADATA_DISABLED":   "true",
	} {
		t.Setenv(k, v)
	}
	ctx := context.Background()
	cfg := ConfigFromEnv(func(k string) string {
		return map[string]string{"AISCI_S3_BUCKET": testBucket, "AISCI_S3_ENDPOINT": f.srv.URL}[k]
	})
	s, err := New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	src := workspace(t)
	if _, err := s.Push(ctx, "k", src); err != nil {
		t.Fatal(err)
	}
	dst := t.TempDir()
	if _, err := s.Pull(ctx, "k", dst); err != nil {
		t.Fatal(err)
	}
	sameTree(t, src, dst)
	if err := s.Delete(ctx, "k"); err != nil {
		t.Fatal(err)
	}

	for _, bad := range []Config{{}, {Bucket: "b", Endpoint: "minio:9000"}} {
		if _, err := New(ctx, bad); err == nil || !IsPermanent(err) {
			t.Errorf("New(%+v) = %v, want a permanent error", bad, err)
		}
	}
}

// A download whose content does not match the stored sha256 (or, without
// one, the MD5 ETag) is refused and leaves nothing behind.
func TestPullVerifiesContent(t *testing.T) {
	f := newFake(t)
	const wrong = "0000000000000000000000000000000000000000000000000000000000000000"
	if _, err := f.backend.PutObject(testBucket, "aiscientist/k/f.txt", map[string]string{"X-Amz-Meta-Sha256": wrong},
		strings.NewReader("data"), 4, nil); err != nil {
		t.Fatal(err)
	}
	dst := t.TempDir()
	_, err := f.store.Pull(context.Background(), "k", dst)
	if err == nil || !strings.Contains(err.Error(), "does not match its stored sha256") || IsPermanent(err) {
		t.Fatalf("Pull = %v, want a retryable sha256 mismatch", err)
	}
	if files := regularFiles(t, dst); len(files) != 0 {
		t.Fatalf("left behind: %v", files)
	}
}

// An object whose path is a local directory cannot be written.
func TestPullOverDirectoryFails(t *testing.T) {
	f := newFake(t)
	f.putRaw("aiscientist/k/out", []byte("x"))
	dst := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dst, "out", "keep"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.Pull(context.Background(), "k", dst); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Fatalf("Pull = %v, want an error", err)
	}
}

// TestMirror: PushMirror removes objects with no local file and PullMirror
// removes local files the store does not hold, so a failed run's partial
// output deleted on one host does not come back from another.
func TestMirror(t *testing.T) {
	f := newFake(t)
	ctx := context.Background()
	a := workspace(t)
	if _, err := f.store.Push(ctx, "k", a); err != nil {
		t.Fatal(err)
	}
	b := t.TempDir()
	if _, err := f.store.Pull(ctx, "k", b); err != nil {
		t.Fatal(err)
	}
	// Host b drops run_1 and writes run_2; a plain Push would keep run_1.
	if err := os.RemoveAll(filepath.Join(b, "run_1")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(b, "run_2/final_info.json"), []byte(`{"loss": 0.3}`), 0o644)
	f.take()
	st, err := f.store.PushMirror(ctx, "k", b)
	if err != nil {
		t.Fatal(err)
	}
	if st.Transferred != 1 || st.Deleted != 1 {
		t.Fatalf("push mirror stats = %+v, want 1 sent and 1 deleted", st)
	}
	f.wantRequests(map[string]int{"LIST": 1, "PUT": 1, "POST": 1})

	// Host a mirrors the store: run_1 goes, run_2 arrives, the symlinks it
	// never pushed stay.
	st, err = f.store.PullMirror(ctx, "k", a)
	if err != nil {
		t.Fatal(err)
	}
	if st.Transferred != 1 || st.Deleted != 1 {
		t.Fatalf("pull mirror stats = %+v, want 1 fetched and 1 deleted", st)
	}
	sameTree(t, b, a)
	if _, err := os.Lstat(filepath.Join(a, "link.md")); err != nil {
		t.Errorf("pull mirror removed a symbolic link: %v", err)
	}

	// Mirroring an unchanged tree changes nothing.
	f.take()
	if st, err := f.store.PushMirror(ctx, "k", a); err != nil || st.Transferred != 0 || st.Deleted != 0 {
		t.Fatalf("second push mirror = %+v, %v", st, err)
	}
	f.wantRequests(map[string]int{"LIST": 1})
}

func TestCheck(t *testing.T) {
	f := newFake(t)
	ctx := context.Background()
	if err := f.store.Check(ctx); err != nil {
		t.Fatalf("Check on an existing bucket: %v", err)
	}
	missing := NewWithClient(testClient(f.srv), Config{Bucket: "no-such-bucket"})
	err := missing.Check(ctx)
	if err == nil || !IsPermanent(err) || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("Check on a missing bucket = %v, want a permanent 'does not exist'", err)
	}
}
