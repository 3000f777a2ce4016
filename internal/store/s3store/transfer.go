package s3store

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"golang.org/x/sync/errgroup"
)

// Temporary files of an unfinished Pull are named tmpPrefix*tmpSuffix; Push
// leaves them out so a crashed pull cannot leak them into the store.
const (
	tmpPrefix = ".s3pull-"
	tmpSuffix = ".tmp"
)

// remoteObject is one listed object under a workspace prefix.
type remoteObject struct {
	key  string // full object key
	rel  string // slash-separated path below the workspace prefix
	size int64
	etag string // without quotes
}

// list returns the objects under prefix: one ListObjectsV2 request per 1000
// objects. Directory markers (keys ending in "/") are left out. With strict,
// a key whose relative part is not a plain relative path fails the listing;
// without it such keys are dropped.
func (s *Store) list(ctx context.Context, prefix string, strict bool) ([]remoteObject, error) {
	var objs []remoteObject
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{
		Bucket: aws.String(s.bucket),
		Prefix: aws.String(prefix),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("s3store: listing s3://%s/%s: %w", s.bucket, prefix, err)
		}
		for _, o := range page.Contents {
			key := aws.ToString(o.Key)
			rel, ok := strings.CutPrefix(key, prefix)
			if !ok {
				continue // a server that ignores Prefix
			}
			marker := strings.HasSuffix(rel, "/")
			check := strings.TrimSuffix(rel, "/")
			if marker && check == "" {
				continue // the workspace's own directory marker
			}
			if _, err := relPath(check); err != nil {
				if strict {
					return nil, fmt.Errorf("s3store: object s3://%s/%s escapes the workspace or is not a plain relative path: %w", s.bucket, key, err)
				}
				continue
			}
			if marker {
				continue
			}
			objs = append(objs, remoteObject{key: key, rel: rel, size: aws.ToInt64(o.Size), etag: unquote(aws.ToString(o.ETag))})
		}
	}
	return objs, nil
}

// Push uploads every regular file under localDir to <prefix>/<key>/<rel>,
// skipping files that the store already holds with the same size and
// content. Symbolic links and special files are never followed or
// uploaded; each is named in Stats.Notes. Objects with no local counterpart
// are left in place.
//
// Requests: one ListObjectsV2 per 1000 stored objects, one PutObject per
// new or changed file (files over 64 MiB: a multipart upload, 2 + one per
// 16 MiB part), and one HeadObject for a file whose stored size matches but
// whose ETag is not its plain MD5 (multipart or KMS-encrypted objects, or a
// same-size change), to compare the SHA-256 kept in the metadata.
func (s *Store) Push(ctx context.Context, key, localDir string) (Stats, error) {
	return s.push(ctx, key, localDir, false)
}

// PushMirror is Push followed by deleting every object under the key that
// has no local regular file (Stats.Deleted counts them), so the store then
// holds exactly what localDir holds: a file that an activity removed, such
// as a failed run's partial output, does not come back on the next pull.
func (s *Store) PushMirror(ctx context.Context, key, localDir string) (Stats, error) {
	return s.push(ctx, key, localDir, true)
}

func (s *Store) push(ctx context.Context, key, localDir string, mirror bool) (Stats, error) {
	var st Stats
	prefix, err := s.objectPrefix(key)
	if err != nil {
		return st, err
	}
	root, err := os.OpenRoot(localDir)
	if err != nil {
		return st, fmt.Errorf("s3store: push %s: %w", key, err)
	}
	defer root.Close()

	files, notes, err := walk(root)
	if err != nil {
		return st, fmt.Errorf("s3store: push %s: reading %s: %w", key, localDir, err)
	}
	st.Notes = notes
	remote, err := s.list(ctx, prefix, false)
	if err != nil {
		return st, err
	}
	byRel := make(map[string]remoteObject, len(remote))
	for _, o := range remote {
		byRel[o.rel] = o
	}

	err = s.parallel(ctx, len(files), &st, func(ctx context.Context, i int) (int64, bool, error) {
		rel := files[i]
		objKey := prefix + rel
		var have *remoteObject
		if o, ok := byRel[rel]; ok {
			have = &o
		}
		n, sent, err := s.pushFile(ctx, root, rel, objKey, have)
		if err != nil {
			return 0, false, fmt.Errorf("s3store: uploading %s to s3://%s/%s: %w", rel, s.bucket, objKey, err)
		}
		return n, sent, nil
	})
	if err != nil || !mirror {
		return st, err
	}
	local := make(map[string]bool, len(files))
	for _, f := range files {
		local[f] = true
	}
	var stale []string
	for _, o := range remote {
		if !local[o.rel] {
			stale = append(stale, o.key)
		}
	}
	if err := s.deleteKeys(ctx, stale); err != nil {
		return st, err
	}
	st.Deleted = len(stale)
	return st, nil
}

