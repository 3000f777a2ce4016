package scholar

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// Recorded shapes of the engines' answers, written here.
const s2Found = `{"total": 2, "offset": 0, "next": 2, "data": [
 {"paperId": "a1", "url": "https://www.semanticscholar.org/paper/a1", "title": "Grokking: Generalization Beyond Overfitting on Small Algorithmic Datasets",
  "venue": "arXiv.org", "year": 2022, "citationCount": 512, "abstract": "We study generalization of neural networks on small datasets.",
  "authors": [{"authorId": "1", "name": "Alethea Power"}, {"authorId": "2", "name": "Yuri Burda"}],
  "externalIds": {"ArXiv": "2201.02177", "DOI": "10.48550/arXiv.2201.02177", "CorpusId": 1},
  "citationStyles": {"bibtex": "@Article{Power2022GrokkingGB,\n author = {Alethea Power and Yuri Burda},\n title = {Grokking},\n year = {2022}\n}\n"}},
 {"paperId": "a2", "title": "Omnigrok: Grokking Beyond Algorithmic Data", "venue": null, "year": null, "citationCount": 80,
  "abstract": null, "authors": [], "externalIds": null, "citationStyles": null}
]}`

const s2Empty = `{"total": 0, "offset": 0}`

const openAlexFound = `{"meta": {"count": 1}, "results": [{"id": "https://openalex.org/W1", "doi": "https://doi.org/10.5555/lin.2023",
 "title": "Progress Measures for Grokking via Mechanistic Interpretability", "publication_year": 2023, "cited_by_count": 200,
 "authorships": [{"author": {"display_name": "Neel Nanda"}}, {"author": {"display_name": "Lawrence Chan"}}],
 "primary_location": {"landing_page_url": "https://x.org/p", "source": {"display_name": "International Conference on Learning Representations"}},
 "abstract_inverted_index": {"We": [0], "reverse": [1], "engineer": [2], "grokking": [3, 5], "and": [4]}}]}`

const arxivFound = `<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:arxiv="http://arxiv.org/schemas/atom">
 <entry>
  <id>http://arxiv.org/abs/2205.10343v2</id>
  <published>2022-05-20T17:00:00Z</published>
  <title>Towards Understanding Grokking:
   An Effective Theory of Representation Learning</title>
  <summary>  We aim to understand grokking.  </summary>
  <author><name>Ziming Liu</name></author>
  <author><name>Ouail Kitouni</name></author>
  <arxiv:journal_ref>NeurIPS 2022</arxiv:journal_ref>
 </entry>
</feed>`

// fake serves body for path, after fail failures with status.
type fake struct {
	srv      *httptest.Server
	requests atomic.Int64
	mu       sync.Mutex
	queries  []string
	headers  []http.Header
}

