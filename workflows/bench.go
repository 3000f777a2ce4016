package workflows

import (
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/aiscientist/aiscientist/activities"
	"github.com/aiscientist/aiscientist/internal/llm"
)

// Defaults of a benchmark.
const (
	benchConcurrency = 4
	benchBatch       = 50  // papers per run before continuing as new
	benchErrorsShown = 10  // failed papers named in the progress
	benchTableWait   = 600 // seconds the reviews table may take
)

// BenchReviewWorkflow reviews every paper of a reviewer benchmark with one
// reviewer (starter bench-review run): each paper in its own workspace,
// as a standalone review is done (ensemble, meta-review, reflections),
// several at once. Papers reviewed by an earlier run of the same
// benchmark are skipped; a paper whose review fails is counted and named,
// and the others go on. At the end it writes the reviews table that
// `starter bench-review score` reads. Its spending goes through the budget
// machinery: at the limit it waits for `starter budget <id> --usd N`.
func BenchReviewWorkflow(ctx workflow.Context, in BenchInput) (BenchResult, error) {
	if in.Concurrency <= 0 {
		in.Concurrency = benchConcurrency
	}
	if in.Batch <= 0 {
		in.Batch = benchBatch
	}
	if in.Failed == nil {
		in.Failed = map[string]string{}
	}
	b := &benchRun{in: in, prog: BenchProgress{Bench: workflow.GetInfo(ctx).WorkflowExecution.ID, Model: in.Review.Model,
		State: StateRunning, Total: len(in.Papers), Tokens: in.Spent}}
	b.bud.limit = in.BudgetUSD
	if err := workflow.SetQueryHandler(ctx, ProgressQuery, func() (BenchProgress, error) {
		out := b.prog
		out.Budget = b.budgetStatus()
		return out, nil
	}); err != nil {
		return BenchResult{}, err
	}
	valid := func(c BudgetChange) error { return validLimit(c.LimitUSD, b.prog.Tokens.CostUSD) }
	set := func(c BudgetChange) BudgetStatus {
		b.bud.limit = c.LimitUSD
		b.bud.version++
		return b.budgetStatus()
	}
	if err := handleBudget(ctx, valid, set, grantSignal, func(ch workflow.ReceiveChannel) { ch.Receive(ctx, nil) }); err != nil {
		return BenchResult{}, err
	}
	listenPause(ctx, &b.paused, nil)

	ids := make([]string, len(in.Papers))
	for i, p := range in.Papers {
		ids[i] = p.ID
	}
	var done []string
	key := BenchKey(in.Name)
	if err := workflow.ExecuteActivity(fileOptions(summarize(ctx, "find the papers already reviewed")), acts.BenchDone,
		activities.BenchInput{Key: key, IDs: ids}).Get(ctx, &done); err != nil {
		return BenchResult{}, err
	}
	reviewed := make(map[string]bool, len(done))
	for _, id := range done {
		reviewed[id] = true
	}
	var todo []BenchPaper
	for _, p := range in.Papers {
		if !reviewed[p.ID] && in.Failed[p.ID] == "" {
			todo = append(todo, p)
		}
	}
	b.prog.Reviewed = len(done)
	b.countFailed()
	batch := todo[:min(len(todo), in.Batch)]
	if err := b.review(ctx, key, batch); err != nil {
		if temporal.IsCanceledError(err) {
			return BenchResult{Progress: b.prog}, err
		}
		b.prog.State = StateFailed
		_ = workflow.UpsertTypedSearchAttributes(ctx, StateKey.ValueSet(string(StateFailed)), CostUSD.ValueSet(b.prog.Tokens.CostUSD))
		msg := rootMessage(err) + "; fix it, then run the same command again: the papers reviewed so far are kept"
		return BenchResult{Progress: b.prog}, temporal.NewNonRetryableApplicationError(msg, "BenchFailed", err)
	}
	if len(todo) > len(batch) {
		next := b.in
		next.Spent = b.prog.Tokens
		next.BudgetUSD = b.bud.limit
		return BenchResult{}, workflow.NewContinueAsNewError(ctx, BenchReviewWorkflow, next)
	}

	errs := make([]string, len(ids))
	for i, id := range ids {
		errs[i] = in.Failed[id]
	}
	var table activities.BenchTable
	tctx := fileOptions(summarize(ctx, "write the reviews table"))
	if err := workflow.ExecuteActivity(tctx, acts.WriteBenchReviews, activities.BenchInput{Key: key, IDs: ids, Errors: errs}).Get(ctx, &table); err != nil {
		return BenchResult{Progress: b.prog}, err
	}
	b.prog.Table, b.prog.State = table.Path, StateCompleted
	_ = workflow.UpsertTypedSearchAttributes(ctx, StateKey.ValueSet(string(StateCompleted)), StageKey.ValueSet(string(StageDone)),
		CostUSD.ValueSet(b.prog.Tokens.CostUSD))
	return BenchResult{Progress: b.prog, Table: table}, nil
}