// walk lists the regular files under root (slash-separated, sorted) and
// notes everything else that is not a directory.
func walk(root *os.Root) (files, notes []string, err error) {
	err = fs.WalkDir(root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		switch t := d.Type(); {
		case d.IsDir():
			return nil
		case t&fs.ModeSymlink != 0:
			notes = append(notes, p+": symbolic link, not followed")
		case !t.IsRegular():
			notes = append(notes, p+": not a regular file ("+t.String()+")")
		case isTemp(d.Name()):
			notes = append(notes, p+": temporary file of an unfinished pull")
		default:
			if _, err := relPath(p); err != nil {
				notes = append(notes, p+": name not usable as an object key")
				return nil
			}
			files = append(files, p)
		}
		return nil
	})
	slices.Sort(notes)
	return files, notes, err
}

func isTemp(name string) bool {
	return strings.HasPrefix(name, tmpPrefix) && strings.HasSuffix(name, tmpSuffix)
}

// pushFile uploads one file unless the store holds the same content. It
// returns the file's size and whether it was sent.
func (s *Store) pushFile(ctx context.Context, root *os.Root, rel, objKey string, have *remoteObject) (int64, bool, error) {
	f, err := root.Open(filepath.FromSlash(rel))
	if err != nil {
		return 0, false, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return 0, false, err
	}
	if !info.Mode().IsRegular() {
		return 0, false, fmt.Errorf("%s is no longer a regular file", rel)
	}
	sum, err := digest(ctx, f)
	if err != nil {
		return 0, false, err
	}
	if have != nil && have.size == sum.size {
		same, err := s.sameContent(ctx, have, sum)
		if err != nil || same {
			return sum.size, false, err
		}
	}
	meta := map[string]string{
		metaSHA256: sum.sha256,
		metaMode:   strconv.FormatUint(uint64(info.Mode().Perm()), 8),
	}
	if sum.size > s.multipartThreshold {
		return sum.size, true, s.putMultipart(ctx, f, objKey, sum.size, meta)
	}
	_, err = s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        aws.String(s.bucket),
		Key:           aws.String(objKey),
		Body:          io.NewSectionReader(f, 0, sum.size),
		ContentLength: aws.Int64(sum.size),
		ContentMD5:    aws.String(base64.StdEncoding.EncodeToString(sum.md5)),
		Metadata:      meta,
	})
	return sum.size, true, err
}

