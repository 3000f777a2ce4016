package activities

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/aiscientist/aiscientist/internal/latex"
	"github.com/aiscientist/aiscientist/internal/llm"
	"github.com/aiscientist/aiscientist/internal/scholar"
	"github.com/aiscientist/aiscientist/internal/store"
)

// KindCite is the writer's turn that places \cite commands for papers a
// citation round added.
const KindCite = "cite"

// CitationsFile records the citation search of a paper: the rounds, the
// entries added and the keys the template's bibliography had, which
// together are every key the paper may cite.
const CitationsFile = "latex/citations.json"

// CitationInput is one round of the citation search.
type CitationInput struct {
	Paper     PaperRef
	Round     int // from 1
	MaxRounds int
	Engine    string // first engine tried
	Budgeted
}

// CitedPaper is an entry a round added to the bibliography.
type CitedPaper struct {
	Key   string `json:"key"`
	Title string `json:"title"`
	Year  int    `json:"year,omitempty"`
	// Where is the model's word on what the paper supports in the text.
	Where string `json:"where,omitempty"`
}

// CitationResult is a round's outcome.
type CitationResult struct {
	Done    bool         // the model wants no more citations
	Query   string       `json:",omitempty"`
	Found   int          `json:",omitempty"`
	Engine  string       `json:",omitempty"`
	Added   []CitedPaper `json:",omitempty"`
	Warning string       `json:",omitempty"`
	Metered
}

type citationRecord struct {
	TemplateKeys []string               `json:"template_keys"`
	Added        []CitedPaper           `json:"added"`
	Rounds       []noveltyRound         `json:"rounds"`
	Messages     []llm.Message          `json:"messages"`
	Results      map[int]CitationResult `json:"results"`
}

