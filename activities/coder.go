package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"go.temporal.io/sdk/activity"

	"github.com/aiscientist/aiscientist/internal/editblock"
	"github.com/aiscientist/aiscientist/internal/llm"
	"github.com/aiscientist/aiscientist/internal/paper"
)

// Coder turn kinds.
const (
	KindImplement  = "implement"   // first prompt: implement run 1
	KindNext       = "next"        // run Run succeeded: record it, implement the next
	KindFix        = "fix"         // run Run failed: fix it
	KindEditFailed = "edit_failed" // edits for run Run did not apply
	KindPlot       = "plot"
	KindPlotFix    = "plot_fix"
	KindNotes      = "notes"
	KindLatexFix   = "latex_fix"
	KindNumbers    = "numbers" // numbers that match no run go back to the writer
	KindImprove    = "improve" // the review goes back to the writer
)

// EditsPaper: the turn edits latex/template.tex (the writer's turns).
func EditsPaper(kind string) bool {
	switch kind {
	case KindLatexFix, KindCite, KindNumbers, KindImprove:
		return true
	}
	return false
}

// mayDecline: "NO CHANGES" is an answer (the problems need no edit).
func mayDecline(kind string) bool { return kind == KindLatexFix || kind == KindNumbers }

// Conversations kept in the workspace.
const (
	ConvCoder  = "coder"
	ConvWriter = "writer"
)

// MaxEditReflections is how often one turn may send failed edits back.
const MaxEditReflections = 3

// CoderTurnInput is one request to the coder.
type CoderTurnInput struct {
	Paper        PaperRef
	Conversation string
	TurnID       string // unique within the conversation; makes retries idempotent
	Kind         string
	Run          int // the run concerned
	Attempt      int // attempt of that run (or plot/LaTeX round)
	MaxAttempts  int
	MaxRuns      int
	Reason       string // short failure reason from the workflow
	AllowDone    bool   // ALL_COMPLETED is acceptable (a run has succeeded)
	Budgeted
}

// CoderTurnResult says what happened to the files.
type CoderTurnResult struct {
	Applied   bool
	Done      bool // the model wrote ALL_COMPLETED
	NoChanges bool // the model said no edit was needed (LaTeX fixes)
	Feedback  string
	Changed   []string
	// BlocksApplied counts the edit blocks applied over the whole turn;
	// BlocksFailed those of the last reply that did not apply.
	BlocksApplied, BlocksFailed int
	// Plan is the model's own one-line account of the turn (the first line
	// of its reasoning), shown as the next run's summary and recorded with
	// the run's outcome.
	Plan string `json:",omitempty"`
	Metered
}

type conversation struct {
	Messages []llm.Message              `json:"messages"`
	Turns    map[string]CoderTurnResult `json:"turns"`
}

const filesMarker = "\n\nCurrent files:\n"
const fileMarker = "\n\nCurrent file:\n"

