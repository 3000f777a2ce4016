package workflows

import (
	"fmt"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/aiscientist/aiscientist/activities"
)

// BaselineWorkflow runs a template's own experiment.py as run_0 on an
// experiment host, the way a paper's baseline runs (same workspace layout,
// same device queues, same sandbox), so the host keeps it in its baseline
// cache and its later papers of that template and configuration copy it
// instead of running it. A person starts it once per host before the first
// full paper (starter templates baseline), since a full baseline can take
// hours. Its progress is a paper's, with stages setup and baseline.
func BaselineWorkflow(ctx workflow.Context, in BaselineInput) (BaselineResult, error) {
	ref := activities.PaperRef{Key: BaselineKey(in.Template, in.Stamp, in.Quick), Name: "baseline", Template: in.Template}
	p := &paperRun{in: PaperInput{Paper: ref, Quick: in.Quick, RunTimeout: in.RunTimeout, HostTimeout: in.HostTimeout, HostWait: in.HostWait},
		ref: ref, fresh: in.Rerun, report: true,
		prog: PaperProgress{Paper: workflow.GetInfo(ctx).WorkflowExecution.ID, Idea: "baseline", Title: "Baseline of template " + in.Template,
			Template: in.Template, Model: "none (a baseline calls no model)", State: StateRunning,
			NoveltyCheck: "none (a baseline)", CitationSearch: "none (a baseline)"}}
	if err := workflow.SetQueryHandler(ctx, ProgressQuery, func() (PaperProgress, error) { return p.prog, nil }); err != nil {
		return BaselineResult{}, err
	}
	res, err := p.standaloneBaseline(ctx, in)
	if err != nil {
		p.prog.Error = fmt.Sprintf("%s: %s", p.prog.Stage, rootMessage(err))
		p.setState(ctx, StateFailed)
		return res, temporal.NewNonRetryableApplicationError(p.prog.Error, "BaselineFailed", err)
	}
	p.prog.State = StateCompleted
	p.setStage(ctx, StageDone)
	return res, nil
}

func (p *paperRun) standaloneBaseline(ctx workflow.Context, in BaselineInput) (BaselineResult, error) {
	p.setStage(ctx, StageSetup)
	var ws activities.BaselineWorkspace
	sctx := fileOptions(summarize(ctx, "set up a baseline workspace from template %s", in.Template))
	if err := workflow.ExecuteActivity(sctx, acts.PrepareBaseline, activities.BaselineSetup{Paper: p.ref}).Get(ctx, &ws); err != nil {
		return BaselineResult{}, err
	}
	p.prog.Workspace = ws.Dir
	if p.in.RunTimeout <= 0 {
		p.in.RunTimeout = ws.RunTimeout // the template's own limit, if any
	}
	p.in.defaults()
	if in.Host != "" {
		p.host, p.pinned = activities.HostInfo{Host: in.Host}, true
		p.prog.Host = in.Host
	}
	p.setStage(ctx, StageBaseline)
	out := BaselineResult{Workspace: ws.Dir}
	var last string
	for attempt := 1; attempt <= 2; attempt++ {
		r, err := p.runExperiment(ctx, 0, attempt)
		out.Host, out.Device, out.Attempts = p.host.Host, p.prog.Device, attempt
		if err != nil {
			return out, err
		}
		p.record(0, attempt, r.OK, r.Error, r.Duration)
		if r.OK {
			p.prog.Runs[len(p.prog.Runs)-1].Cached = r.Cached
			out.Cached, out.Seconds, out.Cache, out.Results = r.Cached, int(r.Duration.Seconds()), r.Cache, r.Results
			return out, nil
		}
		last = r.Error
	}
	return out, temporal.NewNonRetryableApplicationError("the template's own baseline failed: "+last+" (its logs: "+ws.Dir+"/logs)", "BaselineFailed", nil)
}
