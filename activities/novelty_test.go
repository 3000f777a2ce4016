package activities_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aiscientist/aiscientist/activities"
	"github.com/aiscientist/aiscientist/internal/llm"
	"github.com/aiscientist/aiscientist/internal/paper"
	"github.com/aiscientist/aiscientist/internal/scholar"
	"go.temporal.io/sdk/temporal"
)

func TestReadNoveltyReply(t *testing.T) {
	for _, tt := range []struct {
		reply, query, err string
		decided, novel    bool
	}{
		{reply: "THOUGHT: look first.\nRESPONSE:\n```json\n{\"Query\": \"grokking weight decay\"}\n```", query: "grokking weight decay"},
		{reply: "RESPONSE: {\"Decision\": \"Novel.\", \"Reasoning\": \"none does this\"}", decided: true, novel: true},
		{reply: "RESPONSE: {\"decision\": \"not novel\", \"reasoning\": \"Nanda et al. did it\", \"closest\": \"Progress Measures\"}", decided: true},
		{reply: "RESPONSE: {\"Decision\": \"maybe\"}", err: `"Decision" must be "novel" or "not novel", got "maybe"`},
		{reply: "RESPONSE: {\"Thoughts\": \"hmm\"}", err: `neither "Query"`},
		{reply: "I think it is novel.", err: "no JSON object"},
	} {
		r, err := activities.ReadNoveltyReply(tt.reply)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: err = %v, want %q", tt.reply, err, tt.err)
			}
			continue
		}
		if err != nil || r.Query != tt.query || r.Decided != tt.decided || r.Novel != tt.novel {
			t.Errorf("%q: %+v, %v", tt.reply, r, err)
		}
	}
}

// TestNoveltyRounds: the scripted model searches the (fake) literature
// for the idea, then decides; the record keeps the query, the papers seen
// and the decision; a retried round is answered from the record.
func TestNoveltyRounds(t *testing.T) {
	srv := httptest.NewServer(scholar.FakeHandler())
	defer srv.Close()
	e := newEnv(t)
	lit, err := scholar.New(scholar.Config{S2URL: srv.URL, OpenAlexURL: srv.URL, ArXivURL: srv.URL, CacheDir: filepath.Join(e.root, "literature")})
	if err != nil {
		t.Fatal(err)
	}
	e.acts.Literature = lit
	idea := paper.Idea{Name: "weight_decay_grokking", Title: "How Weight Decay Strength Shifts the Onset of Grokking", Experiment: "Sweep WEIGHT_DECAY.",
		Interestingness: 5, Feasibility: 9, Novelty: 3}
	in := activities.NoveltyInput{CampaignKey: "grokking/nov", Template: "grokking", Model: llm.ScriptedModel, Idea: idea, Round: 1, MaxRounds: 10}
	r1 := mustExecute[activities.NoveltyResult](t, e, e.acts.NoveltyRound, in)
	if r1.Decided || r1.Query != idea.Title || r1.Found == 0 || r1.Engine != scholar.SemanticScholar {
		t.Fatalf("round 1 = %+v, want a search for the title", r1)
	}
	in.Round = 2
	r2 := mustExecute[activities.NoveltyResult](t, e, e.acts.NoveltyRound, in)
	if !r2.Decided || !r2.Novel || len(r2.Closest) != 1 {
		t.Fatalf("round 2 = %+v, want a novel decision naming the closest paper", r2)
	}
	before := e.scripted.calls.Load()
	again := mustExecute[activities.NoveltyResult](t, e, e.acts.NoveltyRound, in)
	if !again.Decided || e.scripted.calls.Load() != before || again.Usage.Calls != 0 {
		t.Errorf("a retried round = %+v after %d more calls, want the record", again, e.scripted.calls.Load()-before)
	}
	rec := readFile(t, filepath.Join(e.root, "campaigns", "grokking", "nov", activities.NoveltyFile(idea.Name)))
	for _, w := range []string{`"query": "How Weight Decay Strength Shifts the Onset of Grokking"`, `"novel": true`, `"engine": "semanticscholar"`, "Omnigrok"} {
		if !strings.Contains(rec, w) {
			t.Errorf("novelty.json lacks %s", w)
		}
	}
	if n := lit.Requests()[scholar.SemanticScholar]; n != 1 {
		t.Errorf("%d searches, want 1", n)
	}
}