// CoderTurn asks the model for SEARCH/REPLACE edits and applies them,
// sending failed blocks back up to MaxEditReflections times. A failed edit is
// reported (Applied=false), never hidden: the workflow counts the attempt.
func (a *Activities) CoderTurn(ctx context.Context, in CoderTurnInput) (res CoderTurnResult, err error) {
	s, err := a.paperScope(ctx, in.Paper, false)
	if err != nil {
		return CoderTurnResult{}, err
	}
	defer s.close(ctx, &err)
	ctx, dir := s.meter(ctx, in.Budget), s.dir
	convPath := filepath.Join(dir, "chats", in.Conversation+".json")
	conv := conversation{Turns: map[string]CoderTurnResult{}}
	if err := readJSON(convPath, &conv); err != nil && !isNotExist(err) {
		return CoderTurnResult{}, fmt.Errorf("read conversation: %w", err)
	}
	if conv.Turns == nil {
		conv.Turns = map[string]CoderTurnResult{}
	}
	// A turn is done once per workflow run: a retried activity finds its
	// result, but after starter resume (a reset: a new run) the stage's
	// turns are asked for afresh. Keys without a run are from older builds.
	key := in.TurnID + "@" + activity.GetInfo(ctx).WorkflowExecution.RunID
	if done, ok := conv.Turns[key]; ok {
		return done, nil
	}
	if done, ok := conv.Turns[in.TurnID]; ok {
		return done, nil
	}
	allowed := []string{"experiment.py", "plot.py", "notes.txt"}
	if EditsPaper(in.Kind) {
		allowed = []string{"latex/template.tex"}
	}
	prompt, err := a.coderPrompt(dir, in, allowed)
	if err != nil {
		return CoderTurnResult{}, err
	}
	system := fmt.Sprintf(coderSystem, strings.Join(allowed, ", "))
	msg := prompt
	for reflection := 0; reflection <= MaxEditReflections; reflection++ {
		activity.RecordHeartbeat(ctx, reflection)
		// Earlier turns are kept without their file dumps: the current
		// files are always attached to the newest message only.
		msgs := append(append([]llm.Message(nil), conv.Messages...), llm.Message{Role: "user", Content: withFiles(msg, dir, allowed, in.Kind)})
		resp, err := a.chatWithin(ctx, llm.Request{Model: in.Paper.Model, System: system, Messages: msgs})
		if err != nil {
			return CoderTurnResult{}, err
		}
		conv.Messages = append(conv.Messages, llm.Message{Role: "user", Content: stripFiles(msg)}, llm.Message{Role: "assistant", Content: resp.Content})
		res.Plan = planOf(resp.Content)

		blocks, perr := editblock.Parse(resp.Content)
		// As the reference: the word anywhere ("ALL_COMPLETED.", "All done, ALL_COMPLETED").
		done := strings.Contains(resp.Content, "ALL_COMPLETED") && !EditsPaper(in.Kind) && in.Kind != KindPlot && in.Kind != KindPlotFix && in.Kind != KindNotes
		if perr != nil {
			res.Feedback = perr.Error()
			msg = fmt.Sprintf("Your SEARCH/REPLACE blocks are malformed, nothing was applied: %v\nResend all of them in the required format.", perr)
			continue
		}
		if len(blocks) == 0 {
			switch {
			case done && in.AllowDone:
				res.Done, res.Applied = true, true
			case done:
				res.Feedback = "ALL_COMPLETED before any successful run"
				msg = fmt.Sprintf(tooEarlyPrompt, max(in.Run, 1))
				continue
			case mayDecline(in.Kind) && strings.Contains(resp.Content, "NO CHANGES"):
				res.NoChanges = true
			default:
				res.Feedback = "no SEARCH/REPLACE blocks in the reply"
				msg = noBlocksPrompt
				continue
			}
			break
		}
		applied, err := editblock.Apply(dir, blocks, allowed)
		if err != nil {
			return CoderTurnResult{}, fmt.Errorf("apply edits: %w", err)
		}
		res.Changed = appendUnique(res.Changed, applied.Changed...)
		res.BlocksApplied += len(applied.Applied)
		res.BlocksFailed = len(applied.Failed)
		if len(applied.Failed) == 0 {
			problems, err := a.checkPython(ctx, in.Paper.Template, dir, applied.Changed)
			if err != nil {
				return CoderTurnResult{}, err
			}
			if problems != "" {
				// Applied, but unrunnable: the turn is not done until it compiles.
				res.Feedback = "edited Python does not compile: " + firstLineOf(problems)
				msg = fmt.Sprintf(syntaxErrorPrompt, problems)
				continue
			}
			res.Applied, res.Feedback = true, ""
			res.Done = done && in.AllowDone
			break
		}
		res.Feedback = fmt.Sprintf("%d of %d edit blocks failed to apply", len(applied.Failed), len(blocks))
		msg = applied.Feedback()
	}
	res.Usage = s.usage()
	conv.Turns[key] = res
	if err := writeJSON(convPath, conv); err != nil {
		return CoderTurnResult{}, fmt.Errorf("save conversation: %w", err)
	}
	return res, nil
}

// coderPrompt builds the first message of a turn from the workspace.
func (a *Activities) coderPrompt(dir string, in CoderTurnInput, allowed []string) (string, error) {
	switch in.Kind {
	case KindImplement:
		var idea paper.Idea
		if err := readJSON(filepath.Join(dir, "idea.json"), &idea); err != nil {
			return "", fmt.Errorf("read idea.json: %w", err)
		}
		base, err := runSummary(dir, 0)
		if err != nil {
			return "", missingInput("baseline run_0/final_info.json: %v", err)
		}
		return fmt.Sprintf(implementPrompt, idea.Title, idea.Experiment, in.MaxRuns, base, ""), nil
	case KindNext:
		sum, err := runSummary(dir, in.Run)
		if err != nil {
			return "", missingInput("run_%d/final_info.json: %v", in.Run, err)
		}
		return fmt.Sprintf(runCompletedPrompt, in.Run, in.Run, sum, in.Run, in.Run+1, ""), nil
	case KindFix:
		tail := readText(dir, filepath.Join("logs", fmt.Sprintf("run_%d_attempt_%d.stderr", in.Run, in.Attempt)))
		return fmt.Sprintf(runFailedPrompt, in.Run, in.Run, in.Attempt, in.MaxAttempts, in.Reason, tailOf(tail), in.Run, ""), nil
	case KindEditFailed:
		return fmt.Sprintf(editNotAppliedPrompt, in.Run, in.Reason, in.Run, ""), nil
	case KindPlot:
		return fmt.Sprintf(plotPrompt, strings.Join(completedRuns(dir), ", "), ""), nil
	case KindPlotFix:
		tail := readText(dir, filepath.Join("logs", fmt.Sprintf("plot_attempt_%d.stderr", in.Attempt)))
		return fmt.Sprintf(plotFailedPrompt, in.Attempt, in.MaxAttempts, in.Reason, tailOf(tail), ""), nil
	case KindNotes:
		return fmt.Sprintf(notesPrompt, strings.Join(figures(dir), ", "), ""), nil
	case KindCite:
		return fmt.Sprintf(citePrompt, in.Reason, ""), nil
	case KindNumbers:
		fb := readText(dir, filepath.Join("writeup", numbersFeedback))
		if fb == "" {
			return "", missingInput("writeup/%s is missing: run the numbers check first", numbersFeedback)
		}
		return fmt.Sprintf(numbersFixPrompt, in.Attempt, in.MaxAttempts, fb, ""), nil
	case KindImprove:
		review := readText(dir, "review.txt")
		if review == "" {
			return "", missingInput("review.txt is missing: the paper must be reviewed before it is improved")
		}
		return fmt.Sprintf(improvePrompt, strings.TrimSpace(review), ""), nil
	case KindLatexFix:
		problems := readText(dir, filepath.Join("latex", "problems.txt"))
		return fmt.Sprintf(latexFixPrompt, in.Attempt, in.MaxAttempts, problems, strings.Join(figures(dir), ", "), ""), nil
	}
	return "", badInput("unknown coder turn kind %q", in.Kind)
}

