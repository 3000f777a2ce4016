package workflows_test

import (
	"context"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/aiscientist/aiscientist/activities"
	"github.com/aiscientist/aiscientist/internal/llm"
	"github.com/aiscientist/aiscientist/internal/paper"
	"github.com/aiscientist/aiscientist/workflows"
)

// acts names the activities: method values on a nil pointer are enough for
// the test environment to resolve activity names ("CoderTurn", ...).
var acts *activities.Activities

// hostActs and runner name the experiment-host activities the same way.
var (
	hostActs *activities.Host
	runner   *activities.Runner
)

const (
	tmpl      = "nanoGPT"
	model     = "gpt-test"
	stamp     = "20250102_030405" // campaignStart: papers are named by their own start time
	folder    = stamp + "_alpha"
	paperKey  = tmpl + "/" + folder
	resultsTo = "/results"
	pdfPath   = "/ws/" + paperKey + "/alpha.pdf"
	offNote   = "off (not implemented yet)"

	maxFakeCalls = 50 // more coder turns or runs than any scenario needs
)

// Distinct usages per activity so token sums show which calls were counted.
var (
	coderUsage   = llm.Usage{PromptTokens: 1, CompletionTokens: 2, Calls: 1}
	sectionUsage = llm.Usage{PromptTokens: 100, CompletionTokens: 200, Calls: 1}
	reviewUsage  = llm.Usage{PromptTokens: 10000, CompletionTokens: 20000, Calls: 1}
)

var alphaRef = activities.PaperRef{Key: paperKey, Name: "alpha", Template: tmpl, Model: model}

// paperInput is a full paper that keeps the template's run_0, so call
// sequences start at run 1; the host baseline has its own cases.
func paperInput() workflows.PaperInput {
	return workflows.PaperInput{
		Paper:            alphaRef,
		Idea:             paper.Idea{Name: "alpha", Title: "Alpha Title", Experiment: "try alpha"},
		ResultsDir:       resultsTo,
		TemplateBaseline: true,
		SkipCitations:    true, // the citation rounds have tests of their own
	}
}

// paperFake scripts every activity of a paper and logs each call, in order,
// as one line naming the inputs that matter.
type paperFake struct {
	mu     sync.Mutex
	calls  []string
	coders []activities.CoderTurnInput
	runs   []activities.RunInput
	plots  []activities.PlotInput

	coderDelay time.Duration // workflow-clock time each CoderTurn takes

	prepare func(activities.PaperSetup) (string, error)
	coder   func(activities.CoderTurnInput) activities.CoderTurnResult
	run     func(activities.RunInput) activities.RunResult
	plot    func(activities.PlotInput) activities.RunResult
	section func(activities.SectionInput) (llm.Usage, error) // the usage of the section's result
	review  func(activities.ReviewInput) error               // nil: every review succeeds
	// member answers ReviewMember (nil: every member succeeds); meta sees
	// the meta-review's input; numbers answers CheckNumbers (nil: all match).
	member  func(activities.ReviewInput) (activities.MemberResult, error)
	meta    func(activities.MetaInput)
	numbers func(activities.NumbersInput) activities.NumbersResult
	// citation answers CitationRound (nil: done at once).
	citation func(activities.CitationInput) (activities.CitationResult, error)
	build    func(activities.BuildInput) activities.BuildResult
	// charge, when set, prices the model activities ("coder", "section",
	// "review") against the budget they were given, as the real ones do.
	charge func(what string, b llm.Budget) (llm.Usage, error)
	// reserve and device answer the experiment-host activities; queues
	// records the task queue of every run and plot.
	reserve func(activities.ReserveInput) (activities.HostInfo, error)
	device  func(activities.DeviceInput) (activities.DeviceGrant, error)
	queues  []string
	// runErr and plotErr, when set, may fail a run or a plot the way the
	// server would (nil: run).
	runErr  func(activities.RunInput) error
	plotErr func(activities.PlotInput) error
	// priorities records the priority key of every run and plot started
	// (a plot has none).
	priorities []int
}

func newPaperFake() *paperFake {
	return &paperFake{
		prepare: func(in activities.PaperSetup) (string, error) { return "/ws/" + in.Paper.Key, nil },
		coder:   doneAfterRun(1),
		run: func(activities.RunInput) activities.RunResult {
			return activities.RunResult{OK: true, Duration: 90 * time.Second}
		},
		plot:    func(activities.PlotInput) activities.RunResult { return activities.RunResult{OK: true, Figures: 3} },
		section: func(activities.SectionInput) (llm.Usage, error) { return sectionUsage, nil },
		build: func(in activities.BuildInput) activities.BuildResult {
			return activities.BuildResult{OK: true, PDF: strings.TrimSuffix(pdfPath, ".pdf") + in.Suffix + ".pdf"}
		},
	}
}

// doneAfterRun is a coder that applies every edit and writes ALL_COMPLETED on
// the "next" turn that reports run n; n <= 0: never done.
func doneAfterRun(n int) func(activities.CoderTurnInput) activities.CoderTurnResult {
	return func(in activities.CoderTurnInput) activities.CoderTurnResult {
		r := activities.CoderTurnResult{Applied: true}
		if in.Kind == activities.KindNext && n > 0 && in.Run >= n {
			r.Done = true
		}
		return r
	}
}

func (f *paperFake) log(s string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, s)
}