// putMultipart uploads a large file in parts, aborting the upload on error
// so no orphaned parts keep costing storage.
func (s *Store) putMultipart(ctx context.Context, f *os.File, objKey string, size int64, meta map[string]string) error {
	created, err := s.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket:   aws.String(s.bucket),
		Key:      aws.String(objKey),
		Metadata: meta,
	})
	if err != nil {
		return err
	}
	uploadID := created.UploadId
	partSize := max(s.partSize, (size+maxParts-1)/maxParts)
	var parts []types.CompletedPart
	err = func() error {
		for num, off := int32(1), int64(0); off < size; num, off = num+1, off+partSize {
			n := min(partSize, size-off)
			sum, err := digest(ctx, io.NewSectionReader(f, off, n))
			if err != nil {
				return err
			}
			out, err := s.client.UploadPart(ctx, &s3.UploadPartInput{
				Bucket:        aws.String(s.bucket),
				Key:           aws.String(objKey),
				UploadId:      uploadID,
				PartNumber:    aws.Int32(num),
				Body:          io.NewSectionReader(f, off, n),
				ContentLength: aws.Int64(n),
				ContentMD5:    aws.String(base64.StdEncoding.EncodeToString(sum.md5)),
			})
			if err != nil {
				return fmt.Errorf("part %d: %w", num, err)
			}
			parts = append(parts, types.CompletedPart{
				PartNumber:        aws.Int32(num),
				ETag:              out.ETag,
				ChecksumCRC32:     out.ChecksumCRC32,
				ChecksumCRC32C:    out.ChecksumCRC32C,
				ChecksumCRC64NVME: out.ChecksumCRC64NVME,
				ChecksumSHA1:      out.ChecksumSHA1,
				ChecksumSHA256:    out.ChecksumSHA256,
			})
		}
		_, err := s.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
			Bucket:          aws.String(s.bucket),
			Key:             aws.String(objKey),
			UploadId:        uploadID,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
		})
		return err
	}()
	if err != nil {
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		_, _ = s.client.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{
			Bucket: aws.String(s.bucket), Key: aws.String(objKey), UploadId: uploadID,
		})
	}
	return err
}

// Pull downloads every object under <prefix>/<key>/ into localDir (created
// if missing), skipping files that are already identical locally. Before
// anything is written, every object key is checked: one whose relative part
// is absolute, contains "." or ".." segments, empty segments, backslashes
// or NUL fails the pull (ErrUnsafeObjectKey, permanent). Writes go through
// an os.Root, so a symbolic link inside localDir cannot redirect them
// outside either. Each file is written to a temporary file in its target
// directory and renamed into place, so a crash never leaves half a file.
// Local files absent from the store are left alone. Pull returns
// ErrNotFound when nothing is stored under key.
//
// Requests: one ListObjectsV2 per 1000 objects, one GetObject per missing
// or changed file, and one HeadObject for a local file whose size matches
// but whose content cannot be confirmed from the ETag (see Push).
func (s *Store) Pull(ctx context.Context, key, localDir string) (Stats, error) {
	return s.pull(ctx, key, localDir, false)
}

// PullMirror is Pull followed by removing every local regular file under
// localDir that the store does not hold (Stats.Deleted counts them), so
// localDir then holds exactly what was pushed last. Symbolic links and
// special files are left alone; empty directories stay.
func (s *Store) PullMirror(ctx context.Context, key, localDir string) (Stats, error) {
	return s.pull(ctx, key, localDir, true)
}

func (s *Store) pull(ctx context.Context, key, localDir string, mirror bool) (Stats, error) {
	var st Stats
	prefix, err := s.objectPrefix(key)
	if err != nil {
		return st, err
	}
	objs, err := s.list(ctx, prefix, true)
	if err != nil {
		return st, err
	}
	if len(objs) == 0 {
		return st, fmt.Errorf("s3store: pull %s: s3://%s/%s: %w", key, s.bucket, prefix, ErrNotFound)
	}
	if err := os.MkdirAll(localDir, 0o755); err != nil {
		return st, fmt.Errorf("s3store: pull %s: %w", key, err)
	}
	root, err := os.OpenRoot(localDir)
	if err != nil {
		return st, fmt.Errorf("s3store: pull %s: %w", key, err)
	}
	defer root.Close()

	err = s.parallel(ctx, len(objs), &st, func(ctx context.Context, i int) (int64, bool, error) {
		o := objs[i]
		n, got, err := s.pullFile(ctx, root, o)
		if err != nil {
			return 0, false, fmt.Errorf("s3store: downloading s3://%s/%s to %s: %w", s.bucket, o.key, o.rel, err)
		}
		return n, got, nil
	})
	if err != nil || !mirror {
		return st, err
	}
	stored := make(map[string]bool, len(objs))
	for _, o := range objs {
		stored[o.rel] = true
	}
	err = fs.WalkDir(root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() || stored[p] {
			return err
		}
		if err := root.Remove(filepath.FromSlash(p)); err != nil {
			return err
		}
		st.Deleted++
		return nil
	})
	if err != nil {
		return st, fmt.Errorf("s3store: pull %s: removing files the store does not hold: %w", key, err)
	}
	return st, nil
}

