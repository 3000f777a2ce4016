package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/aiscientist/aiscientist/internal/llm"
	"github.com/aiscientist/aiscientist/internal/paper"
	"github.com/aiscientist/aiscientist/internal/scholar"
)

// ErrTypeLiterature: the literature engines refused the search for good
// (a bad key, a query they will not take).
const ErrTypeLiterature = "LiteratureRefused"

// NoveltyInput is one round of an idea's novelty check: the model either
// asks a literature query (searched in the same activity) or decides.
type NoveltyInput struct {
	CampaignKey string
	Template    string
	Model       string
	Idea        paper.Idea
	Round       int // from 1
	MaxRounds   int
	Engine      string // first engine tried (default Semantic Scholar)
	Budgeted
}

// NoveltyResult is the round's outcome; the queries, papers seen and the
// decision are in the campaign folder's ideas/<name>/novelty.json.
type NoveltyResult struct {
	Decided bool
	Novel   bool
	Query   string `json:",omitempty"` // searched this round
	Found   int    `json:",omitempty"`
	Engine  string `json:",omitempty"` // answered the search
	// Closest are the titles (and years) of the papers the model named as
	// closest when it decided "not novel", for status.
	Closest []string `json:",omitempty"`
	// Warning: an engine was skipped (down, refused) and another answered.
	Warning string `json:",omitempty"`
	Metered
}

// NoveltyFile is an idea's novelty record in the campaign folder.
func NoveltyFile(idea string) string { return filepath.Join("ideas", idea, "novelty.json") }

type noveltyRecord struct {
	Idea     paper.Idea            `json:"idea"`
	Rounds   []noveltyRound        `json:"rounds"`
	Decision *noveltyDecision      `json:"decision,omitempty"`
	Messages []llm.Message         `json:"messages"`
	Results  map[int]NoveltyResult `json:"results"` // by round: a retried round returns it
}

type noveltyRound struct {
	Round   int             `json:"round"`
	Query   string          `json:"query"`
	Engine  string          `json:"engine,omitempty"`
	Skipped []string        `json:"skipped,omitempty"`
	Papers  []scholar.Paper `json:"papers"`
}

type noveltyDecision struct {
	Novel     bool     `json:"novel"`
	Reasoning string   `json:"reasoning,omitempty"`
	Closest   []string `json:"closest,omitempty"`
	Round     int      `json:"round"`
}

// NoveltyReply is what a round's reply holds: a query or a decision.
type NoveltyReply struct {
	Query     string
	Decided   bool
	Novel     bool
	Reasoning string
	Closest   []string
}

// ReadNoveltyReply reads a novelty round's reply: a JSON object with
// "Query" (a search) or "Decision" ("novel" or "not novel", any case and
// punctuation) with "Reasoning" (and optionally "Closest", the most
// similar papers).
func ReadNoveltyReply(reply string) (NoveltyReply, error) {
	f, err := responseFields(reply)
	if err != nil {
		return NoveltyReply{}, err
	}
	var r NoveltyReply
	if d, ok := f["decision"].(string); ok && strings.TrimSpace(d) != "" {
		w := strings.ToLower(strings.Trim(strings.TrimSpace(d), ".!*\"' "))
		switch {
		case strings.Contains(w, "not novel"), strings.Contains(w, "not_novel"), w == "no":
			r.Decided = true
		case strings.Contains(w, "novel"), w == "yes":
			r.Decided, r.Novel = true, true
		default:
			return NoveltyReply{}, fmt.Errorf(`"Decision" must be "novel" or "not novel", got %q`, d)
		}
		r.Reasoning, _ = f["reasoning"].(string)
		switch c := f["closest"].(type) {
		case string:
			r.Closest = []string{c}
		case []any:
			for _, x := range c {
				if s, ok := x.(string); ok && s != "" {
					r.Closest = append(r.Closest, s)
				}
			}
		}
		return r, nil
	}
	if q, ok := f["query"].(string); ok && strings.TrimSpace(q) != "" {
		r.Query = scholar.NormalizeQuery(q)
		return r, nil
	}
	return NoveltyReply{}, errors.New(`the JSON holds neither "Query" (a search) nor "Decision" ("novel" or "not novel")`)
}

// responseFields reads the JSON object after "RESPONSE:" (or anywhere in
// the reply), its field names in lower case.
func responseFields(reply string) (map[string]any, error) {
	js, err := llm.ExtractJSONObjectAfter(reply, "RESPONSE:")
	if err != nil {
		return nil, err
	}
	var raw map[string]any
	if err := json.Unmarshal([]byte(js), &raw); err != nil {
		return nil, err
	}
	f := make(map[string]any, len(raw))
	for k, v := range raw {
		f[strings.ToLower(strings.TrimSpace(k))] = v
	}
	return f, nil
}