func (f *paperFake) register(env *testsuite.TestWorkflowEnvironment) {
	env.OnActivity(hostActs.ReserveHost, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.ReserveInput) (activities.HostInfo, error) {
			if f.reserve != nil {
				return f.reserve(in)
			}
			return activities.HostInfo{Host: "hostA", Devices: []string{"cpu"}}, nil
		})
	env.OnActivity(hostActs.AcquireDevice, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.DeviceInput) (activities.DeviceGrant, error) {
			if f.device != nil {
				return f.device(in)
			}
			return activities.DeviceGrant{}, nil
		})
	env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
		if info.ActivityType.Name == "RunExperiment" || info.ActivityType.Name == "RunPlot" {
			f.mu.Lock()
			f.queues = append(f.queues, info.TaskQueue)
			f.priorities = append(f.priorities, info.Priority.PriorityKey)
			f.mu.Unlock()
		}
	})
	env.OnActivity(acts.PreparePaper, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.PaperSetup) (string, error) {
			f.log(fmt.Sprintf("prepare %s idea=%s", in.Paper.Key, in.Idea.Name))
			return f.prepare(in)
		})
	coder := env.OnActivity(acts.CoderTurn, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.CoderTurnInput) (activities.CoderTurnResult, error) {
			f.mu.Lock()
			f.coders = append(f.coders, in)
			n := len(f.coders)
			f.mu.Unlock()
			f.log(coderCall(in.Conversation, in.Kind, in.TurnID, in.Run, in.Attempt, in.AllowDone, in.Reason))
			if n > maxFakeCalls { // a loop that never ends would hang the test
				return activities.CoderTurnResult{}, temporal.NewNonRetryableApplicationError("fake: too many coder turns", "TestLimit", nil)
			}
			if f.charge != nil {
				u, err := f.charge("coder", in.Budget)
				if err != nil {
					return activities.CoderTurnResult{}, err
				}
				r := f.coder(in)
				r.Usage = u
				return r, nil
			}
			r := f.coder(in)
			r.Usage = coderUsage
			return r, nil
		})
	if f.coderDelay > 0 {
		coder.After(f.coderDelay)
	}
	env.OnActivity(runner.RunExperiment, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.RunInput) (activities.RunResult, error) {
			f.mu.Lock()
			f.runs = append(f.runs, in)
			n := len(f.runs)
			f.mu.Unlock()
			f.log(runCall(in.Run, in.Attempt, in.Quick))
			if n > maxFakeCalls {
				return activities.RunResult{}, temporal.NewNonRetryableApplicationError("fake: too many runs", "TestLimit", nil)
			}
			if f.runErr != nil {
				if err := f.runErr(in); err != nil {
					return activities.RunResult{}, err
				}
			}
			return f.run(in), nil
		})
	env.OnActivity(runner.RunPlot, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.PlotInput) (activities.RunResult, error) {
			f.mu.Lock()
			f.plots = append(f.plots, in)
			f.mu.Unlock()
			f.log(fmt.Sprintf("plot %d quick=%t", in.Attempt, in.Quick))
			if f.plotErr != nil {
				if err := f.plotErr(in); err != nil {
					return activities.RunResult{}, err
				}
			}
			return f.plot(in), nil
		})
	env.OnActivity(acts.WriteSection, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.SectionInput) (activities.SectionResult, error) {
			if in.Pass == activities.PassFinal {
				f.log("final " + in.Section)
				return activities.SectionResult{}, nil
			}
			f.log("section " + in.Section)
			charge := f.section
			if f.charge != nil {
				charge = func(in activities.SectionInput) (llm.Usage, error) { return f.charge("section", in.Budget) }
			}
			u, err := charge(in)
			return activities.SectionResult{Metered: activities.Metered{Usage: u}}, err
		})
	env.OnActivity(acts.CitationRound, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.CitationInput) (activities.CitationResult, error) {
			f.log(fmt.Sprintf("citation round %d", in.Round))
			if f.citation != nil {
				return f.citation(in)
			}
			return activities.CitationResult{Done: true}, nil
		})
	env.OnActivity(acts.BuildPDF, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.BuildInput) (activities.BuildResult, error) {
			f.log(fmt.Sprintf("build%s %d", in.Suffix, in.Round))
			return f.build(in), nil
		})
	env.OnActivity(acts.CheckNumbers, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.NumbersInput) (activities.NumbersResult, error) {
			f.log(fmt.Sprintf("numbers %d", in.Round))
			if f.numbers != nil {
				return f.numbers(in), nil
			}
			return activities.NumbersResult{Checked: 12}, nil
		})
	// The ensemble's members cost nothing here and are not logged; the
	// meta-review stands for the whole review ("review <key>", reviewUsage)
	// so the call lists stay readable. TestReviewEnsemble covers members.
	env.OnActivity(acts.ReviewMember, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.ReviewInput) (activities.MemberResult, error) {
			if f.member != nil {
				return f.member(in)
			}
			return activities.MemberResult{Overall: 6}, nil
		})
	env.OnActivity(acts.MetaReview, mock.Anything, mock.Anything).Return(
		func(_ context.Context, min activities.MetaInput) (activities.ReviewResult, error) {
			in := min.ReviewInput
			if in.Out != "review" {
				f.log(fmt.Sprintf("review %s %s (%s)", in.Paper.Key, in.Out, in.PDF))
			} else {
				f.log("review " + in.Paper.Key)
			}
			if f.meta != nil {
				f.meta(min)
			}
			if f.review != nil {
				if err := f.review(in); err != nil {
					return activities.ReviewResult{}, err
				}
			}
			u := reviewUsage
			if f.charge != nil {
				var err error
				if u, err = f.charge("review", in.Budget); err != nil {
					return activities.ReviewResult{}, err
				}
			}
			return activities.ReviewResult{Overall: 6, Decision: "Accept", Reviews: len(min.Members), Metered: activities.Metered{Usage: u}}, nil
		})
	env.OnActivity(acts.ExportPaper, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.ExportInput) (string, error) {
			f.log(fmt.Sprintf("export %s %s", in.OutDir, path.Base(in.Paper.Key)))
			return in.OutDir + "/" + in.Paper.Template + "/" + path.Base(in.Paper.Key), nil
		})
}

func coderCall(conv, kind, id string, run, attempt int, allow bool, reason string) string {
	return fmt.Sprintf("coder %s/%s %s run=%d att=%d allow=%t reason=%s", conv, kind, id, run, attempt, allow, reason)
}

func runCall(run, attempt int, quick bool) string {
	return fmt.Sprintf("run %d.%d quick=%t", run, attempt, quick)
}

// Turns of the experiment loop, named after what the workflow must send.
func implementTurn() string {
	return coderCall("coder", "implement", "run1-attempt1-implement", 1, 1, false, "")
}

// nextTurn asks for run done+1 after run done succeeded.
func nextTurn(done int) string {
	return coderCall("coder", "next", fmt.Sprintf("run%d-attempt1-next", done+1), done, 1, true, "")
}

// fixTurn shows the failed attempt failed of run.
func fixTurn(run, failed int, allow bool, reason string) string {
	return coderCall("coder", "fix", fmt.Sprintf("run%d-attempt%d-fix", run, failed+1), run, failed, allow, reason)
}

func editFailedTurn(run, attempt int, allow bool, reason string) string {
	return coderCall("coder", "edit_failed", fmt.Sprintf("run%d-attempt%d-edit_failed", run, attempt), run, attempt, allow, reason)
}

func latexTurn(round int, reason string) string {
	return coderCall("writer", "latex_fix", fmt.Sprintf("latex-round%d", round), 0, round, false, reason)
}

func prepareCall() string { return "prepare " + paperKey + " idea=alpha" }

func plotsAndNotes(quick bool) []string {
	return []string{
		coderCall("coder", "plot", "plot-attempt1", 0, 0, false, ""),
		fmt.Sprintf("plot 1 quick=%t", quick),
		coderCall("coder", "notes", "notes", 0, 1, false, ""),
	}
}

// writeup is both passes and the numbers check, without citations.
func writeup() []string { return append(draft(), refine()...) }

// draft is the first pass.
func draft() []string {
	return []string{
		"section Title and Abstract", "section Introduction", "section Background", "section Method",
		"section Experimental Setup", "section Results", "section Conclusion", "section Related Work",
	}
}

// refine is the second pass and the numbers check that follow the
// citations (or the first pass, without them).
func refine() []string {
	return []string{
		"final Title and Abstract", "final Introduction", "final Background", "final Method",
		"final Experimental Setup", "final Results", "final Conclusion", "final Related Work", "numbers 1",
	}
}

func reviewAndExport() []string {
	return []string{"review " + paperKey, "export " + resultsTo + " " + folder}
}

// seq flattens strings and string slices into one call list.
func seq(parts ...any) []string {
	var out []string
	for _, p := range parts {
		switch v := p.(type) {
		case string:
			out = append(out, v)
		case []string:
			out = append(out, v...)
		default:
			panic(fmt.Sprintf("seq: %T", p))
		}
	}
	return out
}

func repeat(n int, f func(i int) []string) []string {
	var out []string
	for i := 1; i <= n; i++ {
		out = append(out, f(i)...)
	}
	return out
}

var (
	stagesFull = []string{"setup", "experiments", "plots", "notes", "writeup", "refine", "numbers", "latex", "review", "export", "done"}
	tailFull   = seq(plotsAndNotes(false), writeup(), "build 1", reviewAndExport())
)

