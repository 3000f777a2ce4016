package scholar

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Default endpoints; each is overridable (SEMANTIC_SCHOLAR_BASE_URL,
// OPENALEX_BASE_URL, ARXIV_BASE_URL), for proxies and test servers.
const (
	DefaultS2URL       = "https://api.semanticscholar.org"
	DefaultOpenAlexURL = "https://api.openalex.org"
	DefaultArXivURL    = "http://export.arxiv.org"
)

// maxBody bounds what is read of one answer.
const maxBody = 16 << 20

// get fetches u and returns the body of a 200; other answers are
// classified (see httpStatusError). Every request has RequestTimeout.
type engineKey struct{}

// EngineOf names the engine a request made by this package is for ("" for
// any other request), so a transport can count requests by engine.
func EngineOf(r *http.Request) string {
	e, _ := r.Context().Value(engineKey{}).(string)
	return e
}

func get(ctx context.Context, client *http.Client, engine, keyHint, u string, header http.Header) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.WithValue(ctx, engineKey{}, engine), RequestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, &PermanentError{Engine: engine, Err: err}
	}
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	req.Header.Set("User-Agent", "aiscientist (literature search)")
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil && !errors.Is(err, context.Canceled) {
			return nil, &TransientError{Engine: engine, Err: fmt.Errorf("no answer within %s", RequestTimeout)}
		}
		return nil, &TransientError{Engine: engine, Err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, &TransientError{Engine: engine, Err: fmt.Errorf("read the answer: %w", err)}
	}
	if resp.StatusCode != http.StatusOK {
		return nil, httpStatusError(engine, keyHint, resp.StatusCode, parseRetryAfter(resp.Header.Get("Retry-After")), string(body))
	}
	return body, nil
}

// decodeJSON reads an API answer; a page that is not JSON (a proxy's HTML)
// is transient.
func decodeJSON(engine string, body []byte, v any) error {
	t := bytes.TrimSpace(body)
	if len(t) == 0 || (t[0] != '{' && t[0] != '[') {
		return &TransientError{Engine: engine, Err: fmt.Errorf("the answer is not JSON: %q", clip(string(t), 120))}
	}
	if err := json.Unmarshal(t, v); err != nil {
		return &TransientError{Engine: engine, Err: fmt.Errorf("unreadable answer: %w", err)}
	}
	return nil
}

// S2 is Semantic Scholar's graph API paper search.
type S2 struct {
	BaseURL string // empty: DefaultS2URL
	Key     string // S2_API_KEY, sent as X-API-KEY
	Client  *http.Client
}

func (s *S2) Name() string { return SemanticScholar }

type s2Answer struct {
	Total int `json:"total"`
	Data  []struct {
		Title    string `json:"title"`
		Abstract string `json:"abstract"`
		Venue    string `json:"venue"`
		Year     int    `json:"year"`
		URL      string `json:"url"`
		Authors  []struct {
			Name string `json:"name"`
		} `json:"authors"`
		CitationCount  int `json:"citationCount"`
		CitationStyles *struct {
			BibTeX string `json:"bibtex"`
		} `json:"citationStyles"`
		ExternalIDs map[string]any `json:"externalIds"`
	} `json:"data"`
}

// Search asks /graph/v1/paper/search with the fields the stages use.
func (s *S2) Search(ctx context.Context, query string, limit int) ([]Paper, error) {
	base := strings.TrimRight(firstNonEmpty(s.BaseURL, DefaultS2URL), "/")
	q := url.Values{"query": {NormalizeQuery(query)}, "limit": {strconv.Itoa(max(1, min(limit, 100)))},
		"fields": {"title,authors,venue,year,abstract,citationStyles,citationCount,externalIds,url"}}
	h := http.Header{}
	if s.Key != "" {
		h.Set("X-API-KEY", s.Key)
	}
	body, err := get(ctx, s.Client, SemanticScholar, "S2_API_KEY", base+"/graph/v1/paper/search?"+q.Encode(), h)
	if err != nil {
		return nil, err
	}
	var a s2Answer
	if err := decodeJSON(SemanticScholar, body, &a); err != nil {
		return nil, err
	}
	var out []Paper
	for _, d := range a.Data { // no "data" at all when nothing was found
		if strings.TrimSpace(d.Title) == "" {
			continue
		}
		p := Paper{Title: strings.TrimSpace(d.Title), Abstract: d.Abstract, Venue: d.Venue, Year: d.Year, Citations: d.CitationCount,
			URL: d.URL, Engine: SemanticScholar}
		for _, au := range d.Authors {
			if au.Name != "" {
				p.Authors = append(p.Authors, au.Name)
			}
		}
		p.DOI, _ = d.ExternalIDs["DOI"].(string)
		p.ArXiv, _ = d.ExternalIDs["ArXiv"].(string)
		bib := ""
		if d.CitationStyles != nil {
			bib = d.CitationStyles.BibTeX
		}
		out = append(out, p.finish(bib))
	}
	return out, nil
}

// OpenAlexEngine is OpenAlex's works search (no key; a mail address joins
// the polite pool).
type OpenAlexEngine struct {
	BaseURL string // empty: DefaultOpenAlexURL
	Mail    string // OPENALEX_MAIL_ADDRESS
	Client  *http.Client
}

func (o *OpenAlexEngine) Name() string { return OpenAlex }