// CitationRound asks the writer for the most important missing citation,
// searches for it, lets the writer choose among the results and adds the
// chosen papers' BibTeX to the paper's references.bib block (de-duplicated
// by key and title). A round done before returns its record.
func (a *Activities) CitationRound(ctx context.Context, in CitationInput) (_ CitationResult, err error) {
	if a.Literature == nil {
		return CitationResult{}, badInput("this worker has no literature search configured")
	}
	s, err := a.paperScope(ctx, in.Paper, false)
	if err != nil {
		return CitationResult{}, err
	}
	defer s.close(ctx, &err)
	ctx = s.meter(ctx, in.Budget)
	dir := s.dir
	recPath := filepath.Join(dir, CitationsFile)
	rec := citationRecord{Results: map[int]CitationResult{}}
	if err := readJSON(recPath, &rec); err != nil && !isNotExist(err) {
		return CitationResult{}, fmt.Errorf("read %s: %w", CitationsFile, err)
	}
	if rec.Results == nil {
		rec.Results = map[int]CitationResult{}
	}
	if done, ok := rec.Results[in.Round]; ok {
		done.Usage = llm.Usage{}
		return done, nil
	}
	texPath := filepath.Join(dir, "latex", "template.tex")
	tex := readText(dir, filepath.Join("latex", "template.tex"))
	if tex == "" {
		return CitationResult{}, missingInput("latex/template.tex is missing from the workspace")
	}
	if rec.TemplateKeys == nil {
		rec.TemplateKeys = latex.BibKeys(readText(dir, filepath.Join("latex", "skeleton.tex")))
	}
	prompt := fmt.Sprintf(citationRoundPrompt, in.Round, in.MaxRounds, bibList(tex))
	if len(rec.Messages) == 0 {
		prompt = fmt.Sprintf(citationFirstPrompt, documentBody(tex)) + "\n\n" + prompt
	}
	if in.Round == in.MaxRounds {
		prompt += "\n\nThis is the last round."
	}
	req := llm.Request{Model: in.Paper.Model, System: writerSystem, Temperature: writerTemperature,
		Messages: append(append([]llm.Message(nil), rec.Messages...), llm.Message{Role: "user", Content: prompt})}
	var ask citationAsk
	_, msgs, err := a.ask(ctx, req, fmt.Sprintf("citation round %d", in.Round),
		func(reply string) (err error) { ask, err = readCitationAsk(reply); return err },
		func(err error) string { return fmt.Sprintf(citationBadJSONPrompt, err) })
	if err != nil {
		return CitationResult{}, err
	}
	conv := append(append([]llm.Message(nil), req.Messages...), msgs[len(msgs)-1])
	res := CitationResult{}
	if ask.Done {
		res.Done = true
		return a.keepCitations(recPath, rec, conv, in.Round, res, s)
	}
	found, err := a.Literature.SearchFrom(ctx, in.Engine, ask.Query, 10)
	if err != nil {
		return CitationResult{}, literatureError(ctx, err)
	}
	res.Query, res.Found, res.Engine = ask.Query, len(found.Papers), found.Engine
	if len(found.Skipped) > 0 {
		res.Warning = fmt.Sprintf("literature search fell back to %s: %s", found.Engine, strings.Join(found.Skipped, "; "))
	}
	rec.Rounds = append(rec.Rounds, noveltyRound{Round: in.Round, Query: ask.Query, Engine: found.Engine, Skipped: found.Skipped, Papers: found.Papers})
	if len(found.Papers) == 0 {
		conv = append(conv, llm.Message{Role: "user", Content: fmt.Sprintf("The search for %q found nothing.", ask.Query)}, llm.Message{Role: "assistant", Content: "Noted."})
		return a.keepCitations(recPath, rec, conv, in.Round, res, s)
	}
	req.Messages = append(conv, llm.Message{Role: "user", Content: fmt.Sprintf(citationSelectPrompt, ask.Description, papersForPrompt(rec.Rounds[len(rec.Rounds)-1]))})
	var sel citationSelection
	_, msgs, err = a.ask(ctx, req, fmt.Sprintf("citation round %d selection", in.Round),
		func(reply string) (err error) { sel, err = readCitationSelection(reply, len(found.Papers)); return err },
		func(err error) string { return fmt.Sprintf(citationBadSelectionPrompt, err) })
	if err != nil {
		return CitationResult{}, err
	}
	conv = append(append([]llm.Message(nil), req.Messages...), msgs[len(msgs)-1])
	titles := latex.BibTitles(tex)
	var entries []string
	for _, i := range sel.Indices {
		p := found.Papers[i]
		if titles[latex.NormTitle(p.Title)] || p.DOI != "" && strings.Contains(strings.ToLower(tex), strings.ToLower(p.DOI)) {
			continue // the bibliography has it already, under its own key
		}
		titles[latex.NormTitle(p.Title)] = true
		entries = append(entries, p.BibTeX)
		res.Added = append(res.Added, CitedPaper{Key: p.Key, Title: p.Title, Year: p.Year, Where: sel.Description})
	}
	if len(entries) > 0 {
		updated, keys, err := latex.AddBibEntries(tex, entries)
		if err != nil {
			return CitationResult{}, missingInput("add citations: %v", err)
		}
		kept := res.Added[:0]
		for _, c := range res.Added {
			for _, k := range keys {
				if k == c.Key {
					kept = append(kept, c)
				}
			}
		}
		res.Added = kept
		if err := store.WriteFile(texPath, []byte(updated)); err != nil {
			return CitationResult{}, err
		}
		rec.Added = append(rec.Added, res.Added...)
	}
	return a.keepCitations(recPath, rec, conv, in.Round, res, s)
}

func (a *Activities) keepCitations(path string, rec citationRecord, conv []llm.Message, round int, res CitationResult, s *scope) (CitationResult, error) {
	rec.Messages = conv
	res.Usage = s.usage()
	rec.Results[round] = res
	if err := writeJSON(path, rec); err != nil {
		return CitationResult{}, fmt.Errorf("store %s: %w", CitationsFile, err)
	}
	return res, nil
}