// recordStages captures what the upserts publish: each Stage, and each
// State other than running (a pause, a budget stop, a failure) published
// without a stage.
func recordStages(env *testsuite.TestWorkflowEnvironment, mu *sync.Mutex, stages *[]string) {
	env.OnUpsertTypedSearchAttributes(mock.Anything).Run(func(args mock.Arguments) {
		sa := args.Get(0).(temporal.SearchAttributes)
		v, ok := sa.GetKeyword(workflows.StageKey)
		if !ok {
			v, ok = sa.GetKeyword(workflows.StateKey)
			ok = ok && v != string(workflows.StateRunning)
		}
		if ok {
			mu.Lock()
			*stages = append(*stages, v)
			mu.Unlock()
		}
	}).Return()
}

// appErrorTypes lists the ApplicationError types along an error chain.
func appErrorTypes(err error) []string {
	var out []string
	for e := err; e != nil; e = errors.Unwrap(e) {
		if app, ok := e.(*temporal.ApplicationError); ok {
			out = append(out, app.Type())
		}
	}
	return out
}

// tokensOf sums what the fake charged for the logged calls.
func tokensOf(calls []string) llm.Usage {
	var u llm.Usage
	for _, c := range calls {
		switch {
		case strings.HasPrefix(c, "coder "):
			u = u.Add(coderUsage)
		case strings.HasPrefix(c, "section "):
			u = u.Add(sectionUsage)
		case strings.HasPrefix(c, "review "):
			u = u.Add(reviewUsage)
		}
	}
	return u
}

type paperOutcome struct {
	prog   workflows.PaperProgress
	err    error
	calls  []string
	stages []string
	fake   *paperFake
}

func runPaper(t *testing.T, in workflows.PaperInput, configure func(*paperFake)) paperOutcome {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: workflows.PaperWorkflowID(tmpl, "alpha")})
	f := newPaperFake()
	if configure != nil {
		configure(f)
	}
	f.register(env)
	var mu sync.Mutex
	var stages []string
	recordStages(env, &mu, &stages)

	env.ExecuteWorkflow(workflows.PaperWorkflow, in)
	require.True(t, env.IsWorkflowCompleted())
	out := paperOutcome{err: env.GetWorkflowError(), calls: f.calls, stages: stages, fake: f}
	// The query still answers once the workflow has finished.
	v, err := env.QueryWorkflow(workflows.ProgressQuery)
	require.NoError(t, err)
	require.NoError(t, v.Get(&out.prog))
	if out.err == nil {
		var res workflows.PaperResult
		require.NoError(t, env.GetWorkflowResult(&res))
		assert.Equal(t, res.Progress, out.prog, "result and query disagree")
	}
	return out
}

