package scholar

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Rates the engines ask of clients: Semantic Scholar about one request a
// second (with or without a key, for search), OpenAlex ten a second in its
// polite pool (fewer without a mail address), arXiv one every three
// seconds.
var defaultRates = map[string]rate.Limit{
	SemanticScholar: 1,
	OpenAlex:        5,
	ArXiv:           rate.Every(3 * time.Second),
}

// limiters are shared by every Service of the process: one per engine and
// endpoint, whatever the number of papers searching at once.
var (
	limitersMu sync.Mutex
	limiters   = map[string]*rate.Limiter{}
)

func limiterFor(engine, base string, r rate.Limit) *rate.Limiter {
	limitersMu.Lock()
	defer limitersMu.Unlock()
	k := engine + " " + base
	if l, ok := limiters[k]; ok {
		return l
	}
	l := rate.NewLimiter(r, 1)
	limiters[k] = l
	return l
}

// limited waits for the engine's limiter before each request.
type limited struct {
	Engine
	lim *rate.Limiter
}

func (l limited) Search(ctx context.Context, q string, n int) ([]Paper, error) {
	if err := l.lim.Wait(ctx); err != nil {
		return nil, err
	}
	return l.Engine.Search(ctx, q, n)
}

// Breaker settings: after this many transient failures in a row an engine
// is skipped for the cool-down, so a paper goes on with the next engine
// instead of waiting on one that is down.
const (
	breakerFailures = 3
	breakerCooldown = 5 * time.Minute
)

// breaker fails fast while its engine is taken for down.
type breaker struct {
	Engine
	mu        sync.Mutex
	fails     int
	openUntil time.Time
	now       func() time.Time
}

func (b *breaker) Search(ctx context.Context, q string, n int) ([]Paper, error) {
	b.mu.Lock()
	if b.now().Before(b.openUntil) {
		until := b.openUntil
		b.mu.Unlock()
		return nil, &TransientError{Engine: b.Name(), RetryAfter: time.Until(until), Err: errors.New("skipped: it failed repeatedly and is taken for down for a while")}
	}
	b.mu.Unlock()
	res, err := b.Engine.Search(ctx, q, n)
	b.mu.Lock()
	defer b.mu.Unlock()
	var t *TransientError
	switch {
	case err == nil || !errors.As(err, &t):
		b.fails = 0
	default:
		if b.fails++; b.fails >= breakerFailures {
			b.openUntil, b.fails = b.now().Add(breakerCooldown), 0
		}
	}
	return res, err
}

// cached answers a search it has answered before from a file: engine and
// normalised query → results, empty results included.
type cached struct {
	Engine
	dir string
	// Requests counts the searches that went to the engine.
	requests *int64
	mu       *sync.Mutex
}

type cacheEntry struct {
	Engine  string    `json:"engine"`
	Query   string    `json:"query"`
	Limit   int       `json:"limit"`
	Time    time.Time `json:"time"`
	Results []Paper   `json:"results"`
}

func cacheKey(engine, q string, n int) string {
	sum := sha256.Sum256([]byte(fmt.Sprintf("%s\n%s\n%d", engine, strings.ToLower(NormalizeQuery(q)), n)))
	return hex.EncodeToString(sum[:12])
}

func (c cached) Search(ctx context.Context, q string, n int) ([]Paper, error) {
	path := filepath.Join(c.dir, c.Name(), cacheKey(c.Name(), q, n)+".json")
	if b, err := os.ReadFile(path); err == nil {
		var e cacheEntry
		if json.Unmarshal(b, &e) == nil {
			return e.Results, nil
		}
	}
	c.mu.Lock()
	*c.requests++
	c.mu.Unlock()
	res, err := c.Engine.Search(ctx, q, n)
	if err != nil {
		return nil, err
	}
	b, _ := json.MarshalIndent(cacheEntry{Engine: c.Name(), Query: NormalizeQuery(q), Limit: n, Time: time.Now().UTC(), Results: res}, "", "  ")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err == nil {
		tmp := fmt.Sprintf("%s.tmp-%d", path, os.Getpid())
		if os.WriteFile(tmp, b, 0o644) == nil {
			_ = os.Rename(tmp, path)
		}
	}
	return res, nil
}

// Config builds a Service.
type Config struct {
	// Engine is tried first (default Semantic Scholar); the others follow
	// as fallbacks, in the order Semantic Scholar, OpenAlex, arXiv.
	Engine      string
	S2Key       string
	S2URL       string
	OpenAlexURL string
	Mail        string
	ArXivURL    string
	// CacheDir keeps answers (<artifacts>/literature); empty: no cache.
	CacheDir string
	Client   *http.Client
	// NoFallback uses Engine alone.
	NoFallback bool
}

// ConfigFromEnv reads S2_API_KEY, SEMANTIC_SCHOLAR_BASE_URL,
// OPENALEX_MAIL_ADDRESS, OPENALEX_BASE_URL and ARXIV_BASE_URL.
func ConfigFromEnv(getenv func(string) string) Config {
	return Config{S2Key: getenv("S2_API_KEY"), S2URL: getenv("SEMANTIC_SCHOLAR_BASE_URL"), Mail: getenv("OPENALEX_MAIL_ADDRESS"),
		OpenAlexURL: getenv("OPENALEX_BASE_URL"), ArXivURL: getenv("ARXIV_BASE_URL")}
}

