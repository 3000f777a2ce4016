package workflows

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/aiscientist/aiscientist/activities"
	"github.com/aiscientist/aiscientist/internal/llm"
)

// Activity references: method values on nil pointers name the activities
// (the worker registers the real ones).
var (
	acts     *activities.Activities
	hostActs *activities.Host
	runner   *activities.Runner
)

// maxHostMoves bounds how often one run moves to another host before the
// paper gives up: more means the hosts themselves are failing.
const maxHostMoves = 5

// maxDeviceWaits bounds how often a run is queued again on a host that
// still answers when its device did not start it in time, before the host
// is taken for broken and the run moves.
const maxDeviceWaits = 5

// PaperWorkflow runs one idea through experiments, plots, notes, write-up,
// LaTeX build, review and export. Every side effect is an activity working
// on the paper's workspace; the history holds only references and small
// results, so it stays far below Temporal's limits.
func PaperWorkflow(ctx workflow.Context, in PaperInput) (PaperResult, error) {
	in.defaults()
	p := &paperRun{in: in, ref: in.Paper, prog: PaperProgress{
		Paper: workflow.GetInfo(ctx).WorkflowExecution.ID, Idea: in.Idea.Name, Title: in.Idea.Title,
		Template: in.Paper.Template, Model: in.Paper.Model, State: StateRunning, MaxRuns: in.MaxRuns,
		NoveltyCheck: in.Novelty, CitationSearch: "off (--skip-citations)",
	}}
	if !in.SkipCitations {
		p.prog.CitationSearch = "not yet searched"
	}
	if p.prog.NoveltyCheck == "" {
		p.prog.NoveltyCheck = "not checked (off for its campaign, or started alone)"
	}
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
		p.prog.Error = fmt.Sprintf("cancelled during %s", p.prog.Stage)
		dctx, _ := workflow.NewDisconnectedContext(ctx)
		p.endStage(dctx, "cancelled")
		p.setState(dctx, StateCancelled)
		// The progress rides along so a campaign still learns the cost.
		return PaperResult{Progress: p.prog}, temporal.NewCanceledError(p.prog)
	}
	if err != nil {
		p.prog.Error = fmt.Sprintf("%s: %s", p.prog.Stage, rootMessage(err))
		p.endStage(ctx, "failed")
		workflow.GetLogger(ctx).Error("paper failed", "stage", p.prog.Stage, "error", p.prog.Error)
		p.setState(ctx, StateFailed)
		if p.in.ResultsDir != "" && p.prog.Workspace != "" {
			// What it has, and why it failed, go to the results folder too.
			if eerr := p.export(ctx, p.prog.Error); eerr != nil {
				workflow.GetLogger(ctx).Warn("failed paper not exported", "error", eerr)
			}
		}
		// The progress rides along so the campaign still learns the cost.
		return PaperResult{Progress: p.prog}, temporal.NewNonRetryableApplicationError(p.prog.Error, "PaperFailed", err, p.prog)
	}
	p.prog.State = StateCompleted
	p.setStage(ctx, StageDone)
	return PaperResult{Progress: p.prog}, nil
}

type paperRun struct {
	in     PaperInput
	ref    activities.PaperRef
	prog   PaperProgress
	bud    paperBudget
	parent string // the campaign's workflow ID, if any
	paused bool   // pause/unpause signals; honoured between activities
	plan   string // the last coder turn's plan: the next run's summary
	host   activities.HostInfo
	// A standalone baseline (BaselineWorkflow): pinned keeps its host even
	// when it goes silent; fresh and report go into run_0's input.
	pinned, fresh, report bool
	stageAt               time.Time // when the current stage began
}

// setStage moves to the next stage and publishes it, with the state and
// the cost so far in the same upsert (no history events of their own).
func (p *paperRun) setStage(ctx workflow.Context, stage Stage) {
	p.endStage(ctx, "ok")
	p.prog.Stage, p.stageAt = stage, workflow.Now(ctx)
	workflow.GetLogger(ctx).Info("paper stage", "paper", p.prog.Paper, "stage", stage)
	p.publish(ctx, StageKey.ValueSet(string(stage)))
}

