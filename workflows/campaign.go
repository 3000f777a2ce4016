package workflows

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/aiscientist/aiscientist/activities"
	"github.com/aiscientist/aiscientist/internal/llm"
	"github.com/aiscientist/aiscientist/internal/paper"
	"github.com/aiscientist/aiscientist/internal/scholar"
)

// CampaignWorkflow generates ideas and runs one child PaperWorkflow each.
// A person steers it with pause/unpause, skip, budget and, for a campaign
// that holds its ideas, approve/reject (see api.go).
func CampaignWorkflow(ctx workflow.Context, in CampaignInput) (CampaignProgress, error) {
	if in.NumIdeas <= 0 {
		in.NumIdeas = 1
	}
	if in.Reflections <= 0 {
		in.Reflections = 3
	}
	if in.Parallel <= 0 {
		in.Parallel = 1
	}
	if in.Stamp == "" {
		in.Stamp = workflow.Now(ctx).UTC().Format("20060102_150405")
	}
	if in.NoveltyRounds <= 0 {
		in.NoveltyRounds = 10
	}
	if in.Engine == "" {
		in.Engine = scholar.SemanticScholar
	}
	info := workflow.GetInfo(ctx)
	carry := in.Carry
	novelty := fmt.Sprintf("on (%s first, then the other engines; up to %d rounds per idea)", in.Engine, in.NoveltyRounds)
	switch {
	case in.SkipNoveltyCheck:
		novelty = "off (--skip-novelty-check)"
	case in.KeepNotNovel:
		novelty += "; ideas judged not novel run too (--keep-not-novel)"
	}
	c := &campaignRun{in: in, id: info.WorkflowExecution.ID, total: in.BudgetUSD, prog: CampaignProgress{
		Campaign: info.WorkflowExecution.ID, Template: in.Template, Model: in.Model, State: StateRunning,
		NoveltyCheck: novelty}}
	if k := in.Carry; k != nil {
		c.prog, c.finished, c.total, c.paused = k.Prog, k.Finished, k.Total, k.Paused
		c.prog.State = StateRunning
		if c.paused {
			c.prog.State = StatePaused
		}
		c.in.Carry, in.Carry = nil, nil // the next continue-as-new builds its own
	}
	if err := workflow.SetQueryHandler(ctx, ProgressQuery, func() (CampaignProgress, error) {
		out := c.prog
		out.Budget = c.budgetStatus()
		return out, nil
	}); err != nil {
		return c.prog, err
	}
	if err := c.setupBudget(ctx); err != nil {
		return c.prog, err
	}
	if err := c.setupApproval(ctx); err != nil {
		return c.prog, err
	}
	listenPause(ctx, &c.paused, c.pauseChanged)
	c.listenSkip(ctx)
	if err := c.run(ctx, carry); err != nil {
		if workflow.IsContinueAsNewError(err) {
			return c.prog, err
		}
		c.prog.Error = fmt.Sprintf("%s: %s", c.prog.Stage, rootMessage(err))
		c.prog.Budget = c.budgetStatus()
		c.setState(ctx, StateFailed)
		return c.prog, temporal.NewNonRetryableApplicationError(c.prog.Error, "CampaignFailed", err)
	}
	c.prog.State = StateCompleted
	c.setStage(ctx, StageDone)
	c.prog.Budget = c.budgetStatus()
	return c.prog, nil
}

type campaignRun struct {
	in   CampaignInput
	id   string
	prog CampaignProgress
	// Money: the total limit (0: none), what finished papers spent, and the
	// grants of running papers. Ideation spending is prog.Tokens.CostUSD.
	total, finished float64
	note            string // why the campaign waits for money
	active          []*activePaper
	paused          bool
	// Counters the papers loop waits on besides its papers: the budget's
	// changes, papers' budget notices, approval decisions.
	version, notices, decisions int
	stageAt                     time.Time // when the current stage began
}

type activePaper struct {
	idea      paper.Idea
	future    workflow.ChildWorkflowFuture
	grant     float64
	limit     float64 // the paper's own limit (0: none), as it last said
	exhausted bool    // the paper said it stopped at its budget
	cancel    workflow.CancelFunc
	skipped   bool // cancelled by a skip signal
}

