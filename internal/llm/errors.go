package llm

import (
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// ProviderError builds the error for a failed provider call from its HTTP
// status, so every provider maps failures onto retries the same way:
// 400/401/403/404 are permanent and name what to fix; 429 and 5xx are
// retryable, keeping the provider's Retry-After; anything else (network
// errors, timeouts) is retryable.
func ProviderError(provider, model, keyEnv string, status int, retryAfter time.Duration, err error) error {
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden:
		return &PermanentError{Err: fmt.Errorf("%s rejected the credentials for model %s (HTTP %d; check %s): %w", provider, model, status, keyEnv, err)}
	case http.StatusNotFound:
		return &PermanentError{Err: fmt.Errorf("%s does not know model %s (HTTP 404): %w", provider, model, err)}
	case http.StatusBadRequest, http.StatusUnprocessableEntity:
		return &PermanentError{Err: fmt.Errorf("%s refused the request for model %s (HTTP %d): %w", provider, model, status, err)}
	case http.StatusTooManyRequests:
		return &retryAfterError{err: fmt.Errorf("%s rate-limited model %s (HTTP 429): %w", provider, model, err), after: retryAfter}
	}
	if status >= 500 {
		return &retryAfterError{err: fmt.Errorf("%s failed for model %s (HTTP %d): %w", provider, model, status, err), after: retryAfter}
	}
	return fmt.Errorf("%s call for model %s: %w", provider, model, err)
}

// ParseRetryAfter reads a Retry-After header: seconds or an HTTP date.
func ParseRetryAfter(h string, now time.Time) time.Duration {
	if h == "" {
		return 0
	}
	if secs, err := strconv.Atoi(h); err == nil && secs > 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
