package s3store

import (
	"context"
	"errors"
	"net/http"

	"github.com/aws/smithy-go"
)

// PermanentError wraps a failure that retrying cannot fix: bad
// configuration, an invalid key, an unsafe object name.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// ErrNotFound is returned by Pull when nothing is stored under the key.
var ErrNotFound = errors.New("workspace not found")

// permanentCodes are S3 error codes that no retry fixes: the bucket is
// missing or unusable, or the credentials are wrong or lack permission.
// ExpiredToken is left out: refreshable credentials recover on retry.
var permanentCodes = map[string]bool{
	"NoSuchBucket":                 true,
	"InvalidBucketName":            true,
	"AccessDenied":                 true,
	"AllAccessDisabled":            true,
	"AccountProblem":               true,
	"InvalidAccessKeyId":           true,
	"SignatureDoesNotMatch":        true,
	"InvalidSecurity":              true,
	"InvalidToken":                 true,
	"NotSignedUp":                  true,
	"AuthorizationHeaderMalformed": true, // wrong region
	"PermanentRedirect":            true, // wrong region or endpoint
	"InvalidObjectState":           true, // archived (Glacier) object
	"EntityTooLarge":               true,
	"KeyTooLongError":              true,
	"MethodNotAllowed":             true,
	"NotImplemented":               true,
}

// IsPermanent reports whether err cannot be fixed by retrying: a missing
// bucket, denied access (HTTP 401/403), invalid credentials, a bad
// configuration or key, an unsafe object key, or a missing workspace.
// Context cancellation and deadlines are never permanent.
func IsPermanent(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var pe *PermanentError
	if errors.As(err, &pe) || errors.Is(err, ErrUnsafeObjectKey) || errors.Is(err, ErrNotFound) {
		return true
	}
	var ae smithy.APIError
	if errors.As(err, &ae) && permanentCodes[ae.ErrorCode()] {
		return true
	}
	var he interface{ HTTPStatusCode() int }
	if errors.As(err, &he) {
		switch he.HTTPStatusCode() {
		case http.StatusUnauthorized, http.StatusForbidden, http.StatusMovedPermanently:
			return true
		}
	}
	return false
}