// TestCitationRounds: the scripted writer asks for a missing citation, the
// (fake) literature finds it, its BibTeX enters references.bib, a cite
// turn places it, and the next round ends the search; the PDF check
// accepts the entry and refuses one nobody searched for.
func TestCitationRounds(t *testing.T) {
	srv := httptest.NewServer(scholar.FakeHandler())
	defer srv.Close()
	e := newEnv(t)
	lit, err := scholar.New(scholar.Config{S2URL: srv.URL, OpenAlexURL: srv.URL, ArXivURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	e.acts.Literature = lit
	ref, dir := resultsPaper(t, e, "cite", llm.ScriptedModel)
	for _, sec := range activities.Sections {
		mustExecute[activities.SectionResult](t, e, e.acts.WriteSection, activities.SectionInput{Paper: ref, Section: sec.Name})
	}
	in := activities.CitationInput{Paper: ref, Round: 1, MaxRounds: 20}
	r1 := mustExecute[activities.CitationResult](t, e, e.acts.CitationRound, in)
	if r1.Done || len(r1.Added) != 1 || r1.Added[0].Key != "varma2023explaining" {
		t.Fatalf("round 1 = %+v, want the circuit-efficiency paper added", r1)
	}
	tex := readFile(t, filepath.Join(dir, "latex", "template.tex"))
	if !strings.Contains(tex, "@misc{varma2023explaining,") && !strings.Contains(tex, "@article{varma2023explaining,") {
		t.Fatalf("references.bib lacks the entry")
	}
	turn := activities.CoderTurnInput{Paper: ref, Conversation: activities.ConvWriter, TurnID: "cite-round1", Kind: activities.KindCite, Attempt: 1,
		MaxAttempts: 20, Reason: "- varma2023explaining: Explaining Grokking Through Circuit Efficiency (2023). in the Related Work"}
	ct := mustExecute[activities.CoderTurnResult](t, e, e.acts.CoderTurn, turn)
	if !ct.Applied || !strings.Contains(readFile(t, filepath.Join(dir, "latex", "template.tex")), `\citet{varma2023explaining}`) {
		t.Fatalf("cite turn = %+v, want the key cited", ct)
	}
	in.Round = 2
	if r2 := mustExecute[activities.CitationResult](t, e, e.acts.CitationRound, in); !r2.Done {
		t.Fatalf("round 2 = %+v, want done", r2)
	}
	build := mustExecute[activities.BuildResult](t, e, e.acts.BuildPDF, activities.BuildInput{Paper: ref, Round: 1})
	problems := readText(filepath.Join(dir, "latex", "problems.txt"))
	if build.PDF == "" || strings.Contains(problems, "varma2023explaining") {
		t.Errorf("build = %+v\n%s", build, problems)
	}
	// An entry the writer made up is sent back.
	writeFile(t, filepath.Join(dir, "latex", "template.tex"), strings.Replace(readFile(t, filepath.Join(dir, "latex", "template.tex")),
		"@misc{varma2023explaining,", "@misc{made2024up,\n  title = {Made Up},\n  year = {2024}\n}\n@misc{varma2023explaining,", 1))
	mustExecute[activities.BuildResult](t, e, e.acts.BuildPDF, activities.BuildInput{Paper: ref, Round: 2})
	if p := readText(filepath.Join(dir, "latex", "problems.txt")); !strings.Contains(p, `the references.bib entry "made2024up" came neither from the template nor from a literature search`) {
		t.Errorf("problems:\n%s", p)
	}
}

// TestLiteratureRetryDelay: a search failure waits as the engine asked,
// or backs off, always with jitter; a refusal is final.
func TestLiteratureRetryDelay(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "20")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv.Close()
	e := newEnv(t)
	lit, _ := scholar.New(scholar.Config{S2URL: srv.URL, NoFallback: true})
	e.acts.Literature = lit
	idea := paper.Idea{Name: "wd", Title: "Weight decay", Experiment: "x", Interestingness: 5, Feasibility: 5, Novelty: 5}
	_, err := execute[activities.NoveltyResult](t, e, e.acts.NoveltyRound, activities.NoveltyInput{CampaignKey: "grokking/rl", Template: "grokking",
		Model: llm.ScriptedModel, Idea: idea, Round: 1, MaxRounds: 10})
	var app *temporal.ApplicationError
	if !errors.As(err, &app) || app.NonRetryable() || app.NextRetryDelay() < 20*time.Second || app.NextRetryDelay() > 30*time.Second {
		t.Fatalf("err = %v (delay %v), want a retry after 20-30 s", err, app.NextRetryDelay())
	}
}