func TestPaperWorkflow(t *testing.T) {
	boomOn := func(run int, msg string) func(f *paperFake) {
		return func(f *paperFake) {
			f.run = func(in activities.RunInput) activities.RunResult {
				if in.Run == run {
					return activities.RunResult{Error: msg}
				}
				return activities.RunResult{OK: true, Duration: 90 * time.Second}
			}
		}
	}
	noPDF := func(activities.BuildInput) activities.BuildResult {
		return activities.BuildResult{Problems: 2, Summary: "undefined ref"}
	}

	tests := []struct {
		name      string
		in        func(*workflows.PaperInput)
		fake      func(*paperFake)
		calls     []string
		stages    []string
		wantErr   []string // substrings of the workflow error; nil: success
		errTypes  []string // ApplicationError types expected in the chain
		progError string   // progress.Error exactly (when set)
		check     func(t *testing.T, o paperOutcome)
	}{
		{
			name: "happy path, full configuration",
			calls: []string{
				"prepare nanoGPT/20250102_030405_alpha idea=alpha",
				"coder coder/implement run1-attempt1-implement run=1 att=1 allow=false reason=",
				"run 1.1 quick=false",
				"coder coder/next run2-attempt1-next run=1 att=1 allow=true reason=",
				"coder coder/plot plot-attempt1 run=0 att=0 allow=false reason=",
				"plot 1 quick=false",
				"coder coder/notes notes run=0 att=1 allow=false reason=",
				"section Title and Abstract", "section Introduction", "section Background", "section Method",
				"section Experimental Setup", "section Results", "section Conclusion", "section Related Work",
				"final Title and Abstract", "final Introduction", "final Background", "final Method",
				"final Experimental Setup", "final Results", "final Conclusion", "final Related Work", "numbers 1",
				"build 1",
				"review nanoGPT/20250102_030405_alpha",
				"export /results 20250102_030405_alpha",
			},
			stages: stagesFull,
			check: func(t *testing.T, o paperOutcome) {
				assert.Equal(t, workflows.PaperProgress{
					Paper: "paper/nanoGPT/alpha", Idea: "alpha", Title: "Alpha Title", Template: tmpl, Model: model, MaxRuns: 5,
					Stage: "done", State: "completed",
					Run: 1, Attempt: 0, // the last run started; run 2 was planned, never started
					Host: "hostA", Device: 0,
					Runs:   []workflows.RunStatus{{Run: 1, Attempts: 1, OK: true, Seconds: 90}},
					Tokens: llm.Usage{PromptTokens: 4 + 800 + 10000, CompletionTokens: 8 + 1600 + 20000, Calls: 13},
					// 4 coder turns, 8 sections, 1 review
					Figures: 3, PDF: pdfPath, Overall: 6, Decision: "Accept", Reviews: 5, Numbers: "12 checked, 0 match no run",
					Workspace: "/ws/" + paperKey, ResultDir: "/results/nanoGPT/20250102_030405_alpha",
					NoveltyCheck: "not checked (off for its campaign, or started alone)", CitationSearch: "off (--skip-citations)",
				}, o.prog)
				// Defaults and the paper reference reach every activity.
				for _, c := range o.fake.coders {
					assert.Equal(t, alphaRef, c.Paper, c.TurnID)
					assert.Equal(t, 5, c.MaxRuns, c.TurnID)
				}
				assert.Equal(t, 4, o.fake.coders[0].MaxAttempts, "experiment turns: MaxRunAttempts")
				assert.Equal(t, 4, o.fake.coders[1].MaxAttempts, "experiment turns: MaxRunAttempts")
				assert.Equal(t, 4, o.fake.coders[2].MaxAttempts, "plot turns")
				assert.Equal(t, 1, o.fake.coders[3].MaxAttempts, "notes turn")
				require.Len(t, o.fake.runs, 1)
				assert.Equal(t, activities.RunInput{Paper: alphaRef, Run: 1, Attempt: 1, Timeout: 2 * time.Hour}, o.fake.runs[0])
				require.Len(t, o.fake.plots, 1)
				assert.Equal(t, activities.PlotInput{Paper: alphaRef, Attempt: 1, Timeout: 10 * time.Minute}, o.fake.plots[0])
				for _, r := range o.fake.runs {
					assert.NotZero(t, r.Run, "no baseline run without Quick/RerunBaseline")
				}
			},
		},
		{
			name:   "no results dir: no export",
			in:     func(in *workflows.PaperInput) { in.ResultsDir = "" },
			calls:  seq(prepareCall(), implementTurn(), runCall(1, 1, false), nextTurn(1), plotsAndNotes(false), writeup(), "build 1", "review "+paperKey),
			stages: []string{"setup", "experiments", "plots", "notes", "writeup", "refine", "numbers", "latex", "review", "done"},
			check: func(t *testing.T, o paperOutcome) {
				assert.Equal(t, "", o.prog.ResultDir)
				assert.Equal(t, workflows.StateCompleted, o.prog.State)
			},
		},
		{
			name: "quick paper runs a quick baseline first",
			in:   func(in *workflows.PaperInput) { in.Quick = true },
			calls: seq(prepareCall(), runCall(0, 1, true), implementTurn(), runCall(1, 1, true), nextTurn(1),
				plotsAndNotes(true), writeup(), "build 1", reviewAndExport()),
			stages: []string{"setup", "baseline", "experiments", "plots", "notes", "writeup", "refine", "numbers", "latex", "review", "export", "done"},
			check: func(t *testing.T, o paperOutcome) {
				assert.Equal(t, []workflows.RunStatus{
					{Run: 0, Attempts: 1, OK: true, Seconds: 90},
					{Run: 1, Attempts: 1, OK: true, Seconds: 90},
				}, o.prog.Runs)
				for _, r := range o.fake.runs {
					assert.True(t, r.Quick)
				}
			},
		},
		{
			name: "full paper runs its host's baseline first; the host had it cached",
			in:   func(in *workflows.PaperInput) { in.TemplateBaseline = false },
			fake: func(f *paperFake) {
				next := f.run
				f.run = func(in activities.RunInput) activities.RunResult {
					if in.Run == 0 {
						return activities.RunResult{OK: true, Cached: true}
					}
					return next(in)
				}
			},
			calls:  seq(prepareCall(), runCall(0, 1, false), implementTurn(), runCall(1, 1, false), nextTurn(1), tailFull),
			stages: []string{"setup", "baseline", "experiments", "plots", "notes", "writeup", "refine", "numbers", "latex", "review", "export", "done"},
			check: func(t *testing.T, o paperOutcome) {
				assert.Equal(t, []workflows.RunStatus{
					{Run: 0, Attempts: 1, OK: true, Cached: true},
					{Run: 1, Attempts: 1, OK: true, Seconds: 90},
				}, o.prog.Runs)
				// Baseline and runs share the reserved host's device; the
				// plot goes to its plot queue.
				assert.Equal(t, []string{"aiscientist-host-hostA-dev0", "aiscientist-host-hostA-dev0", "aiscientist-plots-hostA"}, o.fake.queues)
			},
		},
		{
			name: "rerun baseline: full configuration, second try succeeds",
			in:   func(in *workflows.PaperInput) { in.RerunBaseline = true },
			fake: func(f *paperFake) {
				f.run = func(in activities.RunInput) activities.RunResult {
					if in.Run == 0 && in.Attempt == 1 {
						return activities.RunResult{Error: "oom"}
					}
					return activities.RunResult{OK: true, Duration: 90 * time.Second}
				}
			},
			calls:  seq(prepareCall(), runCall(0, 1, false), runCall(0, 2, false), implementTurn(), runCall(1, 1, false), nextTurn(1), tailFull),
			stages: []string{"setup", "baseline", "experiments", "plots", "notes", "writeup", "refine", "numbers", "latex", "review", "export", "done"},
			check: func(t *testing.T, o paperOutcome) {
				assert.Equal(t, workflows.RunStatus{Run: 0, Attempts: 2, OK: true, Seconds: 90}, o.prog.Runs[0])
			},
		},
		{
			name:      "quick baseline failing twice fails the paper",
			in:        func(in *workflows.PaperInput) { in.Quick = true },
			fake:      boomOn(0, "no module named torch"),
			calls:     seq(prepareCall(), runCall(0, 1, true), runCall(0, 2, true)),
			stages:    []string{"setup", "baseline", "failed"},
			wantErr:   []string{"baseline", "the template's own baseline failed: no module named torch"},
			errTypes:  []string{"PaperFailed", "BaselineFailed"},
			progError: "baseline: the template's own baseline failed: no module named torch",
			check: func(t *testing.T, o paperOutcome) {
				assert.Equal(t, []workflows.RunStatus{{Run: 0, Attempts: 2, Error: "no module named torch"}}, o.prog.Runs)
			},
		},
		{
			name:   "a failed run gets a fix turn showing the failed attempt",
			fake:   func(f *paperFake) { f.run = failFirst(f.run, 1, 1, "boom") },
			calls:  seq(prepareCall(), implementTurn(), runCall(1, 1, false), fixTurn(1, 1, false, "boom"), runCall(1, 2, false), nextTurn(1), tailFull),
			stages: stagesFull,
			check: func(t *testing.T, o paperOutcome) {
				assert.Equal(t, []workflows.RunStatus{{Run: 1, Attempts: 2, OK: true, Seconds: 90}}, o.prog.Runs)
				assert.Empty(t, o.prog.Warnings)
				// the literal TurnID the brief names
				assert.Equal(t, "run1-attempt2-fix", o.fake.coders[1].TurnID)
			},
		},
		{
			name: "run 1 failing every attempt fails the paper",
			fake: boomOn(1, "boom"),
			calls: seq(prepareCall(), implementTurn(), runCall(1, 1, false),
				fixTurn(1, 1, false, "boom"), runCall(1, 2, false),
				fixTurn(1, 2, false, "boom"), runCall(1, 3, false),
				fixTurn(1, 3, false, "boom"), runCall(1, 4, false)),
			stages:    []string{"setup", "experiments", "failed"},
			wantErr:   []string{"no experiment run succeeded; last error: boom"},
			errTypes:  []string{"PaperFailed", "NoSuccessfulRun"},
			progError: "experiments: no experiment run succeeded; last error: boom",
			check: func(t *testing.T, o paperOutcome) {
				assert.Len(t, o.fake.runs, 4)
				assert.Equal(t, []workflows.RunStatus{{Run: 1, Attempts: 4, Error: "boom"}}, o.prog.Runs)
				assert.Equal(t, workflows.StateFailed, o.prog.State)
				assert.Empty(t, o.prog.Warnings, "no 'continuing' warning for a paper that stops")
			},
		},
		{
			name: "MaxRunAttempts is honoured",
			in:   func(in *workflows.PaperInput) { in.MaxRunAttempts = 2 },
			fake: boomOn(1, "boom"),
			calls: seq(prepareCall(), implementTurn(), runCall(1, 1, false),
				fixTurn(1, 1, false, "boom"), runCall(1, 2, false)),
			stages:    []string{"setup", "experiments", "failed"},
			wantErr:   []string{"no experiment run succeeded"},
			progError: "experiments: no experiment run succeeded; last error: boom",
			check: func(t *testing.T, o paperOutcome) {
				for _, c := range o.fake.coders {
					assert.Equal(t, 2, c.MaxAttempts)
				}
			},
		},
		{
			name: "a later run failing every attempt is a warning; the paper goes on",
			fake: func(f *paperFake) {
				f.coder = doneAfterRun(0)
				boomOn(2, "boom2")(f)
			},
			calls: seq(prepareCall(), implementTurn(), runCall(1, 1, false), nextTurn(1), runCall(2, 1, false),
				fixTurn(2, 1, true, "boom2"), runCall(2, 2, false),
				fixTurn(2, 2, true, "boom2"), runCall(2, 3, false),
				fixTurn(2, 3, true, "boom2"), runCall(2, 4, false),
				tailFull),
			stages: stagesFull,
			check: func(t *testing.T, o paperOutcome) {
				assert.Equal(t, []string{"run 2 failed 4 times; continuing with the 1 successful runs"}, o.prog.Warnings)
				assert.Equal(t, []workflows.RunStatus{
					{Run: 1, Attempts: 1, OK: true, Seconds: 90},
					{Run: 2, Attempts: 4, Error: "boom2"},
				}, o.prog.Runs)
				assert.Equal(t, 3, o.prog.Figures)
				assert.Equal(t, workflows.StateCompleted, o.prog.State)
			},
		},
		{
			name: "the last run ends the experiments without another turn",
			in:   func(in *workflows.PaperInput) { in.MaxRuns = 2 },
			fake: func(f *paperFake) { f.coder = doneAfterRun(0) },
			calls: seq(prepareCall(), implementTurn(), runCall(1, 1, false), nextTurn(1), runCall(2, 1, false),
				tailFull),
			stages: stagesFull,
			check: func(t *testing.T, o paperOutcome) {
				assert.Len(t, o.prog.Runs, 2)
				for _, c := range o.fake.coders {
					assert.Equal(t, 2, c.MaxRuns)
				}
			},
		},
		{
			name: "a failed edit is never run and counts as an attempt",
			fake: func(f *paperFake) {
				base := f.coder
				f.coder = func(in activities.CoderTurnInput) activities.CoderTurnResult {
					if in.Kind == activities.KindImplement {
						return activities.CoderTurnResult{Feedback: "x"}
					}
					return base(in)
				}
			},
			calls:  seq(prepareCall(), implementTurn(), editFailedTurn(1, 2, false, "x"), runCall(1, 2, false), nextTurn(1), tailFull),
			stages: stagesFull,
			check: func(t *testing.T, o paperOutcome) {
				for _, r := range o.fake.runs {
					assert.False(t, r.Run == 1 && r.Attempt == 1, "attempt 1 had no applied edit and must not run")
				}
				assert.Equal(t, []workflows.RunStatus{{Run: 1, Attempts: 2, OK: true, Seconds: 90}}, o.prog.Runs)
			},
		},
		{
			name: "edits that never apply use up the attempts and fail the paper",
			fake: func(f *paperFake) {
				f.coder = func(in activities.CoderTurnInput) activities.CoderTurnResult {
					return activities.CoderTurnResult{Feedback: "search block not found"}
				}
			},
			calls: seq(prepareCall(), implementTurn(),
				editFailedTurn(1, 2, false, "search block not found"),
				editFailedTurn(1, 3, false, "search block not found"),
				editFailedTurn(1, 4, false, "search block not found")),
			stages:    []string{"setup", "experiments", "failed"},
			wantErr:   []string{"no experiment run succeeded; last error: edits were not applied: search block not found"},
			progError: "experiments: no experiment run succeeded; last error: edits were not applied: search block not found",
			check: func(t *testing.T, o paperOutcome) {
				assert.Empty(t, o.fake.runs)
				assert.Equal(t, []workflows.RunStatus{{Run: 1, Attempts: 4, Error: "edits were not applied: search block not found"}}, o.prog.Runs)
			},
		},
		{
			name: "ALL_COMPLETED before a successful run is not accepted: the edits run",
			fake: func(f *paperFake) {
				base := f.coder
				f.coder = func(in activities.CoderTurnInput) activities.CoderTurnResult {
					if in.Kind == activities.KindImplement {
						return activities.CoderTurnResult{Applied: true, Done: true}
					}
					return base(in)
				}
			},
			calls:  seq(prepareCall(), implementTurn(), runCall(1, 1, false), nextTurn(1), tailFull),
			stages: stagesFull,
			check: func(t *testing.T, o paperOutcome) {
				assert.False(t, o.fake.coders[0].AllowDone, "no run has succeeded yet")
				assert.True(t, o.fake.coders[1].AllowDone, "run 1 succeeded")
				assert.Equal(t, []workflows.RunStatus{{Run: 1, Attempts: 1, OK: true, Seconds: 90}}, o.prog.Runs)
			},
		},
		{
			name: "a failed plot gets a plot_fix turn",
			fake: func(f *paperFake) {
				f.plot = func(in activities.PlotInput) activities.RunResult {
					if in.Attempt == 1 {
						return activities.RunResult{Error: "no png"}
					}
					return activities.RunResult{OK: true, Figures: 2}
				}
			},
			calls: seq(prepareCall(), implementTurn(), runCall(1, 1, false), nextTurn(1),
				coderCall("coder", "plot", "plot-attempt1", 0, 0, false, ""), "plot 1 quick=false",
				coderCall("coder", "plot_fix", "plot-attempt2", 0, 1, false, "no png"), "plot 2 quick=false",
				coderCall("coder", "notes", "notes", 0, 1, false, ""),
				writeup(), "build 1", reviewAndExport()),
			stages: stagesFull,
			check: func(t *testing.T, o paperOutcome) {
				assert.Equal(t, 2, o.prog.Figures)
				assert.Empty(t, o.prog.Warnings)
			},
		},
		{
			name: "plotting that always fails is a warning",
			fake: func(f *paperFake) {
				f.plot = func(activities.PlotInput) activities.RunResult { return activities.RunResult{Error: "no png"} }
			},
			calls: seq(prepareCall(), implementTurn(), runCall(1, 1, false), nextTurn(1),
				coderCall("coder", "plot", "plot-attempt1", 0, 0, false, ""), "plot 1 quick=false",
				repeat(3, func(i int) []string {
					return []string{coderCall("coder", "plot_fix", fmt.Sprintf("plot-attempt%d", i+1), 0, i, false, "no png"),
						fmt.Sprintf("plot %d quick=false", i+1)}
				}),
				coderCall("coder", "notes", "notes", 0, 1, false, ""),
				writeup(), "build 1", reviewAndExport()),
			stages: stagesFull,
			check: func(t *testing.T, o paperOutcome) {
				assert.Equal(t, 0, o.prog.Figures)
				assert.Equal(t, []string{"plotting failed 4 times; the paper is written without new figures"}, o.prog.Warnings)
			},
		},
		{
			name: "LaTeX problems go to the writer until a PDF builds",
			fake: func(f *paperFake) {
				f.build = func(in activities.BuildInput) activities.BuildResult {
					if in.Round == 1 {
						return noPDF(in)
					}
					return activities.BuildResult{OK: true, PDF: pdfPath}
				}
			},
			calls: seq(prepareCall(), implementTurn(), runCall(1, 1, false), nextTurn(1), plotsAndNotes(false), writeup(),
				"build 1", latexTurn(1, "undefined ref"), "build 2", reviewAndExport()),
			stages: stagesFull,
			check: func(t *testing.T, o paperOutcome) {
				assert.Equal(t, pdfPath, o.prog.PDF)
				assert.Empty(t, o.prog.Warnings)
				last := o.fake.coders[len(o.fake.coders)-1]
				assert.Equal(t, activities.ConvWriter, last.Conversation)
				assert.Equal(t, 5, last.MaxAttempts, "LatexRounds default")
			},
		},
		{
			name: "a fix that does not apply uses its round; the problems go back again and the next fix is built",
			fake: func(f *paperFake) {
				f.build = func(in activities.BuildInput) activities.BuildResult {
					if in.Round < 3 {
						return noPDF(in)
					}
					return activities.BuildResult{OK: true, PDF: pdfPath}
				}
				base := f.coder
				f.coder = func(in activities.CoderTurnInput) activities.CoderTurnResult {
					if in.Kind == activities.KindLatexFix && in.Attempt == 1 {
						return activities.CoderTurnResult{Feedback: "1 of 1 edit blocks failed to apply"}
					}
					return base(in)
				}
			},
			calls: seq(prepareCall(), implementTurn(), runCall(1, 1, false), nextTurn(1), plotsAndNotes(false), writeup(),
				"build 1", latexTurn(1, "undefined ref"), latexTurn(2, "undefined ref"), "build 3", reviewAndExport()),
			stages: stagesFull,
			check: func(t *testing.T, o paperOutcome) {
				assert.Equal(t, pdfPath, o.prog.PDF)
				assert.Empty(t, o.prog.Warnings)
			},
		},
		{
			name: "the last good PDF is kept when the last round builds none",
			fake: func(f *paperFake) {
				f.build = func(in activities.BuildInput) activities.BuildResult {
					if in.Round == 1 {
						return activities.BuildResult{PDF: pdfPath, Problems: 1, Summary: "undefined control sequence \\Cref"}
					}
					return activities.BuildResult{PDF: pdfPath, Earlier: true, Problems: 3, Summary: "emergency stop"}
				}
			},
			in: func(in *workflows.PaperInput) { in.LatexRounds = 2 },
			calls: seq(prepareCall(), implementTurn(), runCall(1, 1, false), nextTurn(1), plotsAndNotes(false), writeup(),
				"build 1", latexTurn(1, "undefined control sequence \\Cref"), "build 2", reviewAndExport()),
			stages: stagesFull,
			check: func(t *testing.T, o paperOutcome) {
				assert.Equal(t, pdfPath, o.prog.PDF)
				assert.Equal(t, []string{"the last LaTeX round built no PDF; the paper keeps the PDF of an earlier round (its source is latex/pdf_source.tex); " +
					"3 problems remain (latex/problems.txt), first: emergency stop"}, o.prog.Warnings)
			},
		},
		{
			name: "no PDF after every LaTeX round fails the paper",
			fake: func(f *paperFake) { f.build = noPDF },
			calls: seq(prepareCall(), implementTurn(), runCall(1, 1, false), nextTurn(1), plotsAndNotes(false), writeup(),
				repeat(4, func(i int) []string { return []string{fmt.Sprintf("build %d", i), latexTurn(i, "undefined ref")} }),
				"build 5"),
			stages:    []string{"setup", "experiments", "plots", "notes", "writeup", "refine", "numbers", "latex", "failed"},
			wantErr:   []string{"no PDF", "LaTeX produced no PDF after fixing; 2 problems remain, first: undefined ref (see latex/problems.txt)"},
			errTypes:  []string{"PaperFailed", activities.ErrTypeNoPDF},
			progError: "latex: LaTeX produced no PDF after fixing; 2 problems remain, first: undefined ref (see latex/problems.txt)",
		},
		{
			name: "LatexRounds is honoured",
			in:   func(in *workflows.PaperInput) { in.LatexRounds = 2 },
			fake: func(f *paperFake) { f.build = noPDF },
			calls: seq(prepareCall(), implementTurn(), runCall(1, 1, false), nextTurn(1), plotsAndNotes(false), writeup(),
				"build 1", latexTurn(1, "undefined ref"), "build 2"),
			stages:    []string{"setup", "experiments", "plots", "notes", "writeup", "refine", "numbers", "latex", "failed"},
			wantErr:   []string{"no PDF"},
			errTypes:  []string{"PaperFailed", activities.ErrTypeNoPDF},
			progError: "latex: LaTeX produced no PDF after fixing; 2 problems remain, first: undefined ref (see latex/problems.txt)",
		},
		{
			name: "NO CHANGES without a PDF uses up the rounds (no rebuild of the same source); never a PDF fails the paper",
			fake: func(f *paperFake) {
				f.build = noPDF
				base := f.coder
				f.coder = func(in activities.CoderTurnInput) activities.CoderTurnResult {
					if in.Kind == activities.KindLatexFix {
						return activities.CoderTurnResult{NoChanges: true}
					}
					return base(in)
				}
			},
			calls: seq(prepareCall(), implementTurn(), runCall(1, 1, false), nextTurn(1), plotsAndNotes(false), writeup(),
				"build 1", latexTurn(1, "undefined ref"), latexTurn(2, "undefined ref"), latexTurn(3, "undefined ref"), latexTurn(4, "undefined ref")),
			stages:    []string{"setup", "experiments", "plots", "notes", "writeup", "refine", "numbers", "latex", "failed"},
			wantErr:   []string{"no PDF"},
			errTypes:  []string{"PaperFailed", activities.ErrTypeNoPDF},
			progError: "latex: LaTeX produced no PDF after fixing; 2 problems remain, first: undefined ref (see latex/problems.txt)",
		},
		{
			name: "NO CHANGES with a PDF keeps it, with a warning",
			fake: func(f *paperFake) {
				f.build = func(activities.BuildInput) activities.BuildResult {
					return activities.BuildResult{PDF: pdfPath, Problems: 1, Summary: "overfull hbox"}
				}
				base := f.coder
				f.coder = func(in activities.CoderTurnInput) activities.CoderTurnResult {
					if in.Kind == activities.KindLatexFix {
						return activities.CoderTurnResult{NoChanges: true}
					}
					return base(in)
				}
			},
			calls: seq(prepareCall(), implementTurn(), runCall(1, 1, false), nextTurn(1), plotsAndNotes(false), writeup(),
				"build 1", latexTurn(1, "overfull hbox"), reviewAndExport()),
			stages: stagesFull,
			check: func(t *testing.T, o paperOutcome) {
				assert.Equal(t, pdfPath, o.prog.PDF)
				assert.Equal(t, []string{"the PDF was built but 1 LaTeX problems remain (latex/problems.txt), first: overfull hbox"}, o.prog.Warnings)
				assert.Equal(t, workflows.StateCompleted, o.prog.State)
			},
		},
		{
			name: "a review that cannot be read keeps the paper: exported, with a warning",
			fake: func(f *paperFake) {
				f.review = func(activities.ReviewInput) error {
					// What the replies cost rides in the details, as the activity reports it.
					return temporal.NewNonRetryableApplicationError("review: no usable reply in 3 tries: Decision is missing",
						activities.ErrTypeUnparsable, nil, reviewUsage)
				}
			},
			calls:  seq(prepareCall(), implementTurn(), runCall(1, 1, false), nextTurn(1), tailFull),
			stages: stagesFull,
			check: func(t *testing.T, o paperOutcome) {
				assert.Equal(t, 0, o.prog.Overall)
				assert.Equal(t, resultsTo+"/"+paperKey, o.prog.ResultDir)
				assert.Equal(t, []string{"the review (review) could not be read: review: no usable reply in 3 tries: Decision is missing; " +
					"the paper is exported without it (the replies are in reviews/review/)"}, o.prog.Warnings)
			},
		},
		{
			name: "an unknown template fails setup without retries",
			fake: func(f *paperFake) {
				f.prepare = func(activities.PaperSetup) (string, error) {
					return "", temporal.NewNonRetryableApplicationError("unknown template", activities.ErrTypeBadInput, nil)
				}
			},
			calls:     []string{prepareCall()},
			stages:    []string{"setup", "failed"},
			wantErr:   []string{"unknown template"},
			errTypes:  []string{"PaperFailed", activities.ErrTypeBadInput},
			progError: "setup: unknown template",
			check: func(t *testing.T, o paperOutcome) {
				assert.Equal(t, workflows.StateFailed, o.prog.State)
				assert.Equal(t, workflows.StageSetup, o.prog.Stage)
				assert.Equal(t, "", o.prog.Workspace)
			},
		},
		{
			name: "a transient setup error is retried",
			fake: func(f *paperFake) {
				n := 0
				f.prepare = func(in activities.PaperSetup) (string, error) {
					if n++; n == 1 {
						return "", errors.New("disk busy")
					}
					return "/ws/" + in.Paper.Key, nil
				}
			},
			calls:  seq(prepareCall(), prepareCall(), implementTurn(), runCall(1, 1, false), nextTurn(1), tailFull),
			stages: stagesFull,
		},
		{
			name: "a refused model while writing fails the paper in writeup",
			fake: func(f *paperFake) {
				f.section = func(in activities.SectionInput) (llm.Usage, error) {
					if in.Section == "Method" {
						return llm.Usage{}, temporal.NewNonRetryableApplicationError("model refused", activities.ErrTypeModel, nil)
					}
					return sectionUsage, nil
				}
			},
			calls: seq(prepareCall(), implementTurn(), runCall(1, 1, false), nextTurn(1), plotsAndNotes(false),
				writeup()[:4]),
			stages:   []string{"setup", "experiments", "plots", "notes", "writeup", "failed"},
			wantErr:  []string{"model refused"},
			errTypes: []string{"PaperFailed", activities.ErrTypeModel},
			check: func(t *testing.T, o paperOutcome) {
				assert.Equal(t, "writeup: write Method: model refused", o.prog.Error)
				// 4 coder turns and the 3 sections written before Method
				assert.Equal(t, llm.Usage{PromptTokens: 304, CompletionTokens: 608, Calls: 7}, o.prog.Tokens)
			},
		},
	}

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := paperInput()
			if tc.in != nil {
				tc.in(&in)
			}
			o := runPaper(t, in, tc.fake)
			want := tc.calls
			if tc.wantErr != nil && in.ResultsDir != "" && o.prog.Workspace != "" {
				// A failed paper with a workspace is exported too, with why it failed.
				want = append(append([]string(nil), want...), "export "+resultsTo+" "+folder)
				assert.Equal(t, resultsTo+"/"+paperKey, o.prog.ResultDir)
			}
			assert.Equal(t, want, o.calls, "activity calls, in order")
			assert.Equal(t, tc.stages, o.stages, "Stage search attribute upserts")
			if tc.wantErr == nil {
				require.NoError(t, o.err)
				assert.Equal(t, workflows.StateCompleted, o.prog.State)
				assert.Equal(t, workflows.StageDone, o.prog.Stage)
				assert.Empty(t, o.prog.Error)
			} else {
				require.Error(t, o.err)
				for _, s := range tc.wantErr {
					assert.Contains(t, o.err.Error(), s)
				}
				assert.Equal(t, workflows.StateFailed, o.prog.State)
				assert.NotEmpty(t, o.prog.Error)
				if tc.progError != "" {
					assert.Equal(t, tc.progError, o.prog.Error, "progress error")
				}
			}
			if tc.errTypes != nil {
				assert.Subset(t, appErrorTypes(o.err), tc.errTypes, "error types along the chain")
				assert.Equal(t, tc.errTypes[0], appErrorTypes(o.err)[0], "outermost error type")
			}
			if tc.wantErr == nil {
				assert.Equal(t, tokensOf(o.calls), o.prog.Tokens, "tokens are the sum of every model call")
			}
			if tc.check != nil {
				tc.check(t, o)
			}
		})
	}
}