// pullFile downloads one object unless the local file already matches. It
// returns the file's size and whether it was downloaded.
func (s *Store) pullFile(ctx context.Context, root *os.Root, o remoteObject) (int64, bool, error) {
	local := filepath.FromSlash(o.rel)
	info, err := root.Lstat(local)
	switch {
	case err == nil && info.Mode().IsRegular() && info.Size() == o.size:
		same, err := s.localMatches(ctx, root, local, &o)
		if err != nil || same {
			return o.size, false, err
		}
	case err == nil && info.IsDir():
		return 0, false, fmt.Errorf("%s is a directory", o.rel)
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return 0, false, err
	}

	dir := path.Dir(o.rel)
	if dir != "." {
		if err := root.MkdirAll(filepath.FromSlash(dir), 0o755); err != nil {
			return 0, false, err
		}
	}
	tmp := filepath.Join(filepath.FromSlash(dir), fmt.Sprintf("%s%016x%s", tmpPrefix, rand.Uint64(), tmpSuffix))
	f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return 0, false, err
	}
	done := false
	defer func() {
		if !done {
			f.Close()
			root.Remove(tmp)
		}
	}()

	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(o.key)})
	if err != nil {
		return 0, false, err
	}
	sum, err := digestTo(ctx, f, out.Body)
	out.Body.Close()
	if err != nil {
		return 0, false, err
	}
	if want := aws.ToInt64(out.ContentLength); out.ContentLength != nil && want != sum.size {
		return 0, false, fmt.Errorf("short read: %d of %d bytes", sum.size, want)
	}
	if want := metaGet(out.Metadata, metaSHA256); want != "" {
		if !strings.EqualFold(want, sum.sha256) {
			return 0, false, fmt.Errorf("content does not match its stored sha256 (got %s, want %s)", sum.sha256, want)
		}
	} else if etag := unquote(aws.ToString(out.ETag)); isMD5(etag) && !strings.EqualFold(etag, hex.EncodeToString(sum.md5)) {
		return 0, false, fmt.Errorf("content does not match its ETag %s", etag)
	}
	perm := os.FileMode(0o644)
	if m, err := strconv.ParseUint(metaGet(out.Metadata, metaMode), 8, 32); err == nil {
		perm = os.FileMode(m)&0o777 | 0o600
	}
	if err := f.Chmod(perm); err != nil {
		return 0, false, err
	}
	if err := f.Close(); err != nil {
		return 0, false, err
	}
	done = true
	if err := root.Rename(tmp, local); err != nil {
		root.Remove(tmp)
		return 0, false, err
	}
	return sum.size, true, nil
}

// localMatches hashes a local file and compares it with the stored object.
func (s *Store) localMatches(ctx context.Context, root *os.Root, local string, o *remoteObject) (bool, error) {
	f, err := root.Open(local)
	if err != nil {
		return false, err
	}
	defer f.Close()
	sum, err := digest(ctx, f)
	if err != nil {
		return false, err
	}
	if sum.size != o.size {
		return false, nil
	}
	return s.sameContent(ctx, o, sum)
}

// sameContent decides whether a stored object of the same size holds the
// content summed in sum. A single-part upload's ETag is the MD5 of its
// content on AWS (without SSE-KMS/SSE-C) and MinIO, which settles it for
// free; otherwise one HeadObject fetches the SHA-256 that Push stores in the
// metadata. An object without that metadata whose ETag differs is treated
// as different.
func (s *Store) sameContent(ctx context.Context, o *remoteObject, sum sums) (bool, error) {
	if isMD5(o.etag) && strings.EqualFold(o.etag, hex.EncodeToString(sum.md5)) {
		return true, nil
	}
	head, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(o.key)})
	if err != nil {
		var nf *types.NotFound
		if errors.As(err, &nf) {
			return false, nil // deleted since the listing
		}
		return false, err
	}
	want := metaGet(head.Metadata, metaSHA256)
	return want != "" && strings.EqualFold(want, sum.sha256), nil
}