// setStage publishes a stage with the state and the campaign's known
// spending (ideas and finished papers) in the same upsert.
func (c *campaignRun) setStage(ctx workflow.Context, s Stage) {
	if !c.stageAt.IsZero() && c.prog.Stage != "" {
		workflow.GetMetricsHandler(ctx).WithTags(map[string]string{"stage": string(c.prog.Stage), "outcome": "ok"}).
			Timer(StageDurationMetric).Record(workflow.Now(ctx).Sub(c.stageAt))
	}
	c.prog.Stage, c.stageAt = s, workflow.Now(ctx)
	c.publish(ctx, StageKey.ValueSet(string(s)))
}

// setState changes and publishes the campaign's state; the stage stays.
func (c *campaignRun) setState(ctx workflow.Context, s State) {
	c.prog.State = s
	c.publish(ctx)
}

func (c *campaignRun) publish(ctx workflow.Context, more ...temporal.SearchAttributeUpdate) {
	_ = workflow.UpsertTypedSearchAttributes(ctx, append(more, StateKey.ValueSet(string(c.prog.State)), CostUSD.ValueSet(c.spent()))...)
}

func (c *campaignRun) run(ctx workflow.Context, carry *CampaignCarry) error {
	if carry != nil {
		return c.papers(ctx, carry.Ideas, carry.Next, carry.Completed)
	}
	in := c.in
	log := workflow.GetLogger(ctx)

	c.setStage(ctx, StagePreflight)
	var pre activities.PreflightResult
	check := activities.PreflightInput{Template: in.Template, Model: in.Model, NeedBaseline: !in.Quick && in.TemplateBaseline,
		Budget: in.BudgetUSD > 0 || in.PaperBudgetUSD > 0}
	pctx := fileOptions(summarize(ctx, "preflight: tools, Python, template, model"))
	if err := workflow.ExecuteActivity(pctx, acts.Preflight, check).Get(ctx, &pre); err != nil {
		return err
	}
	if c.in.RunTimeout <= 0 && pre.RunTimeout > 0 {
		c.in.RunTimeout = pre.RunTimeout // the template's own limit
	}

	c.setStage(ctx, StageIdeas)
	campaignKey := in.Template + "/" + in.Stamp
	var ideas []paper.Idea
	lastErr := ""
	for i := 0; i < in.NumIdeas; i++ {
		req := activities.IdeaInput{
			CampaignKey: campaignKey, Template: in.Template, Model: in.Model, Index: i,
			Reflections: in.Reflections, FromSeeds: in.SkipIdeaGeneration,
		}
		r, err := callModel(summarize(ctx, "idea %d of %d", i+1, in.NumIdeas), c, acts.GenerateIdea, req)
		if err != nil {
			if temporal.IsCanceledError(err) {
				return err
			}
			// One unusable idea must not sink the campaign.
			log.Warn("idea generation failed", "index", i, "error", err)
			lastErr = rootMessage(err)
			c.prog.Ideas = append(c.prog.Ideas, IdeaStatus{Name: fmt.Sprintf("idea_%d", i), State: StateFailed, Error: lastErr})
			continue
		}
		if r.Exhausted {
			break
		}
		if r.Duplicate {
			why := "duplicate of an earlier idea"
			if r.DuplicateOf != "" {
				why = "repeats the known idea " + r.DuplicateOf
			}
			c.prog.Ideas = append(c.prog.Ideas, IdeaStatus{Name: r.Idea.Name, Title: r.Idea.Title, State: StateSkipped, Error: why})
			continue
		}
		ideas = append(ideas, r.Idea)
		state := StatePending
		if in.HoldIdeas {
			state = StateAwaitingApproval
		}
		c.prog.Ideas = append(c.prog.Ideas, IdeaStatus{Name: r.Idea.Name, Title: r.Idea.Title, State: state})
	}
	if len(ideas) == 0 {
		if lastErr == "" {
			lastErr = "every idea repeated an earlier one"
		}
		return fmt.Errorf("no usable idea was generated; last error: %s", lastErr)
	}

	if !in.SkipNoveltyCheck {
		c.setStage(ctx, StageNovelty)
		var err error
		if ideas, err = c.checkNovelty(ctx, campaignKey, ideas); err != nil {
			return err
		}
		if len(ideas) == 0 {
			return errors.New("no idea passed the novelty check (see each idea's closest papers in starter status; --keep-not-novel runs them anyway)")
		}
	}

	c.setStage(ctx, StagePapers)
	return c.papers(ctx, ideas, 0, 0)
}

