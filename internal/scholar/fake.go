package scholar

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// FakeHandler is a test double of the three engines' search endpoints,
// for the offline demo and the tests: it answers in each API's shape with
// a small fixed library of grokking papers (real works, metadata written
// here), best matches first, and counts nothing. Never a real source.
func FakeHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /graph/v1/paper/search", func(w http.ResponseWriter, r *http.Request) {
		found := fakeMatch(r.URL.Query().Get("query"))
		var data []map[string]any
		for _, p := range found {
			authors := make([]map[string]string, len(p.Authors))
			for i, a := range p.Authors {
				authors[i] = map[string]string{"name": a}
			}
			ext := map[string]any{}
			if p.ArXiv != "" {
				ext["ArXiv"] = p.ArXiv
			}
			data = append(data, map[string]any{"title": p.Title, "authors": authors, "venue": p.Venue, "year": p.Year,
				"abstract": p.Abstract, "citationCount": p.Citations, "externalIds": ext, "citationStyles": nil})
		}
		out := map[string]any{"total": len(data), "offset": 0}
		if len(data) > 0 {
			out["data"] = data // the real API leaves "data" out when nothing matches
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(out)
	})
	mux.HandleFunc("GET /works", func(w http.ResponseWriter, r *http.Request) {
		var results []map[string]any
		for _, p := range fakeMatch(r.URL.Query().Get("search")) {
			var auth []map[string]any
			for _, a := range p.Authors {
				auth = append(auth, map[string]any{"author": map[string]string{"display_name": a}})
			}
			inv := map[string][]int{}
			for i, word := range strings.Fields(p.Abstract) {
				inv[word] = append(inv[word], i)
			}
			results = append(results, map[string]any{"title": p.Title, "publication_year": p.Year, "cited_by_count": p.Citations,
				"authorships": auth, "abstract_inverted_index": inv, "primary_location": map[string]any{"source": map[string]string{"display_name": p.Venue}}})
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"meta": map[string]int{"count": len(results)}, "results": results})
	})
	mux.HandleFunc("GET /api/query", func(w http.ResponseWriter, r *http.Request) {
		var b strings.Builder
		b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><feed xmlns="http://www.w3.org/2005/Atom">`)
		for _, p := range fakeMatch(strings.TrimPrefix(r.URL.Query().Get("search_query"), "all:")) {
			fmt.Fprintf(&b, "<entry><id>http://arxiv.org/abs/%sv1</id><published>%d-01-01T00:00:00Z</published><title>%s</title><summary>%s</summary>",
				p.ArXiv, p.Year, xmlEscape(p.Title), xmlEscape(p.Abstract))
			for _, a := range p.Authors {
				fmt.Fprintf(&b, "<author><name>%s</name></author>", xmlEscape(a))
			}
			b.WriteString("</entry>")
		}
		b.WriteString("</feed>")
		w.Header().Set("Content-Type", "application/atom+xml")
		_, _ = w.Write([]byte(b.String()))
	})
	return mux
}

func xmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// fakeLibrary is the double's library.
var fakeLibrary = []Paper{
	{Title: "Grokking: Generalization Beyond Overfitting on Small Algorithmic Datasets", Authors: []string{"Alethea Power", "Yuri Burda", "Harri Edwards", "Igor Babuschkin", "Vedant Misra"},
		Venue: "arXiv.org", Year: 2022, Citations: 500, ArXiv: "2201.02177",
		Abstract: "Neural networks trained on small algorithmic datasets generalize long after they overfit the training data, a phenomenon called grokking."},
	{Title: "Omnigrok: Grokking Beyond Algorithmic Data", Authors: []string{"Ziming Liu", "Eric J. Michaud", "Max Tegmark"},
		Venue: "International Conference on Learning Representations", Year: 2023, Citations: 150, ArXiv: "2210.01117",
		Abstract: "Grokking is linked to the mismatch between training and test loss landscapes as a function of weight norm, and weight decay controls when it happens."},
	{Title: "Progress Measures for Grokking via Mechanistic Interpretability", Authors: []string{"Neel Nanda", "Lawrence Chan", "Tom Lieberum", "Jess Smith", "Jacob Steinhardt"},
		Venue: "International Conference on Learning Representations", Year: 2023, Citations: 300, ArXiv: "2301.05217",
		Abstract: "Reverse engineering a transformer trained on modular addition shows grokking is a gradual amplification of structured circuits followed by cleanup."},
	{Title: "Explaining Grokking Through Circuit Efficiency", Authors: []string{"Vikrant Varma", "Rohin Shah", "Zachary Kenton", "Janos Kramar", "Ramana Kumar"},
		Venue: "arXiv.org", Year: 2023, Citations: 60, ArXiv: "2309.02390",
		Abstract: "Grokking happens when a generalising circuit is more efficient than a memorising one, and weight decay favours efficiency."},
}

// fakeMatch ranks the library by words shared with the query.
func fakeMatch(q string) []Paper {
	words := map[string]bool{}
	for _, w := range strings.Fields(strings.ToLower(q)) {
		if len(w) > 3 {
			words[strings.Trim(w, ".,:;!?\"'()")] = true
		}
	}
	type scored struct {
		p Paper
		n int
	}
	var hits []scored
	for _, p := range fakeLibrary {
		n := 0
		for _, w := range strings.Fields(strings.ToLower(p.Title + " " + p.Abstract)) {
			if words[strings.Trim(w, ".,:;!?\"'()")] {
				n++
			}
		}
		if n > 0 {
			hits = append(hits, scored{p, n})
		}
	}
	for i := 1; i < len(hits); i++ { // stable, best first
		for j := i; j > 0 && hits[j].n > hits[j-1].n; j-- {
			hits[j], hits[j-1] = hits[j-1], hits[j]
		}
	}
	out := make([]Paper, len(hits))
	for i, h := range hits {
		out[i] = h.p
	}
	return out
}

// Fake is a running FakeHandler (the offline demo's literature).
type Fake struct {
	URL string // base URL for every engine
	srv *http.Server
	mu  sync.Mutex
	n   map[string]int
}

// StartFake serves FakeHandler on a free loopback port.
func StartFake() (*Fake, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("fake literature server: %w", err)
	}
	f := &Fake{URL: "http://" + l.Addr().String(), n: map[string]int{}}
	h := FakeHandler()
	f.srv = &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		engine := map[string]string{"/graph/v1/paper/search": SemanticScholar, "/works": OpenAlex, "/api/query": ArXiv}[r.URL.Path]
		f.mu.Lock()
		f.n[engine]++
		f.mu.Unlock()
		h.ServeHTTP(w, r)
	})}
	go func() { _ = f.srv.Serve(l) }()
	return f, nil
}

// Requests counts the searches each engine received.
func (f *Fake) Requests() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]int{}
	for k, v := range f.n {
		out[k] = v
	}
	return out
}

// Stop ends the server.
func (f *Fake) Stop() { _ = f.srv.Close() }

// FakeConfig points every engine at the fake at base.
func FakeConfig(base string) Config {
	return Config{S2URL: base, OpenAlexURL: base, ArXivURL: base}
}
