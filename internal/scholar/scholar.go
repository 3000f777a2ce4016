// Package scholar searches the literature: Semantic Scholar, OpenAlex and
// arXiv behind one interface, with a shared rate limiter per engine, a
// circuit breaker that fails over to the next engine, a persistent cache of
// answers, and BibTeX with stable, readable keys for every paper found.
//
// Failures are classified, never retried here: a rate limit or an engine
// that is down is a *TransientError (with the engine's Retry-After when it
// gave one), for the caller's retry policy (a Temporal activity's) to wait
// out; a refused key or a malformed query is a *PermanentError naming what
// to fix.
package scholar

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Paper is one search result.
type Paper struct {
	Title     string   `json:"title"`
	Authors   []string `json:"authors,omitempty"`
	Venue     string   `json:"venue,omitempty"`
	Year      int      `json:"year,omitempty"`
	Citations int      `json:"citations"`
	Abstract  string   `json:"abstract,omitempty"`
	DOI       string   `json:"doi,omitempty"`
	ArXiv     string   `json:"arxiv,omitempty"`
	URL       string   `json:"url,omitempty"`
	// BibTeX is the entry, keyed by Key (see Key), from the engine's own
	// citation when it gives one, else generated from the metadata.
	BibTeX string `json:"bibtex"`
	Key    string `json:"key"`
	// Engine answered the search.
	Engine string `json:"engine"`
}

// Engine is one literature search service.
type Engine interface {
	Name() string
	// Search returns at most limit papers for query, best first; an empty
	// result is not an error.
	Search(ctx context.Context, query string, limit int) ([]Paper, error)
}

// Engine names, as `--engine` takes them.
const (
	SemanticScholar = "semanticscholar"
	OpenAlex        = "openalex"
	ArXiv           = "arxiv"
)

// TransientError is a failure worth retrying later: a rate limit, an
// engine error (5xx), a timeout, a body that is not the API's.
type TransientError struct {
	Engine     string
	RetryAfter time.Duration // what the engine asked for (0: not said)
	Err        error
}

func (e *TransientError) Error() string {
	if e.RetryAfter > 0 {
		return fmt.Sprintf("%s: %v (retry after %s)", e.Engine, e.Err, e.RetryAfter)
	}
	return fmt.Sprintf("%s: %v", e.Engine, e.Err)
}

func (e *TransientError) Unwrap() error { return e.Err }

// PermanentError is a failure that retrying cannot fix: a refused key, a
// query the API will not take.
type PermanentError struct {
	Engine string
	Err    error
}

func (e *PermanentError) Error() string { return fmt.Sprintf("%s: %v", e.Engine, e.Err) }
func (e *PermanentError) Unwrap() error { return e.Err }

// IsPermanent reports whether err cannot be fixed by retrying.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}

// RetryAfter is the delay an engine asked for (0: none given).
func RetryAfter(err error) time.Duration {
	var t *TransientError
	if errors.As(err, &t) {
		return t.RetryAfter
	}
	return 0
}

// MaxQueryLen bounds a query: longer ones are refused by the engines (or
// answered with nothing), so they are cut at a word boundary.
const MaxQueryLen = 300

// NormalizeQuery trims, collapses white space and bounds the length.
func NormalizeQuery(q string) string {
	q = strings.Join(strings.Fields(q), " ")
	if len(q) <= MaxQueryLen {
		return q
	}
	cut := q[:MaxQueryLen]
	if i := strings.LastIndexByte(cut, ' '); i > MaxQueryLen/2 {
		cut = cut[:i]
	}
	return cut
}

// RequestTimeout bounds every request to an engine.
const RequestTimeout = 30 * time.Second

// httpStatusError classifies a non-200 answer.
func httpStatusError(engine, keyHint string, status int, retryAfter time.Duration, body string) error {
	msg := fmt.Errorf("HTTP %d: %s", status, clip(body, 200))
	switch {
	case status == http.StatusTooManyRequests:
		return &TransientError{Engine: engine, RetryAfter: retryAfter, Err: fmt.Errorf("rate limited (HTTP 429)")}
	case status >= 500:
		return &TransientError{Engine: engine, RetryAfter: retryAfter, Err: msg}
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		hint := ""
		if keyHint != "" {
			hint = "; check " + keyHint
		}
		return &PermanentError{Engine: engine, Err: fmt.Errorf("the key was refused (HTTP %d%s): %s", status, hint, clip(body, 200))}
	}
	return &PermanentError{Engine: engine, Err: msg}
}

// parseRetryAfter reads a Retry-After header: seconds or an HTTP date.
func parseRetryAfter(h string) time.Duration {
	if h == "" {
		return 0
	}
	var secs int
	if _, err := fmt.Sscanf(h, "%d", &secs); err == nil && secs > 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}

func clip(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}