// noveltyOutcome is one idea's novelty check.
type noveltyOutcome struct {
	novel    bool
	closest  []string
	warnings []string
	err      error
}

// checkNovelty checks every idea against the literature at once (the
// engines' rate limiters, not the workflow, pace the searches) and keeps
// the novel ones, in order. An idea whose check failed (the engines were
// down for good) is kept, with the failure shown: it is not known to be
// done before.
func (c *campaignRun) checkNovelty(ctx workflow.Context, key string, ideas []paper.Idea) ([]paper.Idea, error) {
	out := make([]noveltyOutcome, len(ideas))
	running := len(ideas)
	sp := &noveltySpender{campaignRun: c, running: &running}
	for i := range ideas {
		workflow.Go(ctx, func(ctx workflow.Context) {
			defer func() { running-- }()
			out[i] = c.noveltyOf(ctx, sp, key, ideas[i])
		})
	}
	if err := workflow.Await(ctx, func() bool { return running == 0 }); err != nil {
		return nil, err
	}
	var kept []paper.Idea
	for i, idea := range ideas {
		o, st := out[i], c.status(idea.Name)
		closest := ""
		if len(o.closest) > 0 {
			closest = "; closest: " + strings.Join(o.closest, "; ")
		}
		switch {
		case temporal.IsCanceledError(o.err):
			return nil, o.err
		case o.err != nil:
			st.Novelty = "not checked: " + rootMessage(o.err)
			workflow.GetLogger(ctx).Warn("novelty check failed; the idea is kept", "idea", idea.Name, "error", o.err)
			kept = append(kept, idea)
		case o.novel:
			st.Novelty = "novel" + closest
			kept = append(kept, idea)
		case c.in.KeepNotNovel:
			st.Novelty = "not novel, run anyway (--keep-not-novel)" + closest
			kept = append(kept, idea)
		default:
			st.Novelty = "not novel" + closest
			st.State, st.Error = StateNotNovel, "the novelty check found it done before"+closest
		}
		for _, w := range o.warnings {
			st.Novelty += " (" + w + ")"
		}
	}
	return kept, nil
}

// noveltyOf runs one idea's rounds until the model decides.
func (c *campaignRun) noveltyOf(ctx workflow.Context, sp spender, key string, idea paper.Idea) noveltyOutcome {
	var o noveltyOutcome
	for round := 1; round <= c.in.NoveltyRounds; round++ {
		in := activities.NoveltyInput{CampaignKey: key, Template: c.in.Template, Model: c.in.Model, Idea: idea,
			Round: round, MaxRounds: c.in.NoveltyRounds, Engine: c.in.Engine}
		r, err := callModel(summarize(ctx, "novelty of %s, round %d", idea.Name, round), sp, acts.NoveltyRound, in)
		if err != nil {
			o.err = err
			return o
		}
		if r.Warning != "" && !slices.Contains(o.warnings, r.Warning) {
			o.warnings = append(o.warnings, r.Warning)
		}
		if r.Decided {
			o.novel, o.closest = r.Novel, r.Closest
			return o
		}
	}
	return o // not reached: the last round always decides
}

// noveltySpender is the campaign paying for checks that run at once: each
// may spend an equal part of what is left, so together they never pass
// the budget.
type noveltySpender struct {
	*campaignRun
	running *int
}

func (s *noveltySpender) budget() llm.Budget {
	b := s.campaignRun.budget()
	if b.Limited() {
		b.LimitUSD = b.SpentUSD + s.left()/float64(max(*s.running, 1))
	}
	return b
}