// failFirst makes attempt of run fail with msg and leaves the rest to next.
func failFirst(next func(activities.RunInput) activities.RunResult, run, attempt int, msg string) func(activities.RunInput) activities.RunResult {
	return func(in activities.RunInput) activities.RunResult {
		if in.Run == run && in.Attempt == attempt {
			return activities.RunResult{Error: msg}
		}
		return next(in)
	}
}

// TestPaperProgressQuery queries while the paper runs: every coder turn takes
// a minute of workflow time, everything else is instant.
func TestPaperProgressQuery(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	f := newPaperFake()
	f.coderDelay = time.Minute
	f.register(env)

	type want struct {
		stage         string
		run, attempt  int
		runs, figures int
	}
	// implement 0-60s, run 1 at 60s, next 60-120s, plot 120-180s, notes 180-240s.
	checks := []struct {
		at   time.Duration
		want want
	}{
		{30 * time.Second, want{stage: "experiments", run: 1, attempt: 1}},
		{90 * time.Second, want{stage: "experiments", run: 2, attempt: 1, runs: 1}},
		// ALL_COMPLETED at 120s: run 2 was planned, never started
		{150 * time.Second, want{stage: "plots", run: 1, attempt: 0, runs: 1}},
		{210 * time.Second, want{stage: "notes", run: 1, attempt: 0, runs: 1, figures: 3}},
	}
	got := make([]want, len(checks))
	states := make([]string, len(checks))
	for i, c := range checks {
		env.RegisterDelayedCallback(func() {
			v, err := env.QueryWorkflow(workflows.ProgressQuery)
			require.NoError(t, err)
			var p workflows.PaperProgress
			require.NoError(t, v.Get(&p))
			got[i] = want{stage: string(p.Stage), run: p.Run, attempt: p.Attempt, runs: len(p.Runs), figures: p.Figures}
			states[i] = string(p.State)
		}, c.at)
	}
	env.ExecuteWorkflow(workflows.PaperWorkflow, paperInput())
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	for i, c := range checks {
		assert.Equal(t, c.want, got[i], "query at %v", c.at)
		assert.Equal(t, "running", states[i], "query at %v", c.at)
	}
	v, err := env.QueryWorkflow(workflows.ProgressQuery)
	require.NoError(t, err)
	var p workflows.PaperProgress
	require.NoError(t, v.Get(&p))
	assert.Equal(t, workflows.StageDone, p.Stage)
	assert.Equal(t, workflows.StateCompleted, p.State)
}

