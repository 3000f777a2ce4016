package workflows

import (
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/aiscientist/aiscientist/activities"
	"github.com/aiscientist/aiscientist/internal/llm"
	"github.com/aiscientist/aiscientist/internal/paper"
)

// Stages of a paper, in order.
const (
	StageSetup       = "setup"
	StageBaseline    = "baseline"
	StageExperiments = "experiments"
	StagePlots       = "plots"
	StageNotes       = "notes"
	StageWriteup     = "writeup"
	StageLatex       = "latex"
	StageReview      = "review"
	StageExport      = "export"
	StageDone        = "done"
	StageFailed      = "failed"
)

// ProgressQuery is the query name every workflow answers.
const ProgressQuery = "progress"

// PaperInput starts one paper.
type PaperInput struct {
	Paper         activities.PaperRef
	Idea          paper.Idea
	Quick         bool
	RerunBaseline bool // run run_0 here instead of using the template's
	// TemplateBaseline keeps the template's checked-in run_0 for a full
	// paper instead of the experiment host's own (see run).
	TemplateBaseline bool
	MaxRuns          int           // default 5
	MaxRunAttempts   int           // attempts per run, default 4 (every run alike)
	RunTimeout       time.Duration // default 2 h
	PlotTimeout      time.Duration // default 10 min
	LatexRounds      int           // check/compile rounds, default 5
	ResultsDir       string        // export root; empty: no export
	Folder           string        // <YYYYMMDD_HHMMSS>_<Name>
	// BudgetUSD limits this paper's model spending (0: no limit of its own).
	BudgetUSD float64
	// GrantUSD is the campaign's share for this paper (0: none); the
	// campaign raises it with a signal as money frees up.
	GrantUSD float64
	// HostTimeout: an experiment host that does not pick up its queued work
	// within it is taken for dead, and the run moves (default 5 min).
	HostTimeout time.Duration
	// HostWait: how long to wait for any experiment host at all (default 24 h).
	HostWait time.Duration
}

func (in *PaperInput) defaults() {
	if in.MaxRuns <= 0 {
		in.MaxRuns = 5
	}
	if in.MaxRunAttempts <= 0 {
		in.MaxRunAttempts = 4
	}
	if in.RunTimeout <= 0 {
		in.RunTimeout = 2 * time.Hour
	}
	if in.PlotTimeout <= 0 {
		in.PlotTimeout = 10 * time.Minute
	}
	if in.LatexRounds <= 0 {
		in.LatexRounds = 5
	}
	if in.HostTimeout <= 0 {
		in.HostTimeout = 5 * time.Minute
	}
	if in.HostWait <= 0 {
		in.HostWait = 24 * time.Hour
	}
}

// RunStatus is one experiment run as the progress query reports it.
type RunStatus struct {
	Run      int    `json:"run"`
	Attempts int    `json:"attempts"`
	OK       bool   `json:"ok"`
	Error    string `json:"error,omitempty"`
	Seconds  int    `json:"seconds,omitempty"`
	Cached   bool   `json:"cached,omitempty"` // a baseline the host had computed before
	// Change is the coder's account of the last attempt's change; every
	// attempt's full record is in the paper's logs/executions.jsonl.
	Change string `json:"change,omitempty"`
}

// PaperProgress answers the progress query.
type PaperProgress struct {
	Paper     string       `json:"paper"`
	Idea      string       `json:"idea"`
	Title     string       `json:"title"`
	Template  string       `json:"template"`
	Model     string       `json:"model"`
	Stage     string       `json:"stage"`
	State     string       `json:"state"` // running, completed, failed
	Run       int          `json:"run"`
	Attempt   int          `json:"attempt"`
	Host      string       `json:"host,omitempty"` // experiment host of the runs
	Device    int          `json:"device"`
	Runs      []RunStatus  `json:"runs"`
	Tokens    llm.Usage    `json:"tokens"`
	Budget    BudgetStatus `json:"budget"` // computed when queried and at the end
	Figures   int          `json:"figures"`
	PDF       string       `json:"pdf,omitempty"`
	Overall   int          `json:"overall,omitempty"`
	Decision  string       `json:"decision,omitempty"`
	Workspace string       `json:"workspace,omitempty"`
	ResultDir string       `json:"result_dir,omitempty"`
	Warnings  []string     `json:"warnings,omitempty"`
	Error     string       `json:"error,omitempty"`
	// Stages of the reference system this build cannot run yet, shown so
	// nobody mistakes their absence for a pass.
	NoveltyCheck   string `json:"novelty_check"`
	CitationSearch string `json:"citation_search"`
}