func missingInput(format string, args ...any) error {
	return nonRetryable(ErrTypeMissingInput, fmt.Sprintf(format, args...))
}

// withFiles appends the current contents of the editable files.
func withFiles(msg, dir string, allowed []string, kind string) string {
	var b strings.Builder
	b.WriteString(strings.TrimRight(stripFiles(msg), "\n"))
	if EditsPaper(kind) {
		b.WriteString(fileMarker)
	} else {
		b.WriteString(filesMarker)
	}
	for _, f := range allowed {
		content := readText(dir, f)
		fence := "```"
		for strings.Contains(content, fence) {
			fence += "`"
		}
		fmt.Fprintf(&b, "%s\n%s%s\n%s\n%s\n\n", f, fence, langOf(f), strings.TrimRight(content, "\n"), fence)
	}
	return b.String()
}

func stripFiles(msg string) string {
	for _, m := range []string{filesMarker, fileMarker} {
		if i := strings.Index(msg, m); i >= 0 {
			msg = msg[:i]
		}
	}
	return strings.TrimRight(msg, "\n")
}

func langOf(f string) string {
	switch filepath.Ext(f) {
	case ".py":
		return "python"
	case ".tex":
		return "latex"
	}
	return "text"
}

func tailOf(s string) string {
	if len(s) > 1500 {
		s = s[len(s)-1500:]
	}
	return strings.TrimSpace(s)
}

func runSummary(dir string, run int) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("run_%d", run), "final_info.json"))
	if err != nil {
		return "", err
	}
	fi, err := ReadFinalInfo(b)
	if err != nil {
		return "", err
	}
	return fi.Summary(), nil
}

var runDir = regexp.MustCompile(`^run_(\d+)$`)

// completedRuns lists run folders holding final_info.json, in run order.
func completedRuns(dir string) []string {
	entries, _ := os.ReadDir(dir)
	type r struct {
		name string
		n    int
	}
	var runs []r
	for _, e := range entries {
		m := runDir.FindStringSubmatch(e.Name())
		if m == nil || !e.IsDir() {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, e.Name(), "final_info.json")); err == nil {
			var n int
			fmt.Sscan(m[1], &n)
			runs = append(runs, r{e.Name(), n})
		}
	}
	sort.Slice(runs, func(i, j int) bool { return runs[i].n < runs[j].n })
	out := make([]string, len(runs))
	for i, x := range runs {
		out[i] = x.name
	}
	return out
}

// figures lists the PNG files at the workspace root.
func figures(dir string) []string {
	m, _ := filepath.Glob(filepath.Join(dir, "*.png"))
	out := make([]string, len(m))
	for i, p := range m {
		out[i] = filepath.Base(p)
	}
	sort.Strings(out)
	return out
}

// allResults gathers every completed run's results, as read (nested
// metrics flattened, diverged and missing ones named), as one JSON document.
func allResults(dir string) string {
	all := map[string]paper.FinalInfo{}
	for _, r := range completedRuns(dir) {
		if b, err := os.ReadFile(filepath.Join(dir, r, "final_info.json")); err == nil {
			if fi, err := ReadFinalInfo(b); err == nil {
				all[r] = fi
			}
		}
	}
	b, _ := json.MarshalIndent(all, "", "  ")
	return string(b)
}

func appendUnique(s []string, v ...string) []string {
	for _, x := range v {
		if !slices.Contains(s, x) {
			s = append(s, x)
		}
	}
	return s
}

// planOf is the first line of prose in a reply (a leading "THOUGHT:" label
// dropped), cut to 100 characters.
func planOf(reply string) string {
	for _, line := range strings.Split(reply, "\n") {
		line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "THOUGHT:"))
		if line == "" || strings.HasPrefix(line, "```") || strings.HasPrefix(line, "<<<<<<<") {
			continue
		}
		if r := []rune(line); len(r) > 100 {
			line = string(r[:99]) + "…"
		}
		return line
	}
	return ""
}