// papers runs one child PaperWorkflow per idea from ideas[next:], in order,
// Parallel at once. When the history grows long it drains (lets the running
// papers finish, starts none) and continues as new with what it has.
func (c *campaignRun) papers(ctx workflow.Context, ideas []paper.Idea, next, completed int) error {
	in := c.in
	draining := false
	for next < len(ideas) || len(c.active) > 0 {
		if draining && len(c.active) == 0 {
			return c.continueAsNew(ctx, ideas, next, completed)
		}
		c.rebalance(ctx, len(ideas)-next)
		for !draining && next < len(ideas) && len(c.active) < in.Parallel {
			state := c.ideaState(ideas[next].Name)
			if state == StateSkipped || state == StateRejected {
				next++ // by a skip signal or a reject update
				continue
			}
			if state == StateAwaitingApproval {
				break // papers start in order, each once approved
			}
			if err := c.checkpoint(ctx); err != nil {
				return err
			}
			grant, ok := c.share(min(in.Parallel-len(c.active), len(ideas)-next))
			if !ok {
				break // no money for another paper until one finishes or the budget is raised
			}
			c.startPaper(ctx, ideas[next], grant)
			next++
		}
		if len(c.active) == 0 && next < len(ideas) && c.ideaState(ideas[next].Name) == StateAwaitingApproval {
			if err := c.awaitApproval(ctx, ideas[next].Name); err != nil {
				return err
			}
			continue
		}
		if len(c.active) == 0 && next >= len(ideas) {
			break // the last ideas were skipped or rejected
		}
		if len(c.active) == 0 {
			// Papers remain but the budget cannot start one.
			why := fmt.Sprintf("budget exhausted: $%.4f of $%.2f spent, %d papers not started", c.spent(), c.total, len(ideas)-next)
			if err := c.awaitBudget(ctx, why); err != nil {
				return err
			}
			continue
		}
		// Wait for a paper to finish, or for money or approvals to change
		// what can start.
		done := -1
		seen := [3]int{c.version, c.notices, c.decisions}
		if err := workflow.Await(ctx, func() bool {
			for i, a := range c.active {
				if a.future.IsReady() {
					done = i
					return true
				}
			}
			return [3]int{c.version, c.notices, c.decisions} != seen
		}); err != nil {
			return err
		}
		if done < 0 {
			continue // rebalance, and start what can start
		}
		r := c.active[done]
		c.active = append(c.active[:done], c.active[done+1:]...)
		if c.paperDone(ctx, r) {
			completed++
		}
		if !draining && next < len(ideas) && c.historyFull(ctx) {
			workflow.GetLogger(ctx).Info("history is long: finishing the running papers, then continuing as new",
				"events", workflow.GetInfo(ctx).GetCurrentHistoryLength(), "papers_running", len(c.active))
			draining = true
		}
	}
	if completed == 0 {
		return errors.New("no paper was completed")
	}
	return nil
}

func (c *campaignRun) startPaper(ctx workflow.Context, idea paper.Idea, grant float64) {
	in := c.in
	st := c.status(idea.Name)
	st.PaperID, st.State = PaperWorkflowID(in.Template, idea.Name), StateRunning
	// Each paper's folder has its own start time, as in the reference.
	stamp := workflow.Now(ctx).UTC().Format("20060102_150405")
	ref := activities.PaperRef{Key: in.Template + "/" + stamp + "_" + idea.Name, Name: idea.Name, Template: in.Template, Model: in.Model}
	cctx, cancel := workflow.WithCancel(ctx)
	cctx = workflow.WithChildOptions(cctx, workflow.ChildWorkflowOptions{
		StaticSummary:         idea.Title,
		StaticDetails:         fmt.Sprintf("Template: %s  \nIdea: %s  \nModel: %s  \nCampaign: %s", in.Template, idea.Name, in.Model, c.id),
		WorkflowID:            st.PaperID,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		TypedSearchAttributes: temporal.NewSearchAttributes(TemplateKey.ValueSet(in.Template), IdeaNameKey.ValueSet(idea.Name),
			StageKey.ValueSet(string(StageSetup)), StateKey.ValueSet(string(StateRunning))),
		Memo: map[string]any{"workspace_key": ref.Key, "campaign": c.id},
	})
	f := workflow.ExecuteChildWorkflow(cctx, PaperWorkflow, PaperInput{
		Paper: ref, Idea: idea, Novelty: st.Novelty, SkipCitations: in.SkipCitations, Engine: in.Engine, Review: in.Review, Improvement: in.Improvement, Quick: in.Quick, TemplateBaseline: in.TemplateBaseline, MaxRuns: in.MaxRuns,
		RunTimeout: in.RunTimeout, HostTimeout: in.HostTimeout, RunOrder: in.RunOrder, ResultsDir: in.ResultsDir,
		BudgetUSD: in.PaperBudgetUSD, GrantUSD: grant,
	})
	c.active = append(c.active, &activePaper{idea: idea, future: f, grant: grant, limit: in.PaperBudgetUSD, cancel: cancel})
}