// PaperResult is what a finished paper returns.
type PaperResult struct {
	Progress PaperProgress
}

// PaperWorkflow runs one idea through experiments, plots, notes, write-up,
// LaTeX build, review and export. Every side effect is an activity working
// on the paper's workspace; the history holds only references and small
// results, so it stays far below Temporal's limits.
func PaperWorkflow(ctx workflow.Context, in PaperInput) (PaperResult, error) {
	in.defaults()
	p := &paperRun{in: in, ref: in.Paper, prog: PaperProgress{
		Paper: workflow.GetInfo(ctx).WorkflowExecution.ID, Idea: in.Idea.Name, Title: in.Idea.Title,
		Template: in.Paper.Template, Model: in.Paper.Model, State: "running",
		NoveltyCheck: "off (not implemented yet)", CitationSearch: "off (not implemented yet)",
	}}
	if parent := workflow.GetInfo(ctx).ParentWorkflowExecution; parent != nil {
		p.parent = parent.ID
	}
	if err := workflow.SetQueryHandler(ctx, ProgressQuery, func() (PaperProgress, error) {
		out := p.prog
		out.Budget = p.budgetStatus() // spending changes with every model call
		return out, nil
	}); err != nil {
		return PaperResult{}, err
	}
	if err := p.setupBudget(ctx); err != nil {
		return PaperResult{}, err
	}
	listenPause(ctx, &p.paused, nil)
	err := p.run(ctx)
	p.prog.Budget = p.budgetStatus()
	if temporal.IsCanceledError(err) {
		// Cancelled or skipped by a person: the workspace stays as it is.
		p.prog.State, p.prog.Error = StateCancelled, fmt.Sprintf("cancelled during %s", p.prog.Stage)
		dctx, _ := workflow.NewDisconnectedContext(ctx)
		p.upsertStage(dctx, StateCancelled)
		// The progress rides along so a campaign still learns the cost.
		return PaperResult{Progress: p.prog}, temporal.NewCanceledError(p.prog)
	}
	if err != nil {
		p.prog.State, p.prog.Error = "failed", fmt.Sprintf("%s: %s", p.prog.Stage, rootMessage(err))
		workflow.GetLogger(ctx).Error("paper failed", "stage", p.prog.Stage, "error", p.prog.Error)
		p.upsertStage(ctx, StageFailed)
		// The progress rides along so the campaign still learns the cost.
		return PaperResult{Progress: p.prog}, temporal.NewNonRetryableApplicationError(p.prog.Error, "PaperFailed", err, p.prog)
	}
	p.prog.State = "completed"
	p.setStage(ctx, StageDone)
	return PaperResult{Progress: p.prog}, nil
}

type paperRun struct {
	in     PaperInput
	ref    activities.PaperRef
	prog   PaperProgress
	bud    paperBudget
	parent string                 // the campaign's workflow ID, if any
	acts   *activities.Activities // nil: method values only name the activities
	paused bool                   // pause/unpause signals; honoured between activities
	plan   string                 // the last coder turn's plan: the next run's summary
	// Experiment hosts (routingVersion and later): the reserved host.
	routed   bool
	host     activities.HostInfo
	hostActs *activities.Host
}

func (p *paperRun) setStage(ctx workflow.Context, stage string) {
	p.prog.Stage = stage
	workflow.GetLogger(ctx).Info("paper stage", "paper", p.prog.Paper, "stage", stage)
	p.upsertStage(ctx, stage)
}

// upsertStage publishes a stage with the cost so far: cost rides along with
// each stage change, adding no history events of its own.
func (p *paperRun) upsertStage(ctx workflow.Context, stage string) {
	updates := []temporal.SearchAttributeUpdate{StageKey.ValueSet(stage), CostUSD.ValueSet(p.prog.Tokens.CostUSD)}
	if p.prog.Overall > 0 {
		updates = append(updates, ReviewOverall.ValueSet(int64(p.prog.Overall)))
	}
	_ = workflow.UpsertTypedSearchAttributes(ctx, updates...)
}

