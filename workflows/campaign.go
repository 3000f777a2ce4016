package workflows

import (
	"errors"
	"fmt"
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
	SkipIdeaGeneration bool // use the template's seed ideas
	Reflections        int  // idea self-reflection rounds, default 3
	Parallel           int  // papers at once, default 1
	ResultsDir         string
	// Stamp (YYYYMMDD_HHMMSS) names result folders; default: workflow start time.
	Stamp string
	// Paper settings passed on to every paper (zero: paper defaults).
	MaxRuns    int
	RunTimeout time.Duration
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
}

// CampaignProgress answers the progress query.
type CampaignProgress struct {
	Campaign     string       `json:"campaign"`
	Template     string       `json:"template"`
	Model        string       `json:"model"`
	Stage        string       `json:"stage"` // preflight, ideas, papers, done
	State        string       `json:"state"`
	Ideas        []IdeaStatus `json:"ideas"`
	Tokens       llm.Usage    `json:"tokens"` // ideation only; papers report their own
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
	prog := CampaignProgress{Campaign: info.WorkflowExecution.ID, Template: in.Template, Model: in.Model, State: "running",
		NoveltyCheck: "off (not implemented yet)"}
	if err := workflow.SetQueryHandler(ctx, ProgressQuery, func() (CampaignProgress, error) { return prog, nil }); err != nil {
		return prog, err
	}
	log := workflow.GetLogger(ctx)
	stage := func(s string) {
		prog.Stage = s
		_ = workflow.UpsertTypedSearchAttributes(ctx, StageKey.ValueSet(s))
	}
	fail := func(err error) (CampaignProgress, error) {
		prog.State, prog.Error = "failed", fmt.Sprintf("%s: %s", prog.Stage, rootMessage(err))
		_ = workflow.UpsertTypedSearchAttributes(ctx, StageKey.ValueSet(StageFailed))
		return prog, temporal.NewNonRetryableApplicationError(prog.Error, "CampaignFailed", err)
	}
	var acts *activities.Activities

	stage("preflight")
	if err := workflow.ExecuteActivity(fileOptions(ctx), acts.Preflight, activities.PreflightInput{Template: in.Template, Model: in.Model, NeedBaseline: !in.Quick}).Get(ctx, nil); err != nil {
		return fail(err)
	}

	stage("ideas")
	log.Info("novelty check is off: literature search is not implemented yet, so ideas are not checked against published work")
	campaignKey := in.Template + "/" + in.Stamp
	var ideas []paper.Idea
	lastErr := ""
	for i := 0; i < in.NumIdeas; i++ {
		var r activities.IdeaResult
		err := workflow.ExecuteActivity(llmOptions(ctx), acts.GenerateIdea, activities.IdeaInput{
			CampaignKey: campaignKey, Template: in.Template, Model: in.Model, Index: i,
			Reflections: in.Reflections, FromSeeds: in.SkipIdeaGeneration,
		}).Get(ctx, &r)
		if err != nil {
			// One unusable idea must not sink the campaign.
			log.Warn("idea generation failed", "index", i, "error", err)
			lastErr = rootMessage(err)
			prog.Ideas = append(prog.Ideas, IdeaStatus{Name: fmt.Sprintf("idea_%d", i), State: "failed", Error: lastErr})
			continue
		}
		prog.Tokens = prog.Tokens.Add(r.Usage)
		if r.Exhausted {
			break
		}
		if r.Duplicate {
			prog.Ideas = append(prog.Ideas, IdeaStatus{Name: r.Idea.Name, Title: r.Idea.Title, State: "skipped", Error: "duplicate of an earlier idea"})
			continue
		}
		ideas = append(ideas, r.Idea)
		prog.Ideas = append(prog.Ideas, IdeaStatus{Name: r.Idea.Name, Title: r.Idea.Title, State: "pending"})
	}
	if len(ideas) == 0 {
		if lastErr == "" {
			lastErr = "every idea repeated an earlier one"
		}
		return fail(fmt.Errorf("no usable idea was generated; last error: %s", lastErr))
	}

	stage("papers")
	type running struct {
		idx    int
		future workflow.ChildWorkflowFuture
	}
	statusOf := func(name string) *IdeaStatus {
		for i := range prog.Ideas {
			if prog.Ideas[i].Name == name && prog.Ideas[i].State != "skipped" && prog.Ideas[i].State != "failed" {
				return &prog.Ideas[i]
			}
		}
		return nil
	}
	var active []running
	next, completed := 0, 0
	for next < len(ideas) || len(active) > 0 {
		for next < len(ideas) && len(active) < in.Parallel {
			idea := ideas[next]
			st := statusOf(idea.Name)
			st.PaperID, st.State = PaperWorkflowID(in.Template, idea.Name), "running"
			folder := in.Stamp + "_" + idea.Name
			ref := activities.PaperRef{Key: in.Template + "/" + folder, Name: idea.Name, Template: in.Template, Model: in.Model}
			cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
				WorkflowID:            st.PaperID,
				WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
				TypedSearchAttributes: temporal.NewSearchAttributes(TemplateKey.ValueSet(in.Template), IdeaNameKey.ValueSet(idea.Name), StageKey.ValueSet(StageSetup)),
				Memo:                  map[string]any{"workspace_key": ref.Key, "campaign": info.WorkflowExecution.ID},
			})
			f := workflow.ExecuteChildWorkflow(cctx, PaperWorkflow, PaperInput{
				Paper: ref, Idea: idea, Quick: in.Quick, MaxRuns: in.MaxRuns, RunTimeout: in.RunTimeout,
				ResultsDir: in.ResultsDir, Folder: folder,
			})
			active = append(active, running{idx: next, future: f})
			next++
		}
		// Wait for any running paper to finish.
		sel := workflow.NewSelector(ctx)
		doneIdx := -1
		for i, r := range active {
			sel.AddFuture(r.future, func(workflow.Future) { doneIdx = i })
		}
		sel.Select(ctx)
		r := active[doneIdx]
		active = append(active[:doneIdx], active[doneIdx+1:]...)
		st := statusOf(ideas[r.idx].Name)
		var res PaperResult
		if err := r.future.Get(ctx, &res); err != nil {
			st.State, st.Error = "failed", rootMessage(err)
			log.Warn("paper failed", "paper", st.PaperID, "error", st.Error)
			continue
		}
		completed++
		st.State, st.Overall, st.Decision, st.Result = "completed", res.Progress.Overall, res.Progress.Decision, res.Progress.ResultDir
	}
	if completed == 0 {
		return fail(errors.New("no paper was completed"))
	}
	stage(StageDone)
	prog.State = "completed"
	return prog, nil
}