// paperDone records a finished paper; true when it completed.
func (c *campaignRun) paperDone(ctx workflow.Context, r *activePaper) bool {
	st := c.status(r.idea.Name)
	var res PaperResult
	err := r.future.Get(ctx, &res)
	if err != nil {
		// A failed or cancelled paper reports its progress (and so its
		// cost) in the details.
		var app *temporal.ApplicationError
		var cancelled *temporal.CanceledError
		switch {
		case errors.As(err, &app) && app.HasDetails():
			_ = app.Details(&res.Progress)
		case errors.As(err, &cancelled) && cancelled.HasDetails():
			_ = cancelled.Details(&res.Progress)
		}
	}
	st.CostUSD = res.Progress.Tokens.CostUSD
	c.finished += st.CostUSD
	c.publish(ctx)
	if r.skipped {
		st.State, st.Error = StateSkipped, "skipped by request"
		return false
	}
	if err != nil {
		// A failed paper is exported too (with failure.txt), when it got far enough.
		st.State, st.Error, st.Result = StateFailed, rootMessage(err), res.Progress.ResultDir
		workflow.GetLogger(ctx).Warn("paper failed", "paper", st.PaperID, "error", st.Error)
		return false
	}
	st.State, st.Overall, st.Decision, st.Result = StateCompleted, res.Progress.Overall, res.Progress.Decision, res.Progress.ResultDir
	st.PDF = res.Progress.PDF
	if st.PDF != "" && st.Result != "" {
		st.PDF = path.Join(st.Result, path.Base(st.PDF))
	}
	return true
}

// status is the IdeaStatus of a kept idea.
func (c *campaignRun) status(name string) *IdeaStatus {
	for i := range c.prog.Ideas {
		if c.prog.Ideas[i].Name == name && c.prog.Ideas[i].State != StateSkipped && c.prog.Ideas[i].State != StateFailed {
			return &c.prog.Ideas[i]
		}
	}
	return &IdeaStatus{} // not reached: every started idea has a status
}

// historyFull: the server suggests continuing as new, or HistoryLimit is
// passed.
func (c *campaignRun) historyFull(ctx workflow.Context) bool {
	info := workflow.GetInfo(ctx)
	return info.GetContinueAsNewSuggested() || (c.in.HistoryLimit > 0 && info.GetCurrentHistoryLength() > c.in.HistoryLimit)
}

// continueAsNew starts the campaign's next run with its state; no paper is
// running, so nothing is left behind. Update handlers finish first.
func (c *campaignRun) continueAsNew(ctx workflow.Context, ideas []paper.Idea, next, completed int) error {
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return err
	}
	in := c.in
	in.Carry = &CampaignCarry{Prog: c.prog, Ideas: ideas, Next: next, Completed: completed, Finished: c.finished, Total: c.total, Paused: c.paused}
	workflow.GetLogger(ctx).Info("campaign continues as new", "next", next, "of", len(ideas))
	return workflow.NewContinueAsNewError(ctx, CampaignWorkflow, in)
}

// The campaign's budget: the spender of its ideation calls (see callModel)
// and the purse its papers' shares come from.

func (c *campaignRun) budget() llm.Budget { return llm.Budget{LimitUSD: c.total, SpentUSD: c.spent()} }

func (c *campaignRun) exhausted(b llm.Budget) string {
	return fmt.Sprintf("budget exhausted: $%.4f of $%.2f spent on ideas", b.SpentUSD, b.LimitUSD)
}

func (c *campaignRun) spend(u llm.Usage) { c.prog.Tokens = c.prog.Tokens.Add(u) }

func (c *campaignRun) granted() float64 {
	g := 0.0
	for _, a := range c.active {
		g += a.grant
	}
	return g
}

// spent counts ideation and finished papers.
func (c *campaignRun) spent() float64 { return c.prog.Tokens.CostUSD + c.finished }

// left is the money neither spent nor granted to a running paper.
func (c *campaignRun) left() float64 { return c.total - c.spent() - c.granted() }

func (c *campaignRun) budgetStatus() BudgetStatus {
	st := BudgetStatus{LimitUSD: c.total, SpentUSD: c.spent(), GrantUSD: c.granted(), Exhausted: c.prog.State == StateBudgetExhausted}
	if st.Exhausted {
		st.Note = c.note
	}
	return st
}

