// Package workflows holds the deterministic orchestration: a campaign of
// ideas, and one long-running workflow per paper.
package workflows

import (
	"go.temporal.io/sdk/worker"

	"github.com/aiscientist/aiscientist/activities"
)

// Register adds every workflow and activity to a worker.
func Register(w worker.Registry, acts *activities.Activities) {
	w.RegisterWorkflow(CampaignWorkflow)
	w.RegisterWorkflow(PaperWorkflow)
	w.RegisterActivity(acts)
}