func (p *paperRun) run(ctx workflow.Context) error {
	log := workflow.GetLogger(ctx)
	log.Info("novelty check and citation search are off: they arrive with literature search; ideas are not checked against the literature", "paper", p.prog.Paper)
	p.routed = workflow.GetVersion(ctx, routingVersion, workflow.DefaultVersion, 1) >= 1

	p.setStage(ctx, StageSetup)
	if err := workflow.ExecuteActivity(fileOptions(summarize(ctx, "set up the workspace from template %s", p.ref.Template)), p.acts.PreparePaper, activities.PaperSetup{Paper: p.ref, Idea: p.in.Idea}).Get(ctx, &p.prog.Workspace); err != nil {
		return err
	}
	// The template's run_0 was produced once, on some machine, with the full
	// configuration. A quick paper needs a quick baseline; a full paper on
	// an experiment host compares against that host's own run_0 (computed
	// once per host, template and code version, then cached), so baseline
	// and runs share hardware and software.
	hostBaseline := p.routed && !p.in.TemplateBaseline &&
		workflow.GetVersion(ctx, hostBaselineVersion, workflow.DefaultVersion, 1) >= 1
	if p.in.Quick || p.in.RerunBaseline || hostBaseline {
		p.setStage(ctx, StageBaseline)
		if err := p.baseline(ctx); err != nil {
			return err
		}
	}
	p.setStage(ctx, StageExperiments)
	if err := p.experiments(ctx); err != nil {
		return err
	}
	p.setStage(ctx, StagePlots)
	if err := p.plots(ctx); err != nil {
		return err
	}
	p.setStage(ctx, StageNotes)
	notes, err := p.coderTurn(ctx, p.turn("notes", activities.KindNotes, 0, 1, 1, "", false))
	if err != nil {
		return err
	}
	if !notes.Applied {
		p.warn(ctx, "notes on figures were not recorded: "+notes.Feedback)
	}
	p.setStage(ctx, StageWriteup)
	for _, s := range activities.Sections {
		var u llm.Usage
		in := func(b llm.Budget) any { return activities.SectionInput{Paper: p.ref, Section: s.Name, Budget: b} }
		if err := p.callModel(summarize(ctx, "write %s", s.Name), p.acts.WriteSection, in, &u, func() llm.Usage { return u }); err != nil {
			return temporal.NewNonRetryableApplicationError(fmt.Sprintf("write %s: %s", s.Name, rootMessage(err)), "WriteFailed", err)
		}
	}
	p.setStage(ctx, StageLatex)
	if err := p.latex(ctx); err != nil {
		return err
	}
	p.setStage(ctx, StageReview)
	var rev activities.ReviewResult
	in := func(b llm.Budget) any { return activities.ReviewInput{Paper: p.ref, Budget: b} }
	if err := p.callModel(summarize(ctx, "review"), p.acts.ReviewPaper, in, &rev, func() llm.Usage { return rev.Usage }); err != nil {
		return err
	}
	p.prog.Overall, p.prog.Decision = rev.Overall, rev.Decision
	if p.in.ResultsDir != "" {
		p.setStage(ctx, StageExport)
		if err := workflow.ExecuteActivity(fileOptions(summarize(ctx, "export to %s", p.in.ResultsDir)), p.acts.ExportPaper, activities.ExportInput{Paper: p.ref, OutDir: p.in.ResultsDir, Folder: p.in.Folder}).Get(ctx, &p.prog.ResultDir); err != nil {
			return err
		}
	}
	return nil
}

func (p *paperRun) warn(ctx workflow.Context, msg string) {
	workflow.GetLogger(ctx).Warn(msg, "paper", p.prog.Paper)
	p.prog.Warnings = append(p.prog.Warnings, msg)
}

func (p *paperRun) turn(id, kind string, run, attempt, maxAttempts int, reason string, allowDone bool) activities.CoderTurnInput {
	conv := activities.ConvCoder
	if kind == activities.KindLatexFix {
		conv = activities.ConvWriter
	}
	return activities.CoderTurnInput{Paper: p.ref, Conversation: conv, TurnID: id, Kind: kind, Run: run, Attempt: attempt,
		MaxAttempts: maxAttempts, MaxRuns: p.in.MaxRuns, Reason: reason, AllowDone: allowDone}
}

