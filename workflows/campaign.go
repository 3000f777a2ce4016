package workflows

import (
	"errors"
	"fmt"
	"path"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/aiscientist/aiscientist/activities"
	"github.com/aiscientist/aiscientist/internal/llm"
	"github.com/aiscientist/aiscientist/internal/paper"
)

// CampaignInput is one launch: a template, a model and a number of ideas.
type CampaignInput struct {
	Template           string
	Model              string
	NumIdeas           int
	Quick              bool
	TemplateBaseline   bool // full papers use the template's run_0, not the host's
	SkipIdeaGeneration bool // run stored ideas: the template's seeds, then its idea store
	// HoldIdeas holds each new idea until an approve (or reject) update.
	HoldIdeas   bool
	Reflections int // idea self-reflection rounds, default 3
	Parallel    int // papers at once, default 1
	ResultsDir  string
	// Stamp (YYYYMMDD_HHMMSS) names result folders; default: workflow start time.
	Stamp string
	// Paper settings passed on to every paper (zero: paper defaults).
	MaxRuns    int
	RunTimeout time.Duration
	// HostTimeout: an experiment host silent for this long loses its runs
	// to another (zero: the paper default, 5 min).
	HostTimeout time.Duration
	// BudgetUSD limits the campaign's model spending in total, ideas and
	// papers together; PaperBudgetUSD limits each paper. Zero: no limit.
	BudgetUSD      float64
	PaperBudgetUSD float64
	// HistoryLimit: past this many history events the campaign finishes
	// its running papers, starts no new one, and continues as new (0: when
	// the server suggests it, at about 4,000 events or 4 MB).
	HistoryLimit int
	// Carry is what a campaign that continued as new carries over.
	Carry *CampaignCarry `json:",omitempty"`
}

// CampaignCarry is a campaign's state across continue-as-new: its progress,
// the ideas it keeps and how far it got; no paper is running at that point.
type CampaignCarry struct {
	Prog      CampaignProgress
	Ideas     []paper.Idea
	Next      int // ideas[Next:] have not started
	Completed int
	Finished  float64 // what finished papers spent
	Total     float64 // the budget, raises included
	Paused    bool
}

// IdeaStatus is one idea and its paper as the campaign sees it.
type IdeaStatus struct {
	Name     string `json:"name"`
	Title    string `json:"title"`
	PaperID  string `json:"paper_id,omitempty"`
	State    string `json:"state"` // pending, running, completed, failed, skipped
	Error    string `json:"error,omitempty"`
	Overall  int    `json:"overall,omitempty"`
	Decision string `json:"decision,omitempty"`
	Result   string `json:"result_dir,omitempty"`
	PDF      string `json:"pdf,omitempty"` // in the result folder when exported
	// CostUSD is a finished paper's model spending.
	CostUSD float64 `json:"cost_usd,omitempty"`
}

// CampaignProgress answers the progress query.
type CampaignProgress struct {
	Campaign string       `json:"campaign"`
	Template string       `json:"template"`
	Model    string       `json:"model"`
	Stage    string       `json:"stage"` // preflight, ideas, papers, done
	State    string       `json:"state"`
	Ideas    []IdeaStatus `json:"ideas"`
	Tokens   llm.Usage    `json:"tokens"` // ideation only; papers report their own
	// Budget: SpentUSD counts ideation and finished papers; GrantUSD is what
	// running papers may still spend.
	Budget       BudgetStatus `json:"budget"`
	NoveltyCheck string       `json:"novelty_check"`
	Error        string       `json:"error,omitempty"`
}

// PaperWorkflowID is deterministic and readable, so a paper can be found,
// fetched and resumed by name, and the same idea never runs twice at once.
func PaperWorkflowID(template, idea string) string { return "paper/" + template + "/" + idea }

// CampaignWorkflow generates ideas and runs one child PaperWorkflow each.
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
	info := workflow.GetInfo(ctx)
	carry := in.Carry
	c := &campaignRun{in: in, id: info.WorkflowExecution.ID, total: in.BudgetUSD, prog: CampaignProgress{
		Campaign: info.WorkflowExecution.ID, Template: in.Template, Model: in.Model, State: "running",
		NoveltyCheck: "off (not implemented yet)"}}
	c.raised = workflow.NewBufferedChannel(ctx, 1)
	if k := in.Carry; k != nil {
		c.prog, c.finished, c.total, c.paused = k.Prog, k.Finished, k.Total, k.Paused
		c.prog.State = "running"
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
		c.prog.State, c.prog.Error = "failed", fmt.Sprintf("%s: %s", c.prog.Stage, rootMessage(err))
		c.prog.Budget = c.budgetStatus()
		_ = workflow.UpsertTypedSearchAttributes(ctx, StageKey.ValueSet(StageFailed))
		return c.prog, temporal.NewNonRetryableApplicationError(c.prog.Error, "CampaignFailed", err)
	}
	c.stage(ctx, StageDone)
	c.prog.State = "completed"
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
	version         int    // bumped on every budget change
	note            string // why the campaign waits for money
	raised          workflow.Channel
	active          []*activePaper
	paused          bool
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