type openAlexAnswer struct {
	Results []struct {
		Title           string `json:"title"`
		DisplayName     string `json:"display_name"`
		DOI             string `json:"doi"`
		PublicationYear int    `json:"publication_year"`
		CitedByCount    int    `json:"cited_by_count"`
		Authorships     []struct {
			Author struct {
				DisplayName string `json:"display_name"`
			} `json:"author"`
		} `json:"authorships"`
		PrimaryLocation *struct {
			LandingPageURL string `json:"landing_page_url"`
			Source         *struct {
				DisplayName string `json:"display_name"`
			} `json:"source"`
		} `json:"primary_location"`
		Abstract map[string][]int `json:"abstract_inverted_index"`
		IDs      map[string]any   `json:"ids"`
	} `json:"results"`
}

var arxivDOI = regexp.MustCompile(`(?i)10\.48550/arxiv\.(\d{4}\.\d{4,5})`)

// Search asks /works?search=.
func (o *OpenAlexEngine) Search(ctx context.Context, query string, limit int) ([]Paper, error) {
	base := strings.TrimRight(firstNonEmpty(o.BaseURL, DefaultOpenAlexURL), "/")
	q := url.Values{"search": {NormalizeQuery(query)}, "per-page": {strconv.Itoa(max(1, min(limit, 200)))}}
	if o.Mail != "" {
		q.Set("mailto", o.Mail)
	}
	body, err := get(ctx, o.Client, OpenAlex, "", base+"/works?"+q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	var a openAlexAnswer
	if err := decodeJSON(OpenAlex, body, &a); err != nil {
		return nil, err
	}
	var out []Paper
	for _, r := range a.Results {
		title := strings.TrimSpace(firstNonEmpty(r.Title, r.DisplayName))
		if title == "" {
			continue
		}
		p := Paper{Title: title, Year: r.PublicationYear, Citations: r.CitedByCount, Abstract: InvertedAbstract(r.Abstract), Engine: OpenAlex}
		p.DOI = strings.TrimPrefix(strings.TrimPrefix(r.DOI, "https://doi.org/"), "http://doi.org/")
		if m := arxivDOI.FindStringSubmatch(p.DOI); m != nil {
			p.ArXiv = m[1]
		}
		for _, au := range r.Authorships {
			if au.Author.DisplayName != "" {
				p.Authors = append(p.Authors, au.Author.DisplayName)
			}
		}
		if l := r.PrimaryLocation; l != nil {
			p.URL = l.LandingPageURL
			if l.Source != nil && !strings.EqualFold(l.Source.DisplayName, "arXiv (Cornell University)") {
				p.Venue = l.Source.DisplayName
			}
		}
		out = append(out, p.finish(""))
	}
	return out, nil
}

// InvertedAbstract rebuilds an abstract from OpenAlex's inverted index
// (word → positions).
func InvertedAbstract(index map[string][]int) string {
	if len(index) == 0 {
		return ""
	}
	type wp struct {
		pos  int
		word string
	}
	var all []wp
	for w, ps := range index {
		for _, p := range ps {
			all = append(all, wp{p, w})
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].pos < all[j].pos })
	words := make([]string, len(all))
	for i, x := range all {
		words[i] = x.word
	}
	return strings.Join(words, " ")
}

// ArXivEngine is arXiv's query API (Atom).
type ArXivEngine struct {
	BaseURL string // empty: DefaultArXivURL
	Client  *http.Client
}

func (a *ArXivEngine) Name() string { return ArXiv }

type atomFeed struct {
	Entries []struct {
		ID        string `xml:"id"`
		Title     string `xml:"title"`
		Summary   string `xml:"summary"`
		Published string `xml:"published"`
		Authors   []struct {
			Name string `xml:"name"`
		} `xml:"author"`
		DOI        string `xml:"http://arxiv.org/schemas/atom doi"`
		JournalRef string `xml:"http://arxiv.org/schemas/atom journal_ref"`
	} `xml:"entry"`
}

var arxivID = regexp.MustCompile(`arxiv\.org/abs/([^v\s]+)(v\d+)?$`)

// Search asks /api/query with the words of the query.
func (a *ArXivEngine) Search(ctx context.Context, query string, limit int) ([]Paper, error) {
	base := strings.TrimRight(firstNonEmpty(a.BaseURL, DefaultArXivURL), "/")
	q := url.Values{"search_query": {"all:" + NormalizeQuery(query)}, "max_results": {strconv.Itoa(max(1, min(limit, 100)))}}
	body, err := get(ctx, a.Client, ArXiv, "", base+"/api/query?"+q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	t := bytes.TrimSpace(body)
	if len(t) == 0 || t[0] != '<' {
		return nil, &TransientError{Engine: ArXiv, Err: fmt.Errorf("the answer is not an Atom feed: %q", clip(string(t), 120))}
	}
	var feed atomFeed
	if err := xml.Unmarshal(t, &feed); err != nil {
		return nil, &TransientError{Engine: ArXiv, Err: fmt.Errorf("unreadable feed: %w", err)}
	}
	var out []Paper
	for _, e := range feed.Entries {
		title := strings.Join(strings.Fields(e.Title), " ")
		if title == "" || title == "Error" {
			continue
		}
		p := Paper{Title: title, Abstract: strings.Join(strings.Fields(e.Summary), " "), DOI: e.DOI, URL: e.ID, Venue: e.JournalRef, Engine: ArXiv}
		if m := arxivID.FindStringSubmatch(e.ID); m != nil {
			p.ArXiv = m[1]
		}
		if ts, err := time.Parse(time.RFC3339, e.Published); err == nil {
			p.Year = ts.Year()
		}
		for _, au := range e.Authors {
			if n := strings.TrimSpace(au.Name); n != "" {
				p.Authors = append(p.Authors, n)
			}
		}
		out = append(out, p.finish(""))
	}
	return out, nil
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}