// TestSearchAttributeKeysInTestEnv: the workflows drop UpsertTypedSearchAttributes
// errors (`_ =`), so check here that the test environment accepts the keys
// without any registration and that they read back. (A real namespace must
// have Template, IdeaName and Stage registered as Keyword attributes.)
func TestSearchAttributeKeysInTestEnv(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	upsert := func(ctx workflow.Context) ([]string, error) {
		if err := workflow.UpsertTypedSearchAttributes(ctx,
			workflows.TemplateKey.ValueSet(tmpl), workflows.IdeaNameKey.ValueSet("alpha"), workflows.StageKey.ValueSet("setup")); err != nil {
			return nil, err
		}
		if err := workflow.UpsertTypedSearchAttributes(ctx, workflows.StageKey.ValueSet(string(workflows.StageDone))); err != nil {
			return nil, err
		}
		sa := workflow.GetTypedSearchAttributes(ctx)
		var out []string
		for _, k := range []temporal.SearchAttributeKeyKeyword{workflows.TemplateKey, workflows.IdeaNameKey, workflows.StageKey} {
			v, _ := sa.GetKeyword(k)
			out = append(out, v)
		}
		return out, nil
	}
	env.RegisterWorkflowWithOptions(upsert, workflow.RegisterOptions{Name: "upsert"})
	env.ExecuteWorkflow("upsert")
	require.NoError(t, env.GetWorkflowError())
	var got []string
	require.NoError(t, env.GetWorkflowResult(&got))
	assert.Equal(t, []string{tmpl, "alpha", "done"}, got)
}