// endStage puts the time spent in the current stage into the worker's
// metrics (aisci_stage_duration_seconds{stage, outcome}) through the SDK's
// handler, which records nothing while a workflow replays.
func (p *paperRun) endStage(ctx workflow.Context, outcome string) {
	if p.stageAt.IsZero() || p.prog.Stage == "" || p.prog.Stage == StageDone {
		return
	}
	workflow.GetMetricsHandler(ctx).WithTags(map[string]string{"stage": string(p.prog.Stage), "outcome": outcome}).
		Timer(StageDurationMetric).Record(workflow.Now(ctx).Sub(p.stageAt))
	p.stageAt = time.Time{}
}

// setState changes and publishes the paper's state; the stage stays.
func (p *paperRun) setState(ctx workflow.Context, state State) {
	p.prog.State = state
	p.publish(ctx)
}

func (p *paperRun) publish(ctx workflow.Context, more ...temporal.SearchAttributeUpdate) {
	updates := append(more, StateKey.ValueSet(string(p.prog.State)), CostUSD.ValueSet(p.prog.Tokens.CostUSD))
	if p.prog.Overall > 0 {
		updates = append(updates, ReviewOverall.ValueSet(int64(p.prog.Overall)))
	}
	_ = workflow.UpsertTypedSearchAttributes(ctx, updates...)
}