func newFake(t *testing.T, handle func(n int64, w http.ResponseWriter, r *http.Request)) *fake {
	f := &fake{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := f.requests.Add(1)
		f.mu.Lock()
		f.queries = append(f.queries, r.URL.RawQuery)
		f.headers = append(f.headers, r.Header.Clone())
		f.mu.Unlock()
		handle(n, w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func answer(body string) func(int64, http.ResponseWriter, *http.Request) {
	return func(_ int64, w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(body)) }
}

func TestS2(t *testing.T) {
	f := newFake(t, answer(s2Found))
	s := &S2{BaseURL: f.srv.URL, Key: "k-123"}
	got, err := s.Search(context.Background(), "  grokking   small datasets ", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("got %d papers", len(got))
	}
	p := got[0]
	if p.Key != "power2022grokking" || !strings.HasPrefix(p.BibTeX, "@Article{power2022grokking,") || p.ArXiv != "2201.02177" || p.Citations != 512 || len(p.Authors) != 2 {
		t.Errorf("first paper = %+v", p)
	}
	// Null fields: no crash, a generated entry.
	q := got[1]
	if q.Key != "anonndomnigrok" || !strings.Contains(q.BibTeX, "title = {{Omnigrok: Grokking Beyond Algorithmic Data}}") || q.Abstract != "" {
		t.Errorf("second paper = %+v\n%s", q, q.BibTeX)
	}
	if h := f.headers[0].Get("X-API-KEY"); h != "k-123" {
		t.Errorf("X-API-KEY = %q", h)
	}
	if !strings.Contains(f.queries[0], "query=grokking+small+datasets") || !strings.Contains(f.queries[0], "citationStyles") {
		t.Errorf("query = %s", f.queries[0])
	}
}

func TestEnginesShapes(t *testing.T) {
	ctx := context.Background()
	t.Run("semantic scholar finds nothing", func(t *testing.T) {
		f := newFake(t, answer(s2Empty))
		got, err := (&S2{BaseURL: f.srv.URL}).Search(ctx, "nothing at all", 5)
		if err != nil || len(got) != 0 {
			t.Fatalf("got %v, %v", got, err)
		}
	})
	t.Run("openalex rebuilds the abstract and makes BibTeX", func(t *testing.T) {
		f := newFake(t, answer(openAlexFound))
		got, err := (&OpenAlexEngine{BaseURL: f.srv.URL, Mail: "me@example.org"}).Search(ctx, "grokking", 5)
		if err != nil || len(got) != 1 {
			t.Fatalf("got %v, %v", got, err)
		}
		p := got[0]
		if p.Abstract != "We reverse engineer grokking and grokking" || p.Key != "nanda2023progress" || p.DOI != "10.5555/lin.2023" {
			t.Errorf("paper = %+v", p)
		}
		for _, w := range []string{"@article{nanda2023progress,", "author = {Neel Nanda and Lawrence Chan}", "journal = {International Conference on Learning Representations}", "year = {2023}"} {
			if !strings.Contains(p.BibTeX, w) {
				t.Errorf("BibTeX lacks %q:\n%s", w, p.BibTeX)
			}
		}
		if !strings.Contains(f.queries[0], "mailto=me%40example.org") {
			t.Errorf("query = %s", f.queries[0])
		}
	})
	t.Run("arxiv atom", func(t *testing.T) {
		f := newFake(t, answer(arxivFound))
		got, err := (&ArXivEngine{BaseURL: f.srv.URL}).Search(ctx, "grokking theory", 5)
		if err != nil || len(got) != 1 {
			t.Fatalf("got %v, %v", got, err)
		}
		p := got[0]
		if p.Title != "Towards Understanding Grokking: An Effective Theory of Representation Learning" || p.ArXiv != "2205.10343" || p.Year != 2022 ||
			p.Key != "liu2022understanding" || p.Abstract != "We aim to understand grokking." {
			t.Errorf("paper = %+v", p)
		}
	})
}

func TestEngineFailures(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name      string
		handle    func(int64, http.ResponseWriter, *http.Request)
		permanent bool
		after     time.Duration
		want      string
	}{
		{name: "429 with Retry-After", handle: func(_ int64, w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(http.StatusTooManyRequests)
		}, after: 7 * time.Second, want: "rate limited"},
		{name: "503", handle: func(_ int64, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) }, want: "HTTP 503"},
		{name: "a refused key names S2_API_KEY", handle: func(_ int64, w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`{"message": "Forbidden"}`))
		}, permanent: true, want: "check S2_API_KEY"},
		{name: "an HTML page", handle: answer("<html><body>Service Unavailable</body></html>"), want: "not JSON"},
		{name: "a query the API refuses", handle: func(_ int64, w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error": "Query too long"}`))
		}, permanent: true, want: "Query too long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t, tt.handle)
			_, err := (&S2{BaseURL: f.srv.URL}).Search(ctx, "q", 5)
			if err == nil || IsPermanent(err) != tt.permanent || RetryAfter(err) != tt.after || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v (permanent %v, retry after %s), want %q permanent=%v after=%s", err, IsPermanent(err), RetryAfter(err), tt.want, tt.permanent, tt.after)
			}
		})
	}
	t.Run("a timeout", func(t *testing.T) {
		f := newFake(t, func(_ int64, w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
		ctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		defer cancel()
		_, err := (&S2{BaseURL: f.srv.URL}).Search(ctx, "q", 5)
		if err == nil || IsPermanent(err) {
			t.Fatalf("err = %v, want a transient error", err)
		}
	})
}

func TestNormalizeQuery(t *testing.T) {
	long := strings.Repeat("word ", 100)
	if got := NormalizeQuery(long); len(got) > MaxQueryLen || strings.HasSuffix(got, " ") {
		t.Errorf("long query = %d bytes %q", len(got), got[len(got)-10:])
	}
	if got := NormalizeQuery(" a\n b\t c "); got != "a b c" {
		t.Errorf("got %q", got)
	}
}

// TestLimiterUnderConcurrency: papers searching at once never pass the
// engine's rate.
func TestLimiterUnderConcurrency(t *testing.T) {
	f := newFake(t, answer(s2Empty))
	e := limited{Engine: &S2{BaseURL: f.srv.URL}, lim: rate.NewLimiter(20, 1)}
	start := time.Now()
	var wg sync.WaitGroup
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = e.Search(context.Background(), fmt.Sprint("q", i), 5)
		}()
	}
	wg.Wait()
	if took := time.Since(start); took < 400*time.Millisecond {
		t.Errorf("10 searches at 20/s took %s, want at least 0.45 s", took)
	}
}