// coderTurn runs one coder turn under the paper's budget.
func (p *paperRun) coderTurn(ctx workflow.Context, in activities.CoderTurnInput) (activities.CoderTurnResult, error) {
	var t activities.CoderTurnResult
	if summaryOf(ctx) == "" {
		ctx = summarize(ctx, "coder: %s", in.TurnID)
	}
	err := p.callModel(ctx, p.acts.CoderTurn, func(b llm.Budget) any { in.Budget = b; return in }, &t, func() llm.Usage { return t.Usage })
	return t, err
}

func (p *paperRun) runExperiment(ctx workflow.Context, run, attempt int) (activities.RunResult, error) {
	p.prog.Run, p.prog.Attempt = run, attempt
	var r activities.RunResult
	plan := p.plan
	if run == 0 {
		plan = "baseline: the template's own code"
	}
	in := activities.RunInput{Paper: p.ref, Run: run, Attempt: attempt, Quick: p.in.Quick, Timeout: p.in.RunTimeout, Plan: plan}
	ctx = summarize(ctx, "run_%d attempt %d: %s", run, attempt, plan)
	if p.routed {
		err := p.onHost(ctx, fmt.Sprintf("run %d attempt %d", run, attempt), p.acts.RunExperiment, in, p.in.RunTimeout, &r)
		return r, err
	}
	err := workflow.ExecuteActivity(runOptions(ctx, p.in.RunTimeout), p.acts.RunExperiment, in).Get(ctx, &r)
	return r, err
}

func (p *paperRun) record(run, attempt int, ok bool, errMsg string, d time.Duration) {
	st := RunStatus{Run: run, Attempts: attempt, OK: ok, Error: errMsg, Seconds: int(d.Seconds())}
	if run > 0 {
		st.Change = p.plan
	}
	for i := range p.prog.Runs {
		if p.prog.Runs[i].Run == run {
			p.prog.Runs[i] = st
			return
		}
	}
	p.prog.Runs = append(p.prog.Runs, st)
}

func (p *paperRun) baseline(ctx workflow.Context) error {
	var last string
	for attempt := 1; attempt <= 2; attempt++ {
		r, err := p.runExperiment(ctx, 0, attempt)
		if err != nil {
			return err
		}
		p.record(0, attempt, r.OK, r.Error, r.Duration)
		if r.OK {
			p.prog.Runs[len(p.prog.Runs)-1].Cached = r.Cached
			return nil
		}
		last = r.Error
	}
	return temporal.NewNonRetryableApplicationError("the template's own baseline failed: "+last, "BaselineFailed", nil)
}

// experiments is the coder loop: implement a run, execute it, feed back the
// results or the error. Every run gets the same number of attempts, a failed
// edit counts as a failed attempt (the unchanged code is never run), and
// ALL_COMPLETED is accepted only after a successful run.
func (p *paperRun) experiments(ctx workflow.Context) error {
	kind, run, attempt, succeeded := activities.KindImplement, 1, 1, 0
	reason, lastErr := "", ""
	for {
		p.prog.Run, p.prog.Attempt = run, attempt
		in := p.turn(fmt.Sprintf("run%d-attempt%d-%s", run, attempt, kind), kind, run, attempt, p.in.MaxRunAttempts, reason, succeeded > 0)
		switch kind {
		case activities.KindNext:
			in.Run = run - 1 // reports the run that just finished
		case activities.KindFix:
			in.Attempt = attempt - 1 // the failed attempt whose log is shown
		}
		t, err := p.coderTurn(ctx, in)
		if err != nil {
			return err
		}
		p.plan = t.Plan
		if t.Done && succeeded > 0 {
			if kind == activities.KindFix || kind == activities.KindEditFailed {
				p.warn(ctx, fmt.Sprintf("the model ended the experiments while run %d was failing: %s", run, lastErr))
			} else {
				p.prog.Run, p.prog.Attempt = run-1, 0 // run was planned, never started
			}
			break
		}
		if !t.Applied {
			lastErr = "edits were not applied: " + t.Feedback
			p.record(run, attempt, false, lastErr, 0)
			kind, reason = activities.KindEditFailed, t.Feedback
		} else {
			r, err := p.runExperiment(ctx, run, attempt)
			if err != nil {
				return err
			}
			p.record(run, attempt, r.OK, r.Error, r.Duration)
			if r.OK {
				succeeded++
				if run == p.in.MaxRuns {
					break
				}
				kind, reason, run, attempt = activities.KindNext, "", run+1, 1
				continue
			}
			lastErr = r.Error
			kind, reason = activities.KindFix, r.Error
		}
		attempt++
		if attempt > p.in.MaxRunAttempts {
			if succeeded > 0 {
				p.warn(ctx, fmt.Sprintf("run %d failed %d times; continuing with the %d successful runs", run, p.in.MaxRunAttempts, succeeded))
			}
			break
		}
	}
	if succeeded == 0 {
		return temporal.NewNonRetryableApplicationError("no experiment run succeeded; last error: "+lastErr, "NoSuccessfulRun", nil)
	}
	return nil
}