// share is the grant for each of n papers about to start; false when the
// budget has no money left for a paper.
func (c *campaignRun) share(n int) (float64, bool) {
	if c.total <= 0 {
		return 0, true
	}
	return share(c.left(), n, c.in.PaperBudgetUSD)
}

// rebalance hands out money that is neither spent nor granted (see the
// function of that name) and tells each paper its new share.
func (c *campaignRun) rebalance(ctx workflow.Context, waiting int) {
	if c.total <= 0 || len(c.active) == 0 {
		return
	}
	papers := make([]grantee, len(c.active))
	for i, a := range c.active {
		papers[i] = grantee{grant: a.grant, limit: a.limit, exhausted: a.exhausted}
	}
	grants := rebalance(c.left(), papers, waiting, min(waiting, c.in.Parallel-len(c.active)))
	for i, a := range c.active {
		if grants[i] == a.grant {
			continue
		}
		a.grant = grants[i]
		a.exhausted = false // it says so again if the grant is still too small
		id := PaperWorkflowID(c.in.Template, a.idea.Name)
		if err := workflow.SignalExternalWorkflow(ctx, id, "", grantSignal, a.grant).Get(ctx, nil); err != nil {
			workflow.GetLogger(ctx).Warn("could not raise a paper's share", "paper", id, "error", err)
		}
	}
}

// setupBudget registers the campaign's budget update and signal, and
// listens for papers stopping at their share.
func (c *campaignRun) setupBudget(ctx workflow.Context) error {
	set := func(ch BudgetChange) BudgetStatus {
		c.total = ch.LimitUSD
		c.version++
		return c.budgetStatus()
	}
	valid := func(ch BudgetChange) error {
		if c.in.BudgetUSD <= 0 {
			// Its running papers hold no shares to raise or limit.
			return errors.New("this campaign was started without --budget-usd: set budgets on its papers instead (starter budget paper/... --usd N)")
		}
		if err := validLimit(ch.LimitUSD, c.spent()); err != nil {
			return err
		}
		if g := c.granted(); ch.LimitUSD < c.spent()+g {
			return fmt.Errorf("a budget of $%.2f is below the $%.4f spent plus the $%.4f granted to running papers", ch.LimitUSD, c.spent(), g)
		}
		return nil
	}
	return handleBudget(ctx, valid, set, paperBudgetSignal, func(r workflow.ReceiveChannel) {
		var n paperBudgetNotice
		r.Receive(ctx, &n)
		for _, a := range c.active {
			if PaperWorkflowID(c.in.Template, a.idea.Name) != n.Paper {
				continue
			}
			a.exhausted, a.limit = n.Exhausted, n.LimitUSD
			st := c.status(a.idea.Name)
			st.State = StateRunning
			if n.Exhausted {
				st.State = StateBudgetExhausted
			}
		}
		c.notices++ // the papers loop may have money for it
	})
}

// awaitBudget parks the campaign until its budget changes.
func (c *campaignRun) awaitBudget(ctx workflow.Context, why string) error {
	seen := c.version
	c.note = why + "; raise it with: starter budget " + c.id + " --usd N"
	workflow.GetLogger(ctx).Warn("campaign stopped at its budget", "campaign", c.id, "reason", why)
	c.setState(ctx, StateBudgetExhausted)
	if err := workflow.Await(ctx, func() bool { return c.version != seen }); err != nil {
		return err
	}
	c.note = ""
	c.setState(ctx, c.runningState())
	return nil
}

// Human control: pause, skip, and approval of held ideas. A pause takes
// effect at the next activity boundary: an experiment or model call in
// flight finishes first, and nothing is lost.

// runningState is the state of a campaign that waits for nothing but a
// pause, if any.
func (c *campaignRun) runningState() State {
	if c.paused {
		return StatePaused
	}
	return StateRunning
}

// checkpoint holds a paused campaign before it starts an idea or a paper.
func (c *campaignRun) checkpoint(ctx workflow.Context) error {
	return workflow.Await(ctx, func() bool { return !c.paused })
}

// pauseChanged shows the campaign's pause at once and passes it on to the
// running papers.
func (c *campaignRun) pauseChanged(ctx workflow.Context, paused bool) {
	sig := UnpauseSignal
	if paused {
		sig = PauseSignal
		c.setState(ctx, StatePaused)
	} else if c.prog.State == StatePaused {
		c.setState(ctx, c.runningState())
	}
	for _, r := range c.active {
		id := PaperWorkflowID(c.in.Template, r.idea.Name)
		if err := workflow.SignalExternalWorkflow(ctx, id, "", sig, nil).Get(ctx, nil); err != nil {
			workflow.GetLogger(ctx).Warn("could not pass the signal on to a paper", "signal", sig, "paper", id, "error", err)
		}
	}
}

