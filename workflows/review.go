package workflows

import (
	"fmt"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/aiscientist/aiscientist/activities"
	"github.com/aiscientist/aiscientist/internal/llm"
)

// reviewPDF reviews one PDF of a workspace as the reference's reviewer
// does: the ensemble's members as concurrent activities, then the
// meta-review with its reflections. A member that fails leaves the others
// to make the review (notes say how many); only when every member fails
// does the review fail, with the first member's error.
func reviewPDF(ctx workflow.Context, s spender, in activities.ReviewInput) (activities.ReviewResult, []string, error) {
	spec := in.Spec.Defaults()
	in.Spec = spec
	type outcome struct {
		res activities.MemberResult
		err error
	}
	results := make([]outcome, spec.Ensemble)
	pending := spec.Ensemble
	split := shared{spender: s, n: &pending}
	for i := 0; i < spec.Ensemble; i++ {
		member := in
		member.Member = i
		workflow.Go(ctx, func(gctx workflow.Context) {
			defer func() { pending-- }()
			r, err := callModel(summarize(gctx, "review %d of %d (%s)", i+1, spec.Ensemble, in.Out), split, acts.ReviewMember, member)
			results[i] = outcome{r, err}
		})
	}
	if err := workflow.Await(ctx, func() bool { return pending == 0 }); err != nil {
		return activities.ReviewResult{}, nil, err
	}
	var notes []string
	var members []int
	var firstErr error
	for i, o := range results {
		if o.err != nil {
			if temporal.IsCanceledError(o.err) {
				return activities.ReviewResult{}, notes, o.err
			}
			if firstErr == nil {
				firstErr = o.err
			}
			continue
		}
		members = append(members, i)
		if o.res.Note != "" && len(notes) == 0 {
			notes = append(notes, o.res.Note)
		}
	}
	if len(members) == 0 {
		return activities.ReviewResult{}, notes, firstErr
	}
	if len(members) < spec.Ensemble {
		notes = append(notes, fmt.Sprintf("%d of %d reviewers failed (first: %s); the review rests on the other %d",
			spec.Ensemble-len(members), spec.Ensemble, rootMessage(firstErr), len(members)))
	}
	mctx := summarize(ctx, "meta-review and reflections (%s)", in.Out)
	res, err := callModel(mctx, s, acts.MetaReview, activities.MetaInput{ReviewInput: in, Members: members})
	return res, notes, err
}

// shared splits what is left of a budget between the calls running at the
// same time (n of them), so that together they never spend past its limit.
type shared struct {
	spender
	n *int
}

func (s shared) budget() llm.Budget {
	b := s.spender.budget()
	if b.Limited() && *s.n > 1 && b.Left() > 0 {
		b.LimitUSD = b.SpentUSD + b.Left()/float64(*s.n)
	}
	return b
}

// ReviewWorkflow reviews one PDF outside a campaign (`starter review
// --pdf`): durable and visible like a paper. The PDF is already in the
// workspace in.Review.Paper.Key (the starter puts it there).
func ReviewWorkflow(ctx workflow.Context, in ReviewWorkflowInput) (ReviewWorkflowResult, error) {
	r := &reviewRun{prog: ReviewProgress{Review: workflow.GetInfo(ctx).WorkflowExecution.ID, PDF: in.Review.PDF,
		Model: in.Review.Spec.Model, State: StateRunning, Stage: StageReview}}
	if r.prog.Model == "" {
		r.prog.Model = in.Review.Paper.Model
	}
	if err := workflow.SetQueryHandler(ctx, ProgressQuery, func() (ReviewProgress, error) { return r.prog, nil }); err != nil {
		return ReviewWorkflowResult{}, err
	}
	listenPause(ctx, &r.paused, nil)
	rev, notes, err := reviewPDF(ctx, r, in.Review)
	r.prog.Notes = notes
	if err != nil {
		r.prog.State, r.prog.Error = StateFailed, rootMessage(err)
		_ = workflow.UpsertTypedSearchAttributes(ctx, StateKey.ValueSet(string(StateFailed)), CostUSD.ValueSet(r.prog.Tokens.CostUSD))
		return ReviewWorkflowResult{}, temporal.NewNonRetryableApplicationError(r.prog.Error, "ReviewFailed", err, r.prog)
	}
	r.prog.State, r.prog.Stage = StateCompleted, StageDone
	_ = workflow.UpsertTypedSearchAttributes(ctx, StateKey.ValueSet(string(StateCompleted)), StageKey.ValueSet(string(StageDone)),
		CostUSD.ValueSet(r.prog.Tokens.CostUSD), ReviewOverall.ValueSet(int64(rev.Overall)))
	return ReviewWorkflowResult{Result: rev, Progress: r.prog}, nil
}

// reviewRun is the standalone review's spender: no budget of its own (the
// reviewer's cost is counted and shown), pause honoured between calls.
type reviewRun struct {
	prog   ReviewProgress
	paused bool
}

func (r *reviewRun) checkpoint(ctx workflow.Context) error {
	return workflow.Await(ctx, func() bool { return !r.paused })
}
func (r *reviewRun) budget() llm.Budget            { return llm.Budget{SpentUSD: r.prog.Tokens.CostUSD} }
func (r *reviewRun) exhausted(b llm.Budget) string { return "budget exhausted" }
func (r *reviewRun) awaitBudget(ctx workflow.Context, why string) error {
	return temporal.NewNonRetryableApplicationError(why, "BudgetExhausted", nil)
}
func (r *reviewRun) spend(u llm.Usage) { r.prog.Tokens = r.prog.Tokens.Add(u) }
