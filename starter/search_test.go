package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestSearch: starter search against each engine's fake server, then from
// the cache.
func TestSearch(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		switch {
		case strings.HasPrefix(r.URL.Path, "/graph/v1/paper/search"):
			_, _ = w.Write([]byte(`{"total": 1, "offset": 0, "data": [{"title": "Grokking: Generalization Beyond Overfitting", "year": 2022, "venue": "arXiv.org",
				"citationCount": 500, "authors": [{"name": "Alethea Power"}], "abstract": "Small algorithmic datasets.", "externalIds": {"ArXiv": "2201.02177"}}]}`))
		case r.URL.Path == "/works":
			_, _ = w.Write([]byte(`{"results": [{"title": "Omnigrok", "publication_year": 2023, "cited_by_count": 90,
				"authorships": [{"author": {"display_name": "Ziming Liu"}}], "abstract_inverted_index": {"Grokking": [0], "everywhere": [1]}}]}`))
		case r.URL.Path == "/api/query":
			_, _ = w.Write([]byte(`<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>http://arxiv.org/abs/2205.10343v1</id>
				<published>2022-05-20T00:00:00Z</published><title>Towards Understanding Grokking</title><summary>Theory.</summary>
				<author><name>Ziming Liu</name></author></entry></feed>`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	t.Setenv("SEMANTIC_SCHOLAR_BASE_URL", srv.URL)
	t.Setenv("OPENALEX_BASE_URL", srv.URL)
	t.Setenv("ARXIV_BASE_URL", srv.URL)
	data := t.TempDir()
	run := func(args ...string) string {
		t.Helper()
		cmd := searchCmd()
		var out bytes.Buffer
		cmd.SetOut(&out)
		cmd.SetErr(&out)
		cmd.SetArgs(append(args, "--data-dir", data))
		if err := cmd.Execute(); err != nil {
			t.Fatalf("search %v: %v\n%s", args, err, out.String())
		}
		return out.String()
	}
	for _, tt := range []struct {
		engine string
		want   []string
	}{
		{"semanticscholar", []string{"1 results from semanticscholar:", "1. Grokking: Generalization Beyond Overfitting (arXiv.org, 2022) [power2022grokking] 500 citations", "   Alethea Power", "   Small algorithmic datasets."}},
		{"openalex", []string{"1. Omnigrok (2023) [liu2023omnigrok] 90 citations", "   Grokking everywhere"}},
		{"arxiv", []string{"1. Towards Understanding Grokking (2022) [liu2022understanding]"}},
	} {
		out := run("grokking", "--engine", tt.engine)
		for _, w := range tt.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: output lacks %q:\n%s", tt.engine, w, out)
			}
		}
	}
	before := hits.Load()
	out := run("grokking", "--bibtex")
	if !strings.Contains(out, "@misc{power2022grokking,") || !strings.Contains(out, "eprint = {2201.02177}") {
		t.Errorf("bibtex:\n%s", out)
	}
	if hits.Load() != before {
		t.Errorf("a cached search went to the engine again")
	}
	if out := run("grokking", "--json", "--engine", "openalex"); !strings.Contains(out, `"engine": "openalex"`) {
		t.Errorf("json:\n%s", out)
	}
}