// CitableKeys is every key a paper may cite: its template's and those its
// citation search added. Nil when the paper has no citation record.
func CitableKeys(dir string) map[string]bool {
	var rec citationRecord
	if readJSON(filepath.Join(dir, CitationsFile), &rec) != nil {
		return nil
	}
	keys := map[string]bool{}
	for _, k := range rec.TemplateKeys {
		keys[k] = true
	}
	for _, c := range rec.Added {
		keys[c.Key] = true
	}
	return keys
}

// bibList shows the bibliography's entries to the writer.
func bibList(tex string) string {
	keys := latex.BibKeys(tex)
	sort.Strings(keys)
	return strings.Join(keys, ", ")
}

// documentBody is the paper from \begin{document} on.
func documentBody(tex string) string {
	if i := strings.Index(tex, `\begin{document}`); i >= 0 {
		return tex[i:]
	}
	return tex
}

type citationAsk struct {
	Done               bool
	Query, Description string
}

// readCitationAsk reads a round's request: {"Description", "Query"}, or
// that no more citations are needed ({"Done": true}, or the words).
func readCitationAsk(reply string) (citationAsk, error) {
	if strings.Contains(strings.ToLower(reply), "no more citations needed") {
		return citationAsk{Done: true}, nil
	}
	f, err := responseFields(reply)
	if err != nil {
		return citationAsk{}, err
	}
	if d, ok := f["done"].(bool); ok && d {
		return citationAsk{Done: true}, nil
	}
	q, _ := f["query"].(string)
	if strings.TrimSpace(q) == "" {
		return citationAsk{}, errors.New(`the JSON needs "Query" (a literature search for the missing citation), or {"Done": true} when none is missing`)
	}
	desc, _ := f["description"].(string)
	return citationAsk{Query: scholar.NormalizeQuery(q), Description: strings.TrimSpace(desc)}, nil
}

type citationSelection struct {
	Indices     []int
	Description string
}

// readCitationSelection reads the choice among n results: "Selected" as a
// list of indices, or the reference's string "[0, 2]", or none.
func readCitationSelection(reply string, n int) (citationSelection, error) {
	f, err := responseFields(reply)
	if err != nil {
		return citationSelection{}, err
	}
	var sel citationSelection
	sel.Description, _ = f["description"].(string)
	var items []any
	switch v := f["selected"].(type) {
	case []any:
		items = v
	case string: // the reference's "[0, 2]"; "none" or "" for none
		if w := strings.ToLower(strings.TrimSpace(v)); w == "none" || w == "" || w == "[]" {
			break
		}
		for _, p := range strings.FieldsFunc(v, func(r rune) bool { return r == '[' || r == ']' || r == ',' || r == ' ' }) {
			items = append(items, p)
		}
	case float64:
		items = []any{v}
	case nil:
		return citationSelection{}, errors.New(`the JSON needs "Selected": the numbers of the papers to cite, e.g. [0, 2], or [] for none`)
	}
	seen := map[int]bool{}
	for _, it := range items {
		var i int
		switch x := it.(type) {
		case float64:
			i = int(x)
		case string:
			v, err := strconv.Atoi(strings.TrimSpace(x))
			if err != nil {
				return citationSelection{}, fmt.Errorf(`"Selected" holds %q, not a paper's number`, x)
			}
			i = v
		default:
			return citationSelection{}, fmt.Errorf(`"Selected" holds %v, not a paper's number`, it)
		}
		if i < 0 || i >= n {
			return citationSelection{}, fmt.Errorf(`"Selected" holds %d, but the papers are numbered 0 to %d`, i, n-1)
		}
		if !seen[i] {
			seen[i] = true
			sel.Indices = append(sel.Indices, i)
		}
	}
	return sel, nil
}