// NoveltyRound asks the model for the next step of an idea's novelty check
// and, when it asks a query, searches the literature with it. A round done
// before (a retry) returns its recorded result; a model reply paid for by
// an earlier attempt is replayed free, and a search done before comes from
// the cache.
func (a *Activities) NoveltyRound(ctx context.Context, in NoveltyInput) (_ NoveltyResult, err error) {
	if a.Literature == nil {
		return NoveltyResult{}, badInput("this worker has no literature search configured")
	}
	s, err := a.campaignScope(ctx, in.CampaignKey)
	if err != nil {
		return NoveltyResult{}, err
	}
	defer s.close(ctx, &err)
	ctx = s.meter(ctx, in.Budget)
	path := filepath.Join(s.dir, NoveltyFile(in.Idea.Name))
	rec := noveltyRecord{Idea: in.Idea, Results: map[int]NoveltyResult{}}
	if err := readJSON(path, &rec); err != nil && !isNotExist(err) {
		return NoveltyResult{}, fmt.Errorf("read %s: %w", NoveltyFile(in.Idea.Name), err)
	}
	if rec.Results == nil {
		rec.Results = map[int]NoveltyResult{}
	}
	if done, ok := rec.Results[in.Round]; ok {
		done.Usage = llm.Usage{}
		return done, nil
	}
	t, err := a.template(in.Template)
	if err != nil {
		return NoveltyResult{}, err
	}
	last := "No literature search has been done yet."
	if n := len(rec.Rounds); n > 0 {
		last = papersForPrompt(rec.Rounds[n-1])
	}
	prompt := fmt.Sprintf(noveltyRoundPrompt, in.Round, in.MaxRounds, last)
	if in.Round == in.MaxRounds {
		prompt += "\n\nThis is the last round: decide now."
	}
	if len(rec.Messages) == 0 {
		js, _ := json.MarshalIndent(in.Idea, "", "  ")
		prompt = fmt.Sprintf(noveltyFirstPrompt, t.Prompt.TaskDescription, string(js)) + "\n\n" + prompt
	}
	req := llm.Request{Model: in.Model, System: noveltySystem, Messages: append(append([]llm.Message(nil), rec.Messages...), llm.Message{Role: "user", Content: prompt})}
	var reply NoveltyReply
	parse := func(text string) (err error) {
		reply, err = ReadNoveltyReply(text)
		return err
	}
	_, msgs, err := a.ask(ctx, req, fmt.Sprintf("novelty of %s, round %d", in.Idea.Name, in.Round), parse,
		func(err error) string { return fmt.Sprintf(noveltyBadJSONPrompt, err) })
	if err != nil {
		return NoveltyResult{}, err
	}
	res := NoveltyResult{}
	switch {
	case reply.Decided:
		res.Decided, res.Novel, res.Closest = true, reply.Novel, reply.Closest
		rec.Decision = &noveltyDecision{Novel: reply.Novel, Reasoning: reply.Reasoning, Closest: reply.Closest, Round: in.Round}
	case in.Round >= in.MaxRounds:
		// The reference's rule: no decision within the rounds is "not novel".
		res.Decided = true
		rec.Decision = &noveltyDecision{Reasoning: fmt.Sprintf("no decision after %d rounds", in.MaxRounds), Round: in.Round}
	default:
		found, err := a.Literature.SearchFrom(ctx, in.Engine, reply.Query, 10)
		if err != nil {
			return NoveltyResult{}, literatureError(ctx, err)
		}
		rec.Rounds = append(rec.Rounds, noveltyRound{Round: in.Round, Query: reply.Query, Engine: found.Engine, Skipped: found.Skipped, Papers: found.Papers})
		res.Query, res.Found, res.Engine = reply.Query, len(found.Papers), found.Engine
		if len(found.Skipped) > 0 {
			res.Warning = fmt.Sprintf("literature search fell back to %s: %s", found.Engine, strings.Join(found.Skipped, "; "))
		}
	}
	// The conversation goes on with the accepted reply; corrections are noise.
	rec.Messages = append(append([]llm.Message(nil), req.Messages...), msgs[len(msgs)-1])
	res.Usage = s.usage()
	stored := res
	rec.Results[in.Round] = stored
	if err := writeJSON(path, rec); err != nil {
		return NoveltyResult{}, fmt.Errorf("store %s: %w", NoveltyFile(in.Idea.Name), err)
	}
	return res, nil
}

// literatureError maps search failures onto Temporal's retries: a refusal
// is final; otherwise the next try waits as long as the engine asked, or
// an exponential backoff (5 s doubling per attempt, at most 5 min), with
// jitter so that papers stopped by the same 429 do not come back at once.
func literatureError(ctx context.Context, err error) error {
	if scholar.IsPermanent(err) {
		return temporal.NewNonRetryableApplicationError(err.Error(), ErrTypeLiterature, err)
	}
	delay := scholar.RetryAfter(err)
	if delay <= 0 {
		attempt := int32(1)
		if activity.IsActivity(ctx) {
			attempt = activity.GetInfo(ctx).Attempt
		}
		delay = min(5*time.Second<<min(attempt-1, 10), 5*time.Minute)
	}
	delay += time.Duration(rand.Int64N(int64(delay)/2 + 1))
	return temporal.NewApplicationErrorWithOptions(err.Error(), ErrTypeRateLimited, temporal.ApplicationErrorOptions{NextRetryDelay: delay, Cause: err})
}

// papersForPrompt lists a round's results as the model sees them.
func papersForPrompt(r noveltyRound) string {
	if len(r.Papers) == 0 {
		return fmt.Sprintf("Your query %q found no papers.", r.Query)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Your query %q found:\n", r.Query)
	for i, p := range r.Papers {
		fmt.Fprintf(&b, "%d: %s. %s. %s, %d. %d citations.\n", i, p.Title, strings.Join(p.Authors, ", "), orDash(p.Venue), p.Year, p.Citations)
		if p.Abstract != "" {
			fmt.Fprintf(&b, "   Abstract: %s\n", clip(p.Abstract, 800))
		}
	}
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