// TestFailover: an engine that keeps failing is skipped (the breaker
// opens) and the next one answers; a permanent refusal also fails over.
func TestFailover(t *testing.T) {
	down := newFake(t, func(_ int64, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusBadGateway) })
	up := newFake(t, answer(openAlexFound))
	s, err := New(Config{S2URL: down.srv.URL, OpenAlexURL: up.srv.URL, ArXivURL: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	fast(s)
	for i := 0; i < 5; i++ {
		res, err := s.Search(context.Background(), fmt.Sprint("grokking ", i), 5)
		if err != nil || res.Engine != OpenAlex || len(res.Papers) != 1 || len(res.Skipped) != 1 {
			t.Fatalf("search %d = %+v, %v", i, res, err)
		}
	}
	if n := down.requests.Load(); n != breakerFailures {
		t.Errorf("the engine that is down was asked %d times, want %d before the breaker opened", n, breakerFailures)
	}
	// Every engine down: the error is transient, for the caller to retry.
	s2, _ := New(Config{S2URL: down.srv.URL, OpenAlexURL: down.srv.URL, ArXivURL: down.srv.URL})
	fast(s2)
	if _, err := s2.Search(context.Background(), "q", 5); err == nil || IsPermanent(err) {
		t.Errorf("all down: %v, want a transient error", err)
	}
}

// fast lifts the rate limits for tests.
func fast(s *Service) {
	for i, e := range s.engines {
		s.engines[i] = unlimit(e)
	}
}

func unlimit(e Engine) Engine {
	switch x := e.(type) {
	case counted:
		x.Engine = unlimit(x.Engine)
		return x
	case cached:
		x.Engine = unlimit(x.Engine)
		return x
	case *breaker:
		x.Engine = unlimit(x.Engine)
		return x
	case limited:
		x.lim = rate.NewLimiter(rate.Inf, 1)
		return x
	}
	return e
}

// TestCache: a search answered before is answered from the cache, with no
// request, across services (a resumed paper, a later campaign).
func TestCache(t *testing.T) {
	f := newFake(t, answer(s2Found))
	dir := t.TempDir()
	for i := 0; i < 3; i++ {
		s, err := New(Config{S2URL: f.srv.URL, CacheDir: dir, NoFallback: true})
		if err != nil {
			t.Fatal(err)
		}
		fast(s)
		res, err := s.Search(context.Background(), "Grokking  small datasets", 10)
		if err != nil || len(res.Papers) != 2 {
			t.Fatalf("search %d: %+v, %v", i, res, err)
		}
		want := int64(0)
		if i == 0 {
			want = 1
		}
		if got := s.Requests()[SemanticScholar]; got != want {
			t.Errorf("service %d made %d requests, want %d", i, got, want)
		}
	}
	if n := f.requests.Load(); n != 1 {
		t.Errorf("the engine was asked %d times, want 1", n)
	}
}

func TestKeysAndDedup(t *testing.T) {
	papers := []Paper{
		{Title: "The Élan of Grokking", Authors: []string{"José Müller"}, Year: 2024, DOI: "10.1/A"},
		{Title: "the elan of grokking!", Authors: []string{"J. Muller"}, Year: 2024},
		{Title: "Another", DOI: "10.1/a", Authors: []string{"Liu, Ziming"}},
		{Title: "On Weight Decay", Authors: []string{"Ziming Liu"}, Year: 2023, ArXiv: "2301.00001"},
	}
	for i := range papers {
		papers[i] = papers[i].finish("")
	}
	if k := papers[0].Key; k != "muller2024elan" {
		t.Errorf("key = %q", k)
	}
	if k := papers[3].Key; k != "liu2023weight" {
		t.Errorf("key = %q", k)
	}
	if got := Dedup(papers); len(got) != 2 || got[1].Title != "On Weight Decay" {
		t.Errorf("dedup kept %v", got)
	}
	if b := papers[3].BibTeX; !strings.Contains(b, "eprint = {2301.00001}") || !strings.HasPrefix(b, "@misc{liu2023weight,") {
		t.Errorf("BibTeX:\n%s", b)
	}
	if b := (Paper{Title: "50% of $x_t$ & more", Year: 2020}).finish("").BibTeX; !strings.Contains(b, `50\% of \$x\_t\$ \& more`) {
		t.Errorf("not escaped:\n%s", b)
	}
}

// TestFakeHandler: the test double answers each engine's client in its shape.
func TestFakeHandler(t *testing.T) {
	srv := httptest.NewServer(FakeHandler())
	defer srv.Close()
	for _, e := range []Engine{&S2{BaseURL: srv.URL}, &OpenAlexEngine{BaseURL: srv.URL}, &ArXivEngine{BaseURL: srv.URL}} {
		got, err := e.Search(context.Background(), "How Weight Decay Strength Shifts the Onset of Grokking", 10)
		if err != nil || len(got) == 0 || !strings.Contains(got[0].Title, "rokking") {
			t.Errorf("%s: %v, %v", e.Name(), got, err)
		}
		none, err := e.Search(context.Background(), "zebra", 10)
		if err != nil || len(none) != 0 {
			t.Errorf("%s: nothing to find: %v, %v", e.Name(), none, err)
		}
	}
}