// Service searches with failover between engines.
type Service struct {
	engines  []Engine
	mu       sync.Mutex
	requests map[string]*int64
}

// Engines lists the engine names known.
var Engines = []string{SemanticScholar, OpenAlex, ArXiv}

// New builds the service; an unknown engine name is an error.
func New(cfg Config) (*Service, error) {
	if cfg.Engine == "" {
		cfg.Engine = SemanticScholar
	}
	all := map[string]Engine{
		SemanticScholar: &S2{BaseURL: cfg.S2URL, Key: cfg.S2Key, Client: cfg.Client},
		OpenAlex:        &OpenAlexEngine{BaseURL: cfg.OpenAlexURL, Mail: cfg.Mail, Client: cfg.Client},
		ArXiv:           &ArXivEngine{BaseURL: cfg.ArXivURL, Client: cfg.Client},
	}
	bases := map[string]string{SemanticScholar: firstNonEmpty(cfg.S2URL, DefaultS2URL), OpenAlex: firstNonEmpty(cfg.OpenAlexURL, DefaultOpenAlexURL),
		ArXiv: firstNonEmpty(cfg.ArXivURL, DefaultArXivURL)}
	if _, ok := all[cfg.Engine]; !ok {
		return nil, fmt.Errorf("unknown literature engine %q (known: %s)", cfg.Engine, strings.Join(Engines, ", "))
	}
	order := []string{cfg.Engine}
	if !cfg.NoFallback {
		for _, n := range Engines {
			if n != cfg.Engine {
				order = append(order, n)
			}
		}
	}
	s := &Service{requests: map[string]*int64{}}
	for _, n := range order {
		r := defaultRates[n]
		if n == OpenAlex && cfg.Mail != "" {
			r = 10
		}
		var e Engine = limited{Engine: all[n], lim: limiterFor(n, bases[n], r)}
		e = &breaker{Engine: e, now: time.Now}
		s.requests[n] = new(int64)
		if cfg.CacheDir != "" {
			e = cached{Engine: e, dir: cfg.CacheDir, requests: s.requests[n], mu: &s.mu}
		} else {
			e = counted{Engine: e, requests: s.requests[n], mu: &s.mu}
		}
		s.engines = append(s.engines, e)
	}
	return s, nil
}

// counted counts requests when nothing is cached.
type counted struct {
	Engine
	requests *int64
	mu       *sync.Mutex
}

func (c counted) Search(ctx context.Context, q string, n int) ([]Paper, error) {
	c.mu.Lock()
	*c.requests++
	c.mu.Unlock()
	return c.Engine.Search(ctx, q, n)
}

// Result is a search's answer: the papers (de-duplicated), the engine that
// gave them, and why the engines before it did not.
type Result struct {
	Papers  []Paper  `json:"papers"`
	Engine  string   `json:"engine"`
	Skipped []string `json:"skipped,omitempty"`
}

// Search asks the engines in order until one answers. When none does the
// error is the first engine's (transient when any failure was, so the
// caller's retries can wait for an engine to come back).
func (s *Service) Search(ctx context.Context, query string, limit int) (Result, error) {
	return s.SearchFrom(ctx, "", query, limit)
}

// SearchFrom is Search trying engine first (empty: the service's own
// order); an engine the service does not use is an error.
func (s *Service) SearchFrom(ctx context.Context, engine, query string, limit int) (Result, error) {
	order := s.engines
	if engine != "" && engine != s.engines[0].Name() {
		order = nil
		for _, e := range s.engines {
			if e.Name() == engine {
				order = append(order, e)
			}
		}
		if len(order) == 0 {
			return Result{}, &PermanentError{Engine: engine, Err: fmt.Errorf("unknown literature engine (known: %s)", strings.Join(Engines, ", "))}
		}
		for _, e := range s.engines {
			if e.Name() != engine {
				order = append(order, e)
			}
		}
	}
	if strings.TrimSpace(query) == "" {
		return Result{}, &PermanentError{Engine: order[0].Name(), Err: errors.New("empty query")}
	}
	var res Result
	var first, transient error
	for _, e := range order {
		papers, err := e.Search(ctx, query, limit)
		if err == nil {
			res.Papers, res.Engine = Dedup(papers), e.Name()
			return res, nil
		}
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		if first == nil {
			first = err
		}
		if !IsPermanent(err) && transient == nil {
			transient = err
		}
		res.Skipped = append(res.Skipped, err.Error())
	}
	if transient != nil {
		return res, fmt.Errorf("no literature engine answered (%s): %w", strings.Join(res.Skipped, "; "), transient)
	}
	return res, fmt.Errorf("no literature engine answered (%s): %w", strings.Join(res.Skipped, "; "), first)
}

// Requests is how many searches went to each engine (cache hits excluded).
func (s *Service) Requests() map[string]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]int64{}
	for k, v := range s.requests {
		out[k] = *v
	}
	return out
}
