// Package workflows holds the deterministic orchestration: a campaign of
// ideas, and one long-running workflow per paper. api.go is the contract;
// campaign.go and paper.go hold one workflow each.
package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/aiscientist/aiscientist/activities"
)

// Registry is what workflows are registered with: a worker or a replayer.
type Registry interface {
	RegisterWorkflowWithOptions(w interface{}, options workflow.RegisterOptions)
}

// RegisterWorkflows adds the workflows under their contract names.
func RegisterWorkflows(r Registry) {
	r.RegisterWorkflowWithOptions(CampaignWorkflow, workflow.RegisterOptions{Name: CampaignWorkflowName})
	r.RegisterWorkflowWithOptions(PaperWorkflow, workflow.RegisterOptions{Name: PaperWorkflowName})
	r.RegisterWorkflowWithOptions(ReviewWorkflow, workflow.RegisterOptions{Name: ReviewWorkflowName})
	r.RegisterWorkflowWithOptions(BaselineWorkflow, workflow.RegisterOptions{Name: BaselineWorkflowName})
	r.RegisterWorkflowWithOptions(BenchReviewWorkflow, workflow.RegisterOptions{Name: BenchWorkflowName})
}

// ActivityRegistry is a worker's activity registration.
type ActivityRegistry interface {
	RegisterActivity(a interface{})
}

// Register sets up the orchestration queue's worker: the workflows and the
// activities that are not an experiment host's (model calls, files, LaTeX,
// review). Experiment runs are registered only on device queues.
func Register(w interface {
	Registry
	ActivityRegistry
}, acts *activities.Activities) {
	RegisterWorkflows(w)
	w.RegisterActivity(acts)
}
