package activities

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/aiscientist/aiscientist/internal/llm"
	"github.com/aiscientist/aiscientist/internal/paper"
	"github.com/aiscientist/aiscientist/internal/store"
	"github.com/aiscientist/aiscientist/internal/template"
)

// IdeaInput asks for idea number Index of a campaign.
type IdeaInput struct {
	CampaignKey string
	Template    string
	Model       string
	Index       int
	// Reflections is the number of rounds, the first included (reference: 3).
	Reflections int
	// FromSeeds takes the template's seed idea Index instead of asking the model.
	FromSeeds bool
	Budgeted
}

// IdeaResult is the idea (small: it travels in history) and its cost.
type IdeaResult struct {
	Idea paper.Idea
	Metered
	// Duplicate is set when the idea repeats a known one (the same Name or
	// a near-identical title): DuplicateOf names it.
	Duplicate   bool
	DuplicateOf string `json:",omitempty"`
	// Exhausted is set when FromSeeds asks past the last seed idea.
	Exhausted bool
}

const ideaTemperature = 0.75

// GenerateIdea produces one idea with self-reflection and stores it as
// ideas/<index>.json in the campaign folder and in the template's idea store
// (<artifacts>/ideas/<template>/), which accumulates across campaigns. It is
// idempotent: a stored idea is returned without asking the model again, and
// no idea is ever overwritten (the reference system's idea store is
// rewritten wholesale). With FromSeeds it takes the Index-th stored idea:
// the template's seeds, then everything earlier campaigns generated.
func (a *Activities) GenerateIdea(ctx context.Context, in IdeaInput) (_ IdeaResult, err error) {
	s, err := a.campaignScope(ctx, in.CampaignKey)
	if err != nil {
		return IdeaResult{}, err
	}
	defer s.close(ctx, &err)
	ls, err := a.ideaStoreScope(ctx, in.Template)
	if err != nil {
		return IdeaResult{}, err
	}
	defer ls.close(ctx, &err)
	ctx, dir, lib := s.meter(ctx, in.Budget), s.dir, ls.dir
	path := filepath.Join(dir, "ideas", fmt.Sprintf("%03d.json", in.Index))
	libPath := filepath.Join(lib, fmt.Sprintf("%s_%03d.json", filepath.Base(in.CampaignKey), in.Index))
	var stored IdeaResult
	if err := readJSON(path, &stored); err == nil {
		return stored, keepIdea(libPath, stored, in.FromSeeds)
	}
	t, err := a.template(in.Template)
	if err != nil {
		return IdeaResult{}, err
	}
	previous, err := loadIdeas(dir)
	if err != nil {
		return IdeaResult{}, err
	}
	seeds, err := t.SeedIdeas()
	if err != nil {
		return IdeaResult{}, badInput("%v", err)
	}
	library, err := loadLibrary(lib)
	if err != nil {
		return IdeaResult{}, err
	}
	// Every idea known for this template, seeds first, each once.
	var known []paper.Idea
	for _, i := range append(append(append([]paper.Idea(nil), seeds...), library...), previous...) {
		if !slices.ContainsFunc(known, func(k paper.Idea) bool { return paper.SameIdea(k, i) }) {
			known = append(known, i)
		}
	}
	var res IdeaResult
	if in.FromSeeds {
		stock := append(append([]paper.Idea(nil), seeds...), library...)
		if in.Index >= len(stock) {
			return IdeaResult{Exhausted: true}, nil
		}
		res.Idea = stock[in.Index]
		res.Idea.Normalize()
		if err := res.Idea.Validate(); err != nil {
			return IdeaResult{}, badInput("template %s: stored idea %d (%s): %v", t.Name, in.Index, res.Idea.Name, err)
		}
		// Running stored ideas repeats them on purpose; only a repeat
		// within this campaign is a duplicate.
		known = previous
	} else {
		if res, err = a.askIdea(ctx, in, t, known, filepath.Join(dir, "ideas", fmt.Sprintf("%03d_chat.md", in.Index))); err != nil {
			return IdeaResult{}, err
		}
		res.Usage = s.usage()
	}
	for _, k := range known {
		if paper.SameIdea(k, res.Idea) {
			res.Duplicate = true
			res.DuplicateOf = k.Name
			break
		}
	}
	if err := writeJSON(path, res); err != nil {
		return IdeaResult{}, fmt.Errorf("store idea: %w", err)
	}
	all, err := loadIdeas(dir)
	if err != nil {
		return IdeaResult{}, err
	}
	if err := writeJSON(filepath.Join(dir, "ideas.json"), all); err != nil {
		return IdeaResult{}, fmt.Errorf("store ideas.json: %w", err)
	}
	return res, keepIdea(libPath, res, in.FromSeeds)
}