// Delete removes every object stored under the workspace key: one
// ListObjectsV2 and one DeleteObjects per 1000 objects. Deleting a missing
// workspace is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	prefix, err := s.objectPrefix(key)
	if err != nil {
		return err
	}
	// Every key under the prefix goes, markers and unusable names too.
	var keys []string
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{
		Bucket: aws.String(s.bucket),
		Prefix: aws.String(prefix),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("s3store: listing s3://%s/%s: %w", s.bucket, prefix, err)
		}
		for _, o := range page.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
	}
	return s.deleteKeys(ctx, keys)
}

// deleteKeys removes the given objects, 1000 per DeleteObjects request.
func (s *Store) deleteKeys(ctx context.Context, keys []string) error {
	for len(keys) > 0 {
		batch := keys[:min(len(keys), 1000)]
		keys = keys[len(batch):]
		ids := make([]types.ObjectIdentifier, len(batch))
		for i, k := range batch {
			ids[i] = types.ObjectIdentifier{Key: aws.String(k)}
		}
		out, err := s.client.DeleteObjects(ctx, &s3.DeleteObjectsInput{
			Bucket: aws.String(s.bucket),
			Delete: &types.Delete{Objects: ids, Quiet: aws.Bool(true)},
		})
		if err != nil {
			return fmt.Errorf("s3store: deleting %d objects from s3://%s: %w", len(batch), s.bucket, err)
		}
		if len(out.Errors) > 0 {
			e := out.Errors[0]
			return fmt.Errorf("s3store: deleting s3://%s/%s: %s: %s (and %d more)",
				s.bucket, aws.ToString(e.Key), aws.ToString(e.Code), aws.ToString(e.Message), len(out.Errors)-1)
		}
	}
	return nil
}

// parallel runs job for 0..n-1 with at most s.concurrency at once, adding
// each job's outcome to st. The first error cancels the rest; a cancelled
// ctx stops new jobs from starting.
func (s *Store) parallel(ctx context.Context, n int, st *Stats, job func(context.Context, int) (int64, bool, error)) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(1, s.concurrency))
	var mu sync.Mutex
	for i := range n {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err
			}
			size, sent, err := job(gctx, i)
			if err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			if sent {
				st.Transferred++
				st.TransferredBytes += size
			} else {
				st.Skipped++
				st.SkippedBytes += size
			}
			return nil
		})
	}
	err := g.Wait()
	if err == nil {
		err = ctx.Err() // cancelled before any job failed
	}
	return err
}

// sums is a content's size and digests.
type sums struct {
	size   int64
	md5    []byte
	sha256 string // hex
}

// digest reads r to the end, summing it.
func digest(ctx context.Context, r io.Reader) (sums, error) { return digestTo(ctx, io.Discard, r) }

// digestTo copies r to w, summing it; it stops when ctx is cancelled.
func digestTo(ctx context.Context, w io.Writer, r io.Reader) (sums, error) {
	m, h := md5.New(), sha256.New()
	n, err := io.Copy(io.MultiWriter(w, m, h), ctxReader{ctx, r})
	if err != nil {
		return sums{}, err
	}
	return sums{size: n, md5: m.Sum(nil), sha256: hex.EncodeToString(h.Sum(nil))}, nil
}

// ctxReader fails reads once ctx is done, so hashing or copying a large
// file stops promptly on cancellation.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

func unquote(etag string) string { return strings.Trim(etag, `"`) }

// isMD5 reports whether an ETag looks like a plain MD5 (32 hex digits), as
// opposed to a multipart ETag ("<hex>-<parts>").
func isMD5(etag string) bool {
	if len(etag) != 32 {
		return false
	}
	_, err := hex.DecodeString(etag)
	return err == nil
}

// metaGet looks a user-metadata key up case-insensitively (servers and SDK
// versions differ in how they case x-amz-meta-* names).
func metaGet(m map[string]string, k string) string {
	if v, ok := m[k]; ok {
		return v
	}
	for mk, v := range m {
		if strings.EqualFold(mk, k) {
			return v
		}
	}
	return ""
}