// plots asks for plot.py edits and runs it, up to four tries. A paper
// without figures can still be written, so failure here is a warning.
func (p *paperRun) plots(ctx workflow.Context) error {
	const tries = 4
	kind, reason, lastRan := activities.KindPlot, "", 0
	for attempt := 1; attempt <= tries; attempt++ {
		// A fix turn shows the log of the last attempt that really ran.
		t, err := p.coderTurn(summarize(ctx, "coder: plot.py attempt %d", attempt), p.turn(fmt.Sprintf("plot-attempt%d", attempt), kind, 0, lastRan, tries, reason, false))
		if err != nil {
			return err
		}
		if !t.Applied && attempt > 1 {
			reason = "your edits were not applied: " + t.Feedback
			continue
		}
		var r activities.RunResult
		lastRan = attempt
		pin := activities.PlotInput{Paper: p.ref, Attempt: attempt, Quick: p.in.Quick, Timeout: p.in.PlotTimeout, Plan: t.Plan}
		ctx := summarize(ctx, "plot.py attempt %d", attempt)
		if p.routed {
			err = p.onHost(ctx, fmt.Sprintf("plot attempt %d", attempt), p.acts.RunPlot, pin, p.in.PlotTimeout, &r)
		} else {
			err = workflow.ExecuteActivity(runOptions(ctx, p.in.PlotTimeout), p.acts.RunPlot, pin).Get(ctx, &r)
		}
		if err != nil {
			return err
		}
		if r.OK {
			p.prog.Figures = r.Figures
			return nil
		}
		kind, reason = activities.KindPlotFix, r.Error
	}
	p.warn(ctx, fmt.Sprintf("plotting failed %d times; the paper is written without new figures", tries))
	return nil
}

// latex checks and compiles the paper, sending problems back to the model
// between rounds. A PDF with leftover warnings is kept (and reported); no
// PDF at all fails the paper.
func (p *paperRun) latex(ctx workflow.Context) error {
	var b activities.BuildResult
	for round := 1; round <= p.in.LatexRounds; round++ {
		if err := workflow.ExecuteActivity(fileOptions(summarize(ctx, "LaTeX check and build, round %d", round)), p.acts.BuildPDF, activities.BuildInput{Paper: p.ref, Round: round}).Get(ctx, &b); err != nil {
			return err
		}
		if b.OK || round == p.in.LatexRounds {
			break
		}
		t, err := p.coderTurn(ctx, p.turn(fmt.Sprintf("latex-round%d", round), activities.KindLatexFix, 0, round, p.in.LatexRounds, b.Summary, false))
		if err != nil {
			return err
		}
		if t.NoChanges || !t.Applied {
			break // nothing changed, so compiling again would find the same
		}
	}
	if b.PDF == "" {
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("LaTeX produced no PDF after fixing; %d problems remain, first: %s (see latex/problems.txt)", b.Problems, b.Summary), activities.ErrTypeNoPDF, nil)
	}
	p.prog.PDF = b.PDF
	if !b.OK {
		p.warn(ctx, fmt.Sprintf("the PDF was built but %d LaTeX problems remain (latex/problems.txt), first: %s", b.Problems, b.Summary))
	}
	return nil
}

// rootMessage is the message of the first application error in the chain
// (an activity's or a child's own words), without the wrapping layers.
func rootMessage(err error) string {
	var app *temporal.ApplicationError
	if errors.As(err, &app) && app.Message() != "" {
		return app.Message()
	}
	return err.Error()
}