// TestPaperCitations: after the write-up, rounds search for missing
// citations until the writer is done; each round that adds papers gets a
// cite turn placing them; a search that cannot be done ends the rounds
// with a warning and the paper goes on.
func TestPaperCitations(t *testing.T) {
	in := paperInput()
	in.SkipCitations, in.Engine = false, "arxiv"
	t.Run("rounds until done, a cite turn for what was added", func(t *testing.T) {
		o := runPaper(t, in, func(f *paperFake) {
			f.citation = func(c activities.CitationInput) (activities.CitationResult, error) {
				switch c.Round {
				case 1:
					return activities.CitationResult{Query: "grokking circuits", Found: 3, Engine: "arxiv",
						Added: []activities.CitedPaper{{Key: "varma2023explaining", Title: "Explaining Grokking", Year: 2023, Where: "related work"}}}, nil
				case 2:
					return activities.CitationResult{Query: "nothing useful", Found: 2}, nil
				}
				return activities.CitationResult{Done: true}, nil
			}
		})
		require.NoError(t, o.err)
		cite := coderCall("writer", "cite", "cite-round1", 0, 1, false, "- varma2023explaining: Explaining Grokking (2023). related work")
		assert.Equal(t, seq(prepareCall(), implementTurn(), runCall(1, 1, false), nextTurn(1), plotsAndNotes(false), draft(),
			"citation round 1", cite, "citation round 2", "citation round 3", refine(), "build 1", reviewAndExport()), o.calls)
		assert.Equal(t, "on: 1 papers found by search added to the bibliography in 3 rounds", o.prog.CitationSearch)
		assert.Contains(t, o.stages, "citations")
	})
	t.Run("a search that cannot be done ends the rounds, with a warning", func(t *testing.T) {
		o := runPaper(t, in, func(f *paperFake) {
			f.citation = func(activities.CitationInput) (activities.CitationResult, error) {
				return activities.CitationResult{}, temporal.NewNonRetryableApplicationError("no literature engine answered", activities.ErrTypeLiterature, nil)
			}
		})
		require.NoError(t, o.err)
		assert.Equal(t, []string{"citation search stopped in round 1: no literature engine answered"}, o.prog.Warnings)
		assert.Equal(t, "on: 0 papers found by search added to the bibliography in 1 rounds", o.prog.CitationSearch)
	})
}