type benchRun struct {
	in      BenchInput
	prog    BenchProgress
	bud     paperBudget
	paused  bool
	running int
}

// review runs the batch, at most in.Concurrency papers at once; together
// they never spend past the budget (each gets its share of what is left).
func (b *benchRun) review(ctx workflow.Context, key string, batch []BenchPaper) error {
	var fatal error
	split := shared{spender: b, n: &b.running}
	for _, p := range batch {
		if err := workflow.Await(ctx, func() bool { return b.running < b.in.Concurrency || fatal != nil }); err != nil {
			return err
		}
		if fatal != nil {
			break
		}
		if err := b.checkpoint(ctx); err != nil {
			return err
		}
		b.running++
		b.prog.Running = b.running
		workflow.Go(ctx, func(gctx workflow.Context) {
			defer func() { b.running--; b.prog.Running = b.running }()
			in := activities.ReviewInput{Paper: activities.PaperRef{Key: key + "/" + p.ID, Name: p.ID, Model: b.in.Review.Model},
				PDF: p.File, Spec: b.in.Review}
			_, _, err := reviewPDF(summarize(gctx, "review %s", p.ID), split, in)
			switch {
			case err == nil:
				b.prog.Reviewed++
			case temporal.IsCanceledError(err) || isModelRefused(err):
				// Cancelled, or a key or model refused: every other paper
				// would fail alike, so the benchmark stops (resumable).
				fatal = err
			default:
				b.in.Failed[p.ID] = rootMessage(err)
				b.countFailed()
				workflow.GetLogger(gctx).Warn("paper not reviewed", "paper", p.ID, "error", rootMessage(err))
			}
		})
	}
	if err := workflow.Await(ctx, func() bool { return b.running == 0 }); err != nil {
		return err
	}
	return fatal
}

func isModelRefused(err error) bool {
	var ae *temporal.ApplicationError
	return errors.As(err, &ae) && ae.Type() == activities.ErrTypeModel
}

// countFailed refreshes the failed count and the first errors, in the
// papers' order (never a map's).
func (b *benchRun) countFailed() {
	b.prog.Failed, b.prog.Errors = 0, nil
	for _, p := range b.in.Papers {
		if why := b.in.Failed[p.ID]; why != "" {
			b.prog.Failed++
			if len(b.prog.Errors) < benchErrorsShown {
				b.prog.Errors = append(b.prog.Errors, p.ID+": "+why)
			}
		}
	}
}

// The benchmark is its reviews' spender.

func (b *benchRun) checkpoint(ctx workflow.Context) error {
	if !b.paused {
		return nil
	}
	b.prog.State = StatePaused
	if err := workflow.Await(ctx, func() bool { return !b.paused }); err != nil {
		return err
	}
	b.prog.State = StateRunning
	return nil
}

func (b *benchRun) budget() llm.Budget {
	return llm.Budget{LimitUSD: b.bud.limit, SpentUSD: b.prog.Tokens.CostUSD}
}

func (b *benchRun) exhausted(bg llm.Budget) string {
	return fmt.Sprintf("budget exhausted: $%.4f spent of $%.4f", bg.SpentUSD, bg.LimitUSD)
}

func (b *benchRun) spend(u llm.Usage) { b.prog.Tokens = b.prog.Tokens.Add(u) }

func (b *benchRun) budgetStatus() BudgetStatus {
	return BudgetStatus{LimitUSD: b.bud.limit, SpentUSD: b.prog.Tokens.CostUSD, Exhausted: b.prog.State == StateBudgetExhausted, Note: b.bud.note}
}

// awaitBudget parks the benchmark until its budget is raised; reviews in
// flight finish what they can first.
func (b *benchRun) awaitBudget(ctx workflow.Context, why string) error {
	seen := b.bud.version
	b.bud.note = why + "; raise it with: starter budget " + b.prog.Bench + " --usd N"
	b.prog.State = StateBudgetExhausted
	_ = workflow.UpsertTypedSearchAttributes(ctx, StateKey.ValueSet(string(StateBudgetExhausted)), CostUSD.ValueSet(b.prog.Tokens.CostUSD))
	if err := workflow.Await(ctx, func() bool { return b.bud.version != seen }); err != nil {
		return err
	}
	b.bud.note = ""
	b.prog.State = StateRunning
	_ = workflow.UpsertTypedSearchAttributes(ctx, StateKey.ValueSet(string(StateRunning)))
	return nil
}
