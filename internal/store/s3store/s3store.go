// Package s3store keeps paper workspaces in S3-compatible object storage
// (AWS S3, MinIO), so that a run on a host that shares no file system with
// the orchestrating worker can pull a workspace before it runs and push its
// results back after.
//
// A workspace key (e.g. "grokking/20261125_181500_weight_decay") maps to the
// object prefix "<Prefix>/<key>/"; each regular file under the local
// directory becomes one object named by its slash-separated relative path.
// Push and Pull transfer only what differs: a file is skipped when its size
// and content hash match the other side. Every uploaded object carries the
// hex SHA-256 of its content in the user metadata "sha256" (and its
// permission bits in "mode").
//
// Neither Push nor Pull deletes anything on the receiving side: a file
// removed locally stays in the store, and a local file absent from the store
// stays on disk. Empty directories are not represented.
package s3store

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// DefaultPrefix is the object prefix used when AISCI_S3_PREFIX is unset.
const DefaultPrefix = "aiscientist"

// DefaultEndpointRegion is the region assumed for a custom endpoint (MinIO
// and most S3-compatible servers ignore it, but SigV4 needs one).
const DefaultEndpointRegion = "us-east-1"

// DefaultConcurrency is how many files are hashed and transferred at once.
const DefaultConcurrency = 8

// Object size above which Push uses a multipart upload. A single PUT is
// limited to 5 GiB by S3 and cannot resume; parts are retried one by one.
const (
	defaultMultipartThreshold = 64 << 20
	defaultPartSize           = 16 << 20
	maxParts                  = 10000
)

// Metadata keys stored with every uploaded object (x-amz-meta-*).
const (
	metaSHA256 = "sha256"
	metaMode   = "mode"
)

// Config says where workspaces live.
type Config struct {
	Bucket string
	// Prefix is prepended to every workspace key ("" means the bucket root).
	Prefix string
	// Endpoint replaces the AWS endpoint (MinIO: "http://minio:9000").
	Endpoint string
	Region   string
	// PathStyle addresses buckets as <endpoint>/<bucket>/<key> rather than
	// <bucket>.<endpoint>/<key>; MinIO and most compatible servers need it.
	PathStyle bool
}

// ConfigFromEnv reads AISCI_S3_BUCKET, AISCI_S3_PREFIX (default
// "aiscientist"), AISCI_S3_ENDPOINT (implies path-style addressing) and
// AWS_REGION (default us-east-1 when an endpoint is given; otherwise left
// empty so the AWS profile's region applies). Credentials are not read here:
// New uses the standard AWS chain (environment, profile, SSO, web identity,
// container and instance roles).
func ConfigFromEnv(getenv func(string) string) Config {
	cfg := Config{
		Bucket:   strings.TrimSpace(getenv("AISCI_S3_BUCKET")),
		Prefix:   strings.TrimSpace(getenv("AISCI_S3_PREFIX")),
		Endpoint: strings.TrimSpace(getenv("AISCI_S3_ENDPOINT")),
		Region:   strings.TrimSpace(getenv("AWS_REGION")),
	}
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultPrefix
	}
	if cfg.Endpoint != "" {
		cfg.PathStyle = true
		if cfg.Region == "" {
			cfg.Region = DefaultEndpointRegion
		}
	}
	return cfg
}

// Store moves workspaces between local directories and a bucket.
type Store struct {
	client *s3.Client
	bucket string
	prefix string // cleaned, no leading or trailing slash; "" for the root

	concurrency        int
	multipartThreshold int64
	partSize           int64
}

// New builds a Store whose client uses the standard AWS credential chain.
// Configuration problems (no bucket, no region, a broken profile) are
// permanent errors. The SDK's standard retryer is kept: a workspace is many
// small requests, and retrying the one that hit a 503 is far cheaper than
// failing the whole transfer.
func New(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.Bucket == "" {
		return nil, &PermanentError{Err: errors.New("s3store: no bucket: set AISCI_S3_BUCKET")}
	}
	if cfg.Endpoint != "" {
		if u, err := url.Parse(cfg.Endpoint); err != nil || u.Scheme == "" || u.Host == "" {
			return nil, &PermanentError{Err: fmt.Errorf("s3store: endpoint %q is not a URL such as http://minio:9000", cfg.Endpoint)}
		}
	}
	var opts []func(*config.LoadOptions) error
	if cfg.Region != "" {
		opts = append(opts, config.WithRegion(cfg.Region))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, &PermanentError{Err: fmt.Errorf("s3store: loading AWS configuration (check AWS_PROFILE and ~/.aws/config): %w", err)}
	}
	if awsCfg.Region == "" {
		if cfg.Endpoint == "" {
			return nil, &PermanentError{Err: errors.New("s3store: no AWS region: set AWS_REGION (or a region in the AWS profile)")}
		}
		awsCfg.Region = DefaultEndpointRegion
	}
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		o.UsePathStyle = cfg.PathStyle
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
			// Many S3-compatible servers reject the SDK's default
			// aws-chunked trailing checksums; Push sends Content-MD5
			// instead, which every implementation verifies.
			o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
			o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		}
	})
	return NewWithClient(client, cfg), nil
}