// listenSkip takes skip signals: a paper ID or an idea name. A pending
// idea is never started, a running paper is cancelled; the campaign goes
// on.
func (c *campaignRun) listenSkip(ctx workflow.Context) {
	ch := workflow.GetSignalChannel(ctx, SkipSignal)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var target string
			if !ch.Receive(ctx, &target) {
				return
			}
			c.skip(ctx, target)
		}
	})
}

func (c *campaignRun) skip(ctx workflow.Context, target string) {
	for _, r := range c.active {
		if r.idea.Name == target || PaperWorkflowID(c.in.Template, r.idea.Name) == target {
			workflow.GetLogger(ctx).Info("skipping a running paper", "idea", r.idea.Name)
			r.skipped = true
			r.cancel()
			return
		}
	}
	for i := range c.prog.Ideas {
		st := &c.prog.Ideas[i]
		if st.State == StatePending && (st.Name == target || PaperWorkflowID(c.in.Template, st.Name) == target) {
			workflow.GetLogger(ctx).Info("skipping a pending idea", "idea", st.Name)
			st.State, st.Error = StateSkipped, "skipped by request"
			return
		}
	}
	workflow.GetLogger(ctx).Warn("skip: no pending or running paper by that name", "target", target)
}

// setupApproval registers the approve and reject updates; each answers with
// the names of the ideas it decided. A campaign launched with HoldIdeas
// holds every new idea until then; papers start only for approved ideas,
// in order, and nothing is spent on the others meanwhile.
func (c *campaignRun) setupApproval(ctx workflow.Context) error {
	decide := func(d IdeaDecision, approve bool) []string {
		var done []string
		for i := range c.prog.Ideas {
			st := &c.prog.Ideas[i]
			if st.State != StateAwaitingApproval || !(d.All || st.Name == d.Idea) {
				continue
			}
			if approve {
				st.State = StatePending
			} else {
				st.State, st.Error = StateRejected, strings.TrimSpace("rejected by request "+d.Reason)
			}
			done = append(done, st.Name)
		}
		c.decisions++ // wake the papers loop
		return done
	}
	valid := func(d IdeaDecision, approve bool) error {
		if d.All && approve {
			return nil
		}
		if d.All {
			return fmt.Errorf("reject ideas one at a time")
		}
		for _, st := range c.prog.Ideas {
			if st.Name == d.Idea {
				if st.State != StateAwaitingApproval {
					return fmt.Errorf("idea %s is %s, not awaiting approval", d.Idea, st.State)
				}
				return nil
			}
		}
		return fmt.Errorf("this campaign has no idea named %q", d.Idea)
	}
	for _, u := range []struct {
		name    string
		approve bool
	}{{ApproveUpdate, true}, {RejectUpdate, false}} {
		if err := workflow.SetUpdateHandlerWithOptions(ctx, u.name,
			func(ctx workflow.Context, d IdeaDecision) ([]string, error) { return decide(d, u.approve), nil },
			workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, d IdeaDecision) error { return valid(d, u.approve) }},
		); err != nil {
			return err
		}
	}
	return nil
}

// ideaState is the campaign's state for an idea it kept.
func (c *campaignRun) ideaState(name string) State {
	// A kept idea always comes before any later repeat of its name.
	for _, st := range c.prog.Ideas {
		if st.Name == name {
			return st.State
		}
	}
	return ""
}

// awaitApproval holds the campaign, with nothing running, until the next
// idea is approved or rejected.
func (c *campaignRun) awaitApproval(ctx workflow.Context, idea string) error {
	workflow.GetLogger(ctx).Info("waiting for approval", "idea", idea)
	state := c.prog.State
	c.setState(ctx, StateAwaitingApproval)
	if err := workflow.Await(ctx, func() bool { return c.ideaState(idea) != StateAwaitingApproval }); err != nil {
		return err
	}
	if c.prog.State == StateAwaitingApproval { // not paused meanwhile
		c.setState(ctx, state)
	}
	return nil
}