// TestPaperReviewEnsemble: the members run as activities of their own; one
// that fails leaves the others to make the review, and the paper says so.
func TestPaperReviewEnsemble(t *testing.T) {
	var meta activities.MetaInput
	var mu sync.Mutex
	var members []int
	o := runPaper(t, paperInput(), func(f *paperFake) {
		f.member = func(in activities.ReviewInput) (activities.MemberResult, error) {
			mu.Lock()
			members = append(members, in.Member)
			mu.Unlock()
			if in.Member == 2 {
				return activities.MemberResult{}, temporal.NewNonRetryableApplicationError("review 3 of 5: no usable reply in 3 tries: Overall is missing", activities.ErrTypeUnparsable, nil)
			}
			return activities.MemberResult{Overall: 4}, nil
		}
		f.meta = func(in activities.MetaInput) { meta = in }
	})
	require.NoError(t, o.err)
	sort.Ints(members)
	assert.Equal(t, []int{0, 1, 2, 3, 4}, members, "five members, the reference's default")
	assert.Equal(t, []int{0, 1, 3, 4}, meta.Members)
	assert.Equal(t, activities.ReviewSpec{Ensemble: 5, Reflections: 5, FewShot: 1}, meta.Spec)
	assert.Equal(t, "alpha.pdf", meta.PDF)
	assert.Equal(t, 4, o.prog.Reviews)
	assert.Equal(t, []string{"1 of 5 reviewers failed (first: review 3 of 5: no usable reply in 3 tries: Overall is missing); the review rests on the other 4"}, o.prog.Warnings)

	// Every member failing: the paper is kept, without a review.
	o = runPaper(t, paperInput(), func(f *paperFake) {
		f.member = func(in activities.ReviewInput) (activities.MemberResult, error) {
			return activities.MemberResult{}, temporal.NewNonRetryableApplicationError("no usable reply", activities.ErrTypeUnparsable, nil)
		}
	})
	require.NoError(t, o.err)
	assert.Equal(t, 0, o.prog.Overall)
	assert.NotContains(t, o.calls, "review "+paperKey, "no meta-review without members")
	assert.Equal(t, resultsTo+"/"+paperKey, o.prog.ResultDir)
}

// TestPaperNumbersLoop: numbers that match no run go back to the writer
// until they match; those left after the last round are warnings.
func TestPaperNumbersLoop(t *testing.T) {
	fixed := runPaper(t, paperInput(), func(f *paperFake) {
		f.numbers = func(in activities.NumbersInput) activities.NumbersResult {
			if in.Round == 1 {
				return activities.NumbersResult{Checked: 12, Unmatched: 1, Summary: "0.8642 (line 210, Results)"}
			}
			return activities.NumbersResult{Checked: 12}
		}
	})
	require.NoError(t, fixed.err)
	turn := coderCall("writer", "numbers", "numbers-round1", 0, 1, false, "0.8642 (line 210, Results)")
	assert.Equal(t, seq(prepareCall(), implementTurn(), runCall(1, 1, false), nextTurn(1), plotsAndNotes(false), draft(), refine(), turn, "numbers 2",
		"build 1", reviewAndExport()), fixed.calls)
	assert.Equal(t, "12 checked, 0 match no run", fixed.prog.Numbers)
	assert.Empty(t, fixed.prog.Warnings)

	stuck := runPaper(t, paperInput(), func(f *paperFake) {
		f.numbers = func(in activities.NumbersInput) activities.NumbersResult {
			return activities.NumbersResult{Checked: 12, Unmatched: 2, Summary: "0.8642 (line 210, Results); 0.5 (line 3, abstract)"}
		}
	})
	require.NoError(t, stuck.err)
	assert.Contains(t, stuck.calls, "numbers 3")
	assert.NotContains(t, stuck.calls, "numbers 4")
	assert.Equal(t, []string{"2 numbers in the paper match no run result (writeup/numbers.json): 0.8642 (line 210, Results); 0.5 (line 3, abstract)"}, stuck.prog.Warnings)

	noRuns := runPaper(t, paperInput(), func(f *paperFake) {
		f.numbers = func(activities.NumbersInput) activities.NumbersResult {
			return activities.NumbersResult{NoRuns: true, Summary: "no run_*/final_info.json in /ws: nothing to check the paper's numbers against"}
		}
	})
	require.NoError(t, noRuns.err)
	assert.Equal(t, []string{"numbers not checked: no run_*/final_info.json in /ws: nothing to check the paper's numbers against"}, noRuns.prog.Warnings)
}

// TestPaperImprovement: --improvement sends the review back to the writer,
// builds <Name>_improved.pdf and reviews it into review_improved.txt.
func TestPaperImprovement(t *testing.T) {
	in := paperInput()
	in.Improvement = true
	in.Review = activities.ReviewSpec{Model: "reviewer-x", Ensemble: 2}
	var metas []activities.MetaInput
	o := runPaper(t, in, func(f *paperFake) {
		f.meta = func(in activities.MetaInput) { metas = append(metas, in) }
	})
	require.NoError(t, o.err)
	improve := coderCall("writer", "improve", "improve", 0, 1, false, "")
	assert.Equal(t, seq(prepareCall(), implementTurn(), runCall(1, 1, false), nextTurn(1), plotsAndNotes(false), writeup(), "build 1", "review "+paperKey,
		improve, "numbers 1", "build_improved 1", "review "+paperKey+" review_improved (alpha_improved.pdf)", "export "+resultsTo+" "+folder), o.calls)
	assert.Contains(t, o.stages, "improvement")
	assert.Equal(t, "/ws/"+paperKey+"/alpha_improved.pdf", o.prog.ImprovedPDF)
	assert.Equal(t, 6, o.prog.ImprovedOverall)
	require.Len(t, metas, 2)
	assert.Equal(t, "reviewer-x", metas[1].Spec.Model)
}