// NewWithClient builds a Store around a ready client (tests, custom
// transports). Only cfg.Bucket and cfg.Prefix are used.
func NewWithClient(client *s3.Client, cfg Config) *Store {
	return &Store{
		client:             client,
		bucket:             cfg.Bucket,
		prefix:             strings.Trim(path.Clean("/"+cfg.Prefix), "/"),
		concurrency:        DefaultConcurrency,
		multipartThreshold: defaultMultipartThreshold,
		partSize:           defaultPartSize,
	}
}

// Bucket returns the bucket the store writes to.
func (s *Store) Bucket() string { return s.bucket }

// Stats tells what a Push or Pull did.
type Stats struct {
	// Transferred counts files uploaded (Push) or downloaded (Pull), and
	// TransferredBytes their total size.
	Transferred      int
	TransferredBytes int64
	// Skipped counts files left alone because both sides already held the
	// same content, and SkippedBytes their total size.
	Skipped      int
	SkippedBytes int64
	// Deleted counts what a mirror removed on the receiving side.
	Deleted int
	// Notes names entries that were deliberately not transferred, such as
	// symbolic links and special files, with the reason; sorted.
	Notes []string
}

// objectPrefix is "<prefix>/<key>/" for a valid key.
func (s *Store) objectPrefix(key string) (string, error) {
	clean, err := cleanKey(key)
	if err != nil {
		return "", err
	}
	if s.prefix == "" {
		return clean + "/", nil
	}
	return s.prefix + "/" + clean + "/", nil
}

// cleanKey validates a workspace key the way internal/store does (not
// empty, not absolute, no ".."; here also no backslash or NUL) and returns
// its cleaned slash form.
func cleanKey(key string) (string, error) {
	clean := path.Clean(key)
	if key == "" || strings.HasPrefix(clean, "/") || clean == "." || strings.HasPrefix(clean, "..") ||
		strings.ContainsAny(key, "\\\x00") {
		return "", &PermanentError{Err: fmt.Errorf("s3store: invalid key %q", key)}
	}
	return clean, nil
}

// ErrUnsafeObjectKey marks an object whose name would land outside the
// local directory (or is otherwise unusable as a relative path).
var ErrUnsafeObjectKey = errors.New("unsafe object key")

// relPath checks the part of an object key below the workspace prefix and
// returns it when it is a plain relative path: non-empty segments, none of
// them "." or "..", no backslash or NUL, not absolute.
func relPath(rel string) (string, error) {
	if rel == "" || strings.HasPrefix(rel, "/") || strings.ContainsAny(rel, "\\\x00") {
		return "", ErrUnsafeObjectKey
	}
	for _, seg := range strings.Split(rel, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return "", ErrUnsafeObjectKey
		}
	}
	return rel, nil
}

// Exists reports whether any object is stored under the workspace key.
func (s *Store) Exists(ctx context.Context, key string) (bool, error) {
	prefix, err := s.objectPrefix(key)
	if err != nil {
		return false, err
	}
	out, err := s.client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{
		Bucket:  aws.String(s.bucket),
		Prefix:  aws.String(prefix),
		MaxKeys: aws.Int32(1),
	})
	if err != nil {
		return false, fmt.Errorf("s3store: listing s3://%s/%s: %w", s.bucket, prefix, err)
	}
	return len(out.Contents) > 0, nil
}

// Check confirms that the bucket exists and the credentials may use it (one
// HeadBucket), so a worker with a wrong bucket, region or key fails at
// start-up rather than at its first paper.
func (s *Store) Check(ctx context.Context) error {
	_, err := s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(s.bucket)})
	if err == nil {
		return nil
	}
	var he interface{ HTTPStatusCode() int }
	if errors.As(err, &he) && he.HTTPStatusCode() == 404 {
		return &PermanentError{Err: fmt.Errorf("s3store: bucket %s does not exist (create it, or fix AISCI_S3_BUCKET / AISCI_S3_ENDPOINT)", s.bucket)}
	}
	return fmt.Errorf("s3store: bucket %s: %w", s.bucket, err)
}