// keepIdea adds a newly generated idea to the template's idea store once.
func keepIdea(path string, r IdeaResult, fromStore bool) error {
	if fromStore || r.Duplicate || r.Exhausted || store.Exists(path) {
		return nil
	}
	if err := writeJSON(path, r.Idea); err != nil {
		return fmt.Errorf("add the idea to the template's idea store: %w", err)
	}
	return nil
}

// loadLibrary reads a template's idea store, oldest campaign first.
func loadLibrary(dir string) ([]paper.Idea, error) {
	ideas, err := readAllJSON[paper.Idea](dir)
	if err != nil {
		return nil, fmt.Errorf("idea store: %w", err)
	}
	return ideas, nil
}

// askIdea runs the reflection rounds, each one ask. The idea is dropped only
// when not even the first round gives a readable one; a later round that
// never parses keeps the idea of the round before.
// The whole conversation, failed tries included, is kept at chatPath;
// previous lists every idea already known for the template.
func (a *Activities) askIdea(ctx context.Context, in IdeaInput, t template.Template, previous []paper.Idea, chatPath string) (IdeaResult, error) {
	code := readText(t.Dir, "experiment.py")
	var prev strings.Builder
	for _, i := range previous {
		fmt.Fprintf(&prev, "- %s: %s\n", i.Name, i.Title)
	}
	if prev.Len() == 0 {
		prev.WriteString("(none yet)\n")
	}
	rounds := in.Reflections
	if rounds < 1 {
		rounds = 1
	}
	req := llm.Request{Model: in.Model, System: fmt.Sprintf(ideaSystem, t.Prompt.System), Temperature: ideaTemperature}
	msgs := []llm.Message{{Role: "user", Content: fmt.Sprintf(ideaFirstPrompt, t.Prompt.TaskDescription, code, prev.String(), rounds)}}
	fix := func(err error) string { return Correction(ReplyIdea, "", err) }
	chat := msgs
	defer func() { _ = store.WriteFile(chatPath, []byte(transcript(chat))) }()
	var res IdeaResult
	for round := 1; round <= rounds; round++ {
		if round > 1 {
			msgs = append(msgs, llm.Message{Role: "user", Content: fmt.Sprintf(ideaReflectPrompt, round, rounds)})
		}
		req.Messages = msgs
		var idea paper.Idea
		parse := func(reply string) (err error) {
			idea, err = ReadIdea(reply)
			return err
		}
		resp, turns, err := a.ask(ctx, req, fmt.Sprintf("idea %d round %d", in.Index, round), parse, fix)
		chat = turns
		if err != nil {
			if round > 1 && IsUnparsable(err) {
				// A reflection that cannot be read improves nothing: the
				// previous round's idea is still a good one.
				break
			}
			return IdeaResult{}, err
		}
		msgs, res.Idea = turns, idea
		if strings.Contains(resp.Content, "I am done") {
			break
		}
	}
	return res, nil
}

// loadIdeas reads the stored ideas in index order.
func loadIdeas(dir string) ([]paper.Idea, error) {
	results, err := readAllJSON[IdeaResult](filepath.Join(dir, "ideas"))
	var out []paper.Idea
	for _, r := range results {
		if !r.Exhausted {
			out = append(out, r.Idea)
		}
	}
	return out, err
}

// readAllJSON decodes every *.json file in dir, in name order.
func readAllJSON[T any](dir string) ([]T, error) {
	matches, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	sort.Strings(matches)
	out := make([]T, 0, len(matches))
	for _, m := range matches {
		var v T
		if err := readJSON(m, &v); err != nil {
			return nil, fmt.Errorf("read %s: %w", m, err)
		}
		out = append(out, v)
	}
	return out, nil
}