func (p *paperRun) run(ctx workflow.Context) error {
	p.setStage(ctx, StageSetup)
	setup := activities.PaperSetup{Paper: p.ref, Idea: p.in.Idea}
	sctx := fileOptions(summarize(ctx, "set up the workspace from template %s", p.ref.Template))
	if err := workflow.ExecuteActivity(sctx, acts.PreparePaper, setup).Get(ctx, &p.prog.Workspace); err != nil {
		return err
	}
	// The template's run_0 was produced once, on some machine, with the full
	// configuration. A quick paper needs a quick baseline; a full paper
	// compares against its experiment host's own run_0 (computed once per
	// host, template and code version, then cached), so baseline and runs
	// share hardware and software, unless TemplateBaseline keeps the
	// template's.
	if p.in.Quick || p.in.RerunBaseline || !p.in.TemplateBaseline {
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
	if err := p.writeup(ctx, activities.PassDraft); err != nil {
		return err
	}
	if !p.in.SkipCitations {
		p.setStage(ctx, StageCitations)
		if err := p.citations(ctx); err != nil {
			return err
		}
	}
	p.setStage(ctx, StageRefine)
	if err := p.writeup(ctx, activities.PassFinal); err != nil {
		return err
	}
	p.setStage(ctx, StageNumbers)
	if err := p.numbers(ctx, ""); err != nil {
		return err
	}
	p.setStage(ctx, StageLatex)
	pdf, err := p.latex(ctx, "")
	if err != nil {
		return err
	}
	p.prog.PDF = pdf
	p.setStage(ctx, StageReview)
	rev, err := p.review(ctx, "", "review")
	if err != nil {
		return err
	}
	if rev != nil {
		p.prog.Overall, p.prog.Decision, p.prog.Reviews = rev.Overall, rev.Decision, rev.Reviews
	}
	if p.in.Improvement {
		p.setStage(ctx, StageImprove)
		if err := p.improve(ctx); err != nil {
			return err
		}
	}
	if p.in.ResultsDir != "" {
		p.setStage(ctx, StageExport)
		if err := p.export(ctx, ""); err != nil {
			return err
		}
	}
	return nil
}

// export copies the workspace to the results folder; failure (the stage
// and error of a failed paper) is written beside it as failure.txt.
func (p *paperRun) export(ctx workflow.Context, failure string) error {
	ectx := fileOptions(summarize(ctx, "export to %s", p.in.ResultsDir))
	export := activities.ExportInput{Paper: p.ref, OutDir: p.in.ResultsDir, Failure: failure}
	return workflow.ExecuteActivity(ectx, acts.ExportPaper, export).Get(ctx, &p.prog.ResultDir)
}

// writeup runs one pass over every section (see activities.WriteSection).
func (p *paperRun) writeup(ctx workflow.Context, pass int) error {
	verb := "write"
	if pass == activities.PassFinal {
		verb = "refine"
	}
	for _, s := range activities.Sections {
		in := activities.SectionInput{Paper: p.ref, Section: s.Name, Pass: pass}
		r, err := callModel(summarize(ctx, "%s %s", verb, s.Name), p, acts.WriteSection, in)
		if err != nil {
			return temporal.NewNonRetryableApplicationError(fmt.Sprintf("%s %s: %s", verb, s.Name, rootMessage(err)), "WriteFailed", err)
		}
		if r.Note != "" {
			p.warn(ctx, r.Note)
		}
	}
	return nil
}

// numbers checks the paper's numbers against the runs and sends those
// that match none back to the writer, NumberRounds checks in all; what
// remains unmatched is a warning (writeup/numbers.json has each number).
// tag tells the improved paper's turns from the first ones.
func (p *paperRun) numbers(ctx workflow.Context, tag string) error {
	var r activities.NumbersResult
	for round := 1; round <= p.in.NumberRounds; round++ {
		nctx := fileOptions(summarize(ctx, "numbers check, round %d", round))
		if err := workflow.ExecuteActivity(nctx, acts.CheckNumbers, activities.NumbersInput{Paper: p.ref, Round: round}).Get(ctx, &r); err != nil {
			return err
		}
		if r.NoRuns {
			p.warn(ctx, "numbers not checked: "+r.Summary)
			return nil
		}
		p.prog.Numbers = fmt.Sprintf("%d checked, %d match no run", r.Checked, r.Unmatched)
		if r.Unmatched == 0 || round == p.in.NumberRounds {
			break
		}
		t, err := p.coderTurn(ctx, p.turn(fmt.Sprintf("numbers%s-round%d", tag, round), activities.KindNumbers, 0, round, p.in.NumberRounds-1, r.Summary, false))
		if err != nil {
			return err
		}
		if !t.Applied || t.NoChanges {
			break // the writer keeps them (and says why in its conversation)
		}
	}
	if r.Unmatched > 0 {
		p.warn(ctx, fmt.Sprintf("%d numbers in the paper match no run result (writeup/numbers.json): %s", r.Unmatched, r.Summary))
	}
	return nil
}

// review reviews pdfSuffix's PDF into <out>.txt. A review that cannot be
// had (every reviewer's reply unreadable) is a warning: the paper exists
// and is exported without it (nil).
func (p *paperRun) review(ctx workflow.Context, pdfSuffix, out string) (*activities.ReviewResult, error) {
	in := activities.ReviewInput{Paper: p.ref, PDF: p.ref.Name + pdfSuffix + ".pdf", Out: out, Spec: p.in.Review}
	rev, notes, err := reviewPDF(ctx, p, in)
	for _, n := range notes {
		p.warn(ctx, n)
	}
	switch {
	case activities.IsUnparsable(err):
		p.warn(ctx, fmt.Sprintf("the review (%s) could not be read: %s; the paper is exported without it (the replies are in reviews/%s/)", out, rootMessage(err), out))
		return nil, nil
	case err != nil:
		return nil, err
	}
	return &rev, nil
}

// improve sends the review back to the writer, rebuilds the paper as
// <Name>_improved.pdf and reviews it into review_improved.txt. The
// original paper and its review stand whatever happens here.
func (p *paperRun) improve(ctx workflow.Context) error {
	if p.prog.Overall == 0 {
		p.warn(ctx, "no improvement step: the paper has no review to improve it from")
		return nil
	}
	t, err := p.coderTurn(ctx, p.turn("improve", activities.KindImprove, 0, 1, 1, "", false))
	if err != nil {
		return err
	}
	if !t.Applied {
		p.warn(ctx, "the improvement was not applied: "+t.Feedback)
		return nil
	}
	if err := p.numbers(ctx, activities.ImprovedSuffix); err != nil {
		return err
	}
	pdf, err := p.latex(ctx, activities.ImprovedSuffix)
	if temporal.IsCanceledError(err) {
		return err
	}
	if err != nil {
		p.warn(ctx, "the improved paper was not built: "+rootMessage(err))
		return nil
	}
	p.prog.ImprovedPDF = pdf
	rev, err := p.review(ctx, activities.ImprovedSuffix, "review_improved")
	if err != nil {
		return err
	}
	if rev != nil {
		p.prog.ImprovedOverall = rev.Overall
	}
	return nil
}

// citations runs the citation rounds: the writer names the most important
// missing citation, the literature is searched, the writer picks among the
// results, their BibTeX enters the bibliography and the writer places the
// \cite commands. A search that cannot be done (every engine down or
// refusing) ends the rounds with a warning: the paper goes on with what
// it has.
func (p *paperRun) citations(ctx workflow.Context) error {
	added, rounds := 0, 0
	var warned []string
	for round := 1; round <= p.in.CitationRounds; round++ {
		rounds = round
		in := activities.CitationInput{Paper: p.ref, Round: round, MaxRounds: p.in.CitationRounds, Engine: p.in.Engine}
		r, err := callModel(summarize(ctx, "citation round %d", round), p, acts.CitationRound, in)
		if temporal.IsCanceledError(err) {
			return err
		}
		if err != nil {
			p.warn(ctx, fmt.Sprintf("citation search stopped in round %d: %s", round, rootMessage(err)))
			break
		}
		if r.Warning != "" && !slices.Contains(warned, r.Warning) {
			warned = append(warned, r.Warning)
			p.warn(ctx, r.Warning)
		}
		if r.Done {
			break
		}
		if len(r.Added) == 0 {
			continue
		}
		added += len(r.Added)
		var list []string
		for _, c := range r.Added {
			list = append(list, fmt.Sprintf("- %s: %s (%d). %s", c.Key, c.Title, c.Year, c.Where))
		}
		turn := p.turn(fmt.Sprintf("cite-round%d", round), activities.KindCite, 0, round, p.in.CitationRounds, strings.Join(list, "\n"), false)
		t, err := p.coderTurn(summarize(ctx, "cite the papers of round %d", round), turn)
		if err != nil {
			return err
		}
		if !t.Applied {
			p.warn(ctx, fmt.Sprintf("the citations of round %d were not placed: %s (the LaTeX checks send unused entries back)", round, t.Feedback))
		}
	}
	p.prog.CitationSearch = fmt.Sprintf("on: %d papers found by search added to the bibliography in %d rounds", added, rounds)
	return nil
}

func (p *paperRun) warn(ctx workflow.Context, msg string) {
	workflow.GetLogger(ctx).Warn(msg, "paper", p.prog.Paper)
	p.prog.Warnings = append(p.prog.Warnings, msg)
}

func (p *paperRun) turn(id, kind string, run, attempt, maxAttempts int, reason string, allowDone bool) activities.CoderTurnInput {
	conv := activities.ConvCoder
	if activities.EditsPaper(kind) {
		conv = activities.ConvWriter
	}
	return activities.CoderTurnInput{Paper: p.ref, Conversation: conv, TurnID: id, Kind: kind, Run: run, Attempt: attempt,
		MaxAttempts: maxAttempts, MaxRuns: p.in.MaxRuns, Reason: reason, AllowDone: allowDone}
}

// coderTurn runs one coder turn under the paper's budget.
func (p *paperRun) coderTurn(ctx workflow.Context, in activities.CoderTurnInput) (activities.CoderTurnResult, error) {
	if summaryOf(ctx) == "" {
		ctx = summarize(ctx, "coder: %s", in.TurnID)
	}
	return callModel(ctx, p, acts.CoderTurn, in)
}

func (p *paperRun) runExperiment(ctx workflow.Context, run, attempt int) (activities.RunResult, error) {
	p.prog.Run, p.prog.Attempt = run, attempt
	plan := p.plan
	if run == 0 {
		plan = "baseline: the template's own code"
	}
	in := activities.RunInput{Paper: p.ref, Run: run, Attempt: attempt, Quick: p.in.Quick, Timeout: p.in.RunTimeout, Plan: plan,
		Fresh: p.fresh && run == 0, Report: p.report && run == 0}
	ctx = summarize(ctx, "run_%d attempt %d: %s", run, attempt, plan)
	// After run r come runs r+1..MaxRuns (the plot needs no device).
	return p.onDevice(ctx, fmt.Sprintf("run %d attempt %d", run, attempt), in, runPriority(p.in.RunOrder, run, p.in.MaxRuns-run))
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
		turn := p.turn(fmt.Sprintf("plot-attempt%d", attempt), kind, 0, lastRan, tries, reason, false)
		t, err := p.coderTurn(summarize(ctx, "coder: plot.py attempt %d", attempt), turn)
		if err != nil {
			return err
		}
		if !t.Applied && attempt > 1 {
			reason = "your edits were not applied: " + t.Feedback
			continue
		}
		lastRan = attempt
		in := activities.PlotInput{Paper: p.ref, Attempt: attempt, Quick: p.in.Quick, Timeout: p.in.PlotTimeout, Plan: t.Plan}
		pctx := summarize(ctx, "plot.py attempt %d", attempt)
		r, err := p.runPlot(pctx, fmt.Sprintf("plot attempt %d", attempt), in)
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
// between rounds, LatexRounds in all. A round whose fix does not apply is
// used up, and the same problems go back in the next; a build happens only
// when the source changed. A PDF with leftover problems is kept (and
// reported), and so is the last PDF built when a later round builds none:
// only a paper that never had a PDF fails here.
func (p *paperRun) latex(ctx workflow.Context, suffix string) (string, error) {
	var b activities.BuildResult
	changed := true // the source differs from the last build
	for round := 1; round <= p.in.LatexRounds; round++ {
		if changed {
			bctx := fileOptions(summarize(ctx, "LaTeX check and build%s, round %d", suffix, round))
			if err := workflow.ExecuteActivity(bctx, acts.BuildPDF, activities.BuildInput{Paper: p.ref, Round: round, Suffix: suffix}).Get(ctx, &b); err != nil {
				return "", err
			}
		}
		if b.OK || round == p.in.LatexRounds {
			break
		}
		t, err := p.coderTurn(ctx, p.turn(fmt.Sprintf("latex%s-round%d", suffix, round), activities.KindLatexFix, 0, round, p.in.LatexRounds, b.Summary, false))
		if err != nil {
			return "", err
		}
		if t.NoChanges && b.PDF != "" && !b.Earlier {
			break // the writer accepts the PDF with its remaining problems
		}
		changed = t.Applied && !t.NoChanges
	}
	if b.PDF == "" {
		msg := fmt.Sprintf("LaTeX produced no PDF after fixing; %d problems remain, first: %s (see latex/problems.txt)", b.Problems, b.Summary)
		return "", temporal.NewNonRetryableApplicationError(msg, activities.ErrTypeNoPDF, nil)
	}
	switch {
	case b.Earlier:
		p.warn(ctx, fmt.Sprintf("the last LaTeX round built no PDF; the paper keeps the PDF of an earlier round (its source is latex/pdf_source.tex); "+
			"%d problems remain (latex/problems.txt), first: %s", b.Problems, b.Summary))
	case !b.OK:
		p.warn(ctx, fmt.Sprintf("the PDF was built but %d LaTeX problems remain (latex/problems.txt), first: %s", b.Problems, b.Summary))
	}
	return b.PDF, nil
}

// onDevice places an experiment run (a baseline or a run) on a device of
// the paper's experiment host, reserving a host first; it is the only way
// experiments run. priority orders the runs waiting for a device (1 first,
// runPriority). A host that stops
// answering (its queued task is never picked up) is dropped and the run
// moves to another; the run's own retries cover a host that answers again.
func (p *paperRun) onDevice(ctx workflow.Context, what string, in activities.RunInput, priority int) (activities.RunResult, error) {
	var out activities.RunResult
	if err := p.checkpoint(ctx); err != nil {
		return out, err
	}
	var avoid string
	var lapsed *int // the device whose queue did not start the run in time
	for moves, waits := 0, 0; moves <= maxHostMoves; {
		if p.host.Host == "" {
			if err := p.reserveHost(ctx, avoid); err != nil {
				return out, err
			}
		}
		var g activities.DeviceGrant
		dreq := activities.DeviceInput{Paper: p.prog.Paper, Run: p.prog.Run, Lapsed: lapsed}
		err := workflow.ExecuteActivity(hostOptions(ctx, p.host.Host, p.in.HostTimeout), hostActs.AcquireDevice, dreq).Get(ctx, &g)
		lapsed = nil
		if err == nil {
			p.prog.Device = g.Device
			// The runs ahead on the device take up to their limit each (ours,
			// as an estimate), and a busy host is not a dead one.
			startTimeout := p.in.HostTimeout + time.Duration(g.Ahead)*(p.in.RunTimeout+5*time.Minute)
			dctx := deviceOptions(ctx, p.host.Host, g.Device, p.in.RunTimeout, startTimeout, priority)
			err = workflow.ExecuteActivity(dctx, runner.RunExperiment, in).Get(ctx, &out)
			if isScheduleToStart(err) && waits < maxDeviceWaits {
				// Runs that came later with a higher priority, or longer than
				// estimated, kept the device. The next AcquireDevice, on the
				// host's own queue, tells a busy host from a dead one.
				waits++
				lapsed = &g.Device
				p.warn(ctx, fmt.Sprintf("%s: device %d of host %s did not start the run within %s; asking the host again", what, g.Device, p.host.Host, startTimeout))
				continue
			}
		}
		if !isScheduleToStart(err) {
			return out, err
		}
		if avoid, err = p.dropHost(ctx, what, p.in.HostTimeout, err); err != nil {
			return out, err
		}
		moves, waits = moves+1, 0
	}
	return out, movedTooOften(what)
}

// runPlot runs plot.py on the paper's host's plot queue: on the host's
// CPUs, beside its runs, so a plot waits for no device (a GPU run can take
// hours) and takes none. A host that does not pick it up is dropped as in
// onDevice.
func (p *paperRun) runPlot(ctx workflow.Context, what string, in activities.PlotInput) (activities.RunResult, error) {
	var out activities.RunResult
	if err := p.checkpoint(ctx); err != nil {
		return out, err
	}
	var avoid string
	for moves := 0; moves <= maxHostMoves; moves++ {
		if p.host.Host == "" {
			if err := p.reserveHost(ctx, avoid); err != nil {
				return out, err
			}
		}
		pctx := plotOptions(ctx, p.host.Host, p.in.PlotTimeout, p.in.HostTimeout)
		err := workflow.ExecuteActivity(pctx, runner.RunPlot, in).Get(ctx, &out)
		if !isScheduleToStart(err) {
			return out, err
		}
		if avoid, err = p.dropHost(ctx, what, p.in.HostTimeout+p.in.PlotTimeout, err); err != nil {
			return out, err
		}
	}
	return out, movedTooOften(what)
}

// dropHost gives up the paper's host, which did not pick up its work
// within waited (timeout), and returns it as the host the next
// reservation avoids. A pinned host has no replacement: the paper stops
// with an error that says what to check.
func (p *paperRun) dropHost(ctx workflow.Context, what string, waited time.Duration, timeout error) (string, error) {
	if p.pinned {
		msg := fmt.Sprintf("%s: host %s did not pick up its work within %s; is a worker running there (worker --host %s)?", what, p.host.Host, waited, p.host.Host)
		return "", temporal.NewNonRetryableApplicationError(msg, "HostSilent", timeout)
	}
	p.warn(ctx, fmt.Sprintf("%s: host %s did not pick up its work within %s; moving to another host", what, p.host.Host, waited))
	avoid := p.host.Host
	p.host = activities.HostInfo{}
	return avoid, nil
}

func movedTooOften(what string) error {
	msg := fmt.Sprintf("%s: moved between hosts %d times without finishing", what, maxHostMoves+1)
	return temporal.NewNonRetryableApplicationError(msg, "HostsFailing", nil)
}

// reserveHost takes the first experiment host that answers on the shared
// queue, asking avoid (a host that went silent) to leave it to another.
func (p *paperRun) reserveHost(ctx workflow.Context, avoid string) error {
	p.prog.Host = "waiting for an experiment host"
	req := activities.ReserveInput{Paper: p.prog.Paper, Avoid: avoid}
	if err := workflow.ExecuteActivity(reserveOptions(ctx, p.in.HostWait), hostActs.ReserveHost, req).Get(ctx, &p.host); err != nil {
		p.prog.Host = ""
		return fmt.Errorf("no experiment host took the paper within %s (start a worker on a GPU or CPU host): %w", p.in.HostWait, err)
	}
	p.prog.Host = p.host.Host
	workflow.GetLogger(ctx).Info("experiment host reserved", "paper", p.prog.Paper, "host", p.host.Host, "devices", len(p.host.Devices))
	return nil
}

func isScheduleToStart(err error) bool {
	var te *temporal.TimeoutError
	return errors.As(err, &te) && te.TimeoutType() == enumspb.TIMEOUT_TYPE_SCHEDULE_TO_START
}

// checkpoint holds a paused paper between two activities. The history only
// changes when a pause really happens (two search-attribute upserts).
func (p *paperRun) checkpoint(ctx workflow.Context) error {
	if !p.paused {
		return nil
	}
	state := p.prog.State
	workflow.GetLogger(ctx).Info("paper paused", "paper", p.prog.Paper, "stage", p.prog.Stage)
	p.setState(ctx, StatePaused)
	if err := workflow.Await(ctx, func() bool { return !p.paused }); err != nil {
		return err
	}
	p.setState(ctx, state)
	workflow.GetLogger(ctx).Info("paper unpaused", "paper", p.prog.Paper, "stage", p.prog.Stage)
	return nil
}

// The paper's budget: the spender of its model calls (see callModel).

func (p *paperRun) budget() llm.Budget {
	return llm.Budget{LimitUSD: p.bud.effective(), SpentUSD: p.prog.Tokens.CostUSD}
}

func (p *paperRun) exhausted(b llm.Budget) string {
	return fmt.Sprintf("budget exhausted: $%.4f spent of $%.4f", b.SpentUSD, b.LimitUSD)
}

func (p *paperRun) spend(u llm.Usage) { p.prog.Tokens = p.prog.Tokens.Add(u) }

func (p *paperRun) budgetStatus() BudgetStatus {
	return BudgetStatus{LimitUSD: p.bud.limit, SpentUSD: p.prog.Tokens.CostUSD, GrantUSD: p.bud.grant,
		Exhausted: p.prog.State == StateBudgetExhausted, Note: p.bud.note}
}

// setupBudget registers the budget update/signal and the campaign's grants.
func (p *paperRun) setupBudget(ctx workflow.Context) error {
	p.bud.limit, p.bud.grant = p.in.BudgetUSD, p.in.GrantUSD
	valid := func(c BudgetChange) error { return validLimit(c.LimitUSD, p.prog.Tokens.CostUSD) }
	set := func(c BudgetChange) BudgetStatus {
		p.bud.limit = c.LimitUSD
		p.bud.version++
		st := p.budgetStatus()
		if p.bud.grant > 0 && p.bud.grant <= p.prog.Tokens.CostUSD {
			st.Note = "the campaign's share for this paper is spent too: raise the campaign's budget"
		}
		return st
	}
	return handleBudget(ctx, valid, set, grantSignal, func(ch workflow.ReceiveChannel) {
		var g float64
		ch.Receive(ctx, &g)
		p.bud.grant = g
		p.bud.version++
	})
}

// awaitBudget parks the paper until its budget changes.
func (p *paperRun) awaitBudget(ctx workflow.Context, why string) error {
	seen := p.bud.version
	p.bud.note = why + "; raise it with: starter budget " + p.prog.Paper + " --usd N"
	if p.bud.campaignBinds() {
		p.bud.note = why + "; this paper's share of the campaign budget is spent: raise it with: starter budget " + p.parent + " --usd N"
	}
	workflow.GetLogger(ctx).Warn("paper stopped at its budget", "paper", p.prog.Paper, "reason", why)
	p.setState(ctx, StateBudgetExhausted)
	p.tellCampaign(ctx, true)
	if err := workflow.Await(ctx, func() bool { return p.bud.version != seen }); err != nil {
		return err
	}
	p.bud.note = ""
	p.setState(ctx, StateRunning)
	p.tellCampaign(ctx, false)
	workflow.GetLogger(ctx).Info("paper budget raised", "paper", p.prog.Paper, "limit", p.bud.effective())
	return nil
}

// tellCampaign lets the parent campaign show which papers wait for money.
func (p *paperRun) tellCampaign(ctx workflow.Context, exhausted bool) {
	if p.parent == "" {
		return
	}
	n := paperBudgetNotice{Paper: p.prog.Paper, Exhausted: exhausted, SpentUSD: p.prog.Tokens.CostUSD, LimitUSD: p.bud.limit}
	if err := workflow.SignalExternalWorkflow(ctx, p.parent, "", paperBudgetSignal, n).Get(ctx, nil); err != nil {
		workflow.GetLogger(ctx).Warn("could not tell the campaign about the budget", "error", err)
	}
}