// stage publishes a stage with the campaign's known spending (ideas and
// finished papers) in the same upsert.
func (c *campaignRun) stage(ctx workflow.Context, s string) {
	c.prog.Stage = s
	_ = workflow.UpsertTypedSearchAttributes(ctx, StageKey.ValueSet(s), CostUSD.ValueSet(c.spent()))
}

// costPerPaperVersion: campaigns started before it publish CostUSD only with
// stage changes; later ones also when each paper finishes.
const costPerPaperVersion = "campaign-cost-per-paper"

func (c *campaignRun) run(ctx workflow.Context, carry *CampaignCarry) error {
	if carry != nil {
		return c.papers(ctx, carry.Ideas, carry.Next, carry.Completed)
	}
	in := c.in
	log := workflow.GetLogger(ctx)
	var acts *activities.Activities

	c.stage(ctx, "preflight")
	var pre activities.PreflightResult
	if err := workflow.ExecuteActivity(fileOptions(summarize(ctx, "preflight: tools, Python, template, model")), acts.Preflight, activities.PreflightInput{Template: in.Template, Model: in.Model, NeedBaseline: !in.Quick && in.TemplateBaseline}).Get(ctx, &pre); err != nil {
		return err
	}
	if c.in.RunTimeout <= 0 && pre.RunTimeout > 0 {
		c.in.RunTimeout = pre.RunTimeout // the template's own limit
	}

	c.stage(ctx, "ideas")
	log.Info("novelty check is off: literature search is not implemented yet, so ideas are not checked against published work")
	campaignKey := in.Template + "/" + in.Stamp
	var ideas []paper.Idea
	lastErr := ""
	for i := 0; i < in.NumIdeas; i++ {
		if err := c.checkpoint(ctx); err != nil {
			return err
		}
		r, err := c.generateIdea(ctx, activities.IdeaInput{
			CampaignKey: campaignKey, Template: in.Template, Model: in.Model, Index: i,
			Reflections: in.Reflections, FromSeeds: in.SkipIdeaGeneration,
		})
		if err != nil {
			if temporal.IsCanceledError(err) {
				return err
			}
			// One unusable idea must not sink the campaign.
			log.Warn("idea generation failed", "index", i, "error", err)
			lastErr = rootMessage(err)
			c.prog.Ideas = append(c.prog.Ideas, IdeaStatus{Name: fmt.Sprintf("idea_%d", i), State: "failed", Error: lastErr})
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
			c.prog.Ideas = append(c.prog.Ideas, IdeaStatus{Name: r.Idea.Name, Title: r.Idea.Title, State: "skipped", Error: why})
			continue
		}
		ideas = append(ideas, r.Idea)
		state := "pending"
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

	c.stage(ctx, "papers")
	return c.papers(ctx, ideas, 0, 0)
}

// continueAsNewVersion: campaigns started before it never continue as new.
const continueAsNewVersion = "campaign-continue-as-new"

// papers runs one child PaperWorkflow per idea from ideas[next:], in order,
// Parallel at once. When the history grows long it drains (lets the running
// papers finish, starts none) and continues as new with what it has.
func (c *campaignRun) papers(ctx workflow.Context, ideas []paper.Idea, next, completed int) error {
	in := c.in
	canContinue := workflow.GetVersion(ctx, continueAsNewVersion, workflow.DefaultVersion, 1) >= 1
	draining := false
	for next < len(ideas) || len(c.active) > 0 {
		if draining && len(c.active) == 0 {
			return c.continueAsNew(ctx, ideas, next, completed)
		}
		c.rebalance(ctx, len(ideas)-next)
		for !draining && next < len(ideas) && len(c.active) < in.Parallel {
			state := c.ideaState(ideas[next].Name)
			if state == "skipped" || state == "rejected" {
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
			if err := c.awaitRaise(ctx, fmt.Sprintf("budget exhausted: $%.4f of $%.2f spent, %d papers not started", c.spent(), c.total, len(ideas)-next)); err != nil {
				return err
			}
			continue
		}
		// Wait for a paper to finish or the budget to be raised.
		sel := workflow.NewSelector(ctx)
		doneIdx := -1
		for i, r := range c.active {
			sel.AddFuture(r.future, func(workflow.Future) { doneIdx = i })
		}
		if c.total > 0 || in.HoldIdeas {
			sel.AddReceive(c.raised, func(ch workflow.ReceiveChannel, _ bool) { ch.Receive(ctx, nil) })
		}
		sel.Select(ctx)
		if doneIdx < 0 {
			continue // budget raised or a paper asked for money: rebalance
		}
		r := c.active[doneIdx]
		c.active = append(c.active[:doneIdx], c.active[doneIdx+1:]...)
		if c.paperDone(ctx, r) {
			completed++
		}
		if canContinue && !draining && next < len(ideas) && c.historyFull(ctx) {
			workflow.GetLogger(ctx).Info("history is long: finishing the running papers, then continuing as new",
				"events", workflow.GetInfo(ctx).GetCurrentHistoryLength(), "running", len(c.active))
			draining = true
		}
	}
	if completed == 0 {
		return errors.New("no paper was completed")
	}
	return nil
}

// generateIdea asks for one idea under the campaign's budget, waiting for a
// raise when the budget cannot cover it.
func (c *campaignRun) generateIdea(ctx workflow.Context, in activities.IdeaInput) (activities.IdeaResult, error) {
	var acts *activities.Activities
	for {
		if c.total > 0 && c.left() <= 0 {
			if err := c.awaitRaise(ctx, fmt.Sprintf("budget exhausted: $%.4f of $%.2f spent on ideas", c.spent(), c.total)); err != nil {
				return activities.IdeaResult{}, err
			}
			continue
		}
		in.Budget = llm.Budget{LimitUSD: c.total, SpentUSD: c.spent()}
		var r activities.IdeaResult
		err := workflow.ExecuteActivity(llmOptions(summarize(ctx, "idea %d of %d", in.Index+1, c.in.NumIdeas)), acts.GenerateIdea, in).Get(ctx, &r)
		if err == nil {
			c.prog.Tokens = c.prog.Tokens.Add(r.Usage)
			return r, nil
		}
		c.prog.Tokens = c.prog.Tokens.Add(activities.UsageOf(err))
		if !activities.IsBudgetExhausted(err) {
			return r, err
		}
		if err := c.awaitRaise(ctx, rootMessage(err)); err != nil {
			return r, err
		}
	}
}

func (c *campaignRun) startPaper(ctx workflow.Context, idea paper.Idea, grant float64) {
	in := c.in
	st := c.status(idea.Name)
	st.PaperID, st.State = PaperWorkflowID(in.Template, idea.Name), "running"
	folder := in.Stamp + "_" + idea.Name
	ref := activities.PaperRef{Key: in.Template + "/" + folder, Name: idea.Name, Template: in.Template, Model: in.Model}
	cctx, cancel := workflow.WithCancel(ctx)
	cctx = workflow.WithChildOptions(cctx, workflow.ChildWorkflowOptions{
		StaticSummary:         idea.Title,
		StaticDetails:         fmt.Sprintf("Template: %s  \nIdea: %s  \nModel: %s  \nCampaign: %s", in.Template, idea.Name, in.Model, c.id),
		WorkflowID:            st.PaperID,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		TypedSearchAttributes: temporal.NewSearchAttributes(TemplateKey.ValueSet(in.Template), IdeaNameKey.ValueSet(idea.Name), StageKey.ValueSet(StageSetup)),
		Memo:                  map[string]any{"workspace_key": ref.Key, "campaign": c.id},
	})
	f := workflow.ExecuteChildWorkflow(cctx, PaperWorkflow, PaperInput{
		Paper: ref, Idea: idea, Quick: in.Quick, TemplateBaseline: in.TemplateBaseline, MaxRuns: in.MaxRuns, RunTimeout: in.RunTimeout, HostTimeout: in.HostTimeout,
		ResultsDir: in.ResultsDir, Folder: folder, BudgetUSD: in.PaperBudgetUSD, GrantUSD: grant,
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
	if workflow.GetVersion(ctx, costPerPaperVersion, workflow.DefaultVersion, 1) >= 1 {
		_ = workflow.UpsertTypedSearchAttributes(ctx, CostUSD.ValueSet(c.spent()))
	}
	if r.skipped {
		st.State, st.Error = "skipped", "skipped by request"
		return false
	}
	if err != nil {
		st.State, st.Error = "failed", rootMessage(err)
		workflow.GetLogger(ctx).Warn("paper failed", "paper", st.PaperID, "error", st.Error)
		return false
	}
	st.State, st.Overall, st.Decision, st.Result = "completed", res.Progress.Overall, res.Progress.Decision, res.Progress.ResultDir
	st.PDF = res.Progress.PDF
	if st.PDF != "" && st.Result != "" {
		st.PDF = path.Join(st.Result, path.Base(st.PDF))
	}
	return true
}

func (c *campaignRun) status(name string) *IdeaStatus {
	for i := range c.prog.Ideas {
		if c.prog.Ideas[i].Name == name && c.prog.Ideas[i].State != "skipped" && c.prog.Ideas[i].State != "failed" {
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
