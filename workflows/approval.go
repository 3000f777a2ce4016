package workflows

import (
	"fmt"
	"strings"

	"go.temporal.io/sdk/workflow"
)

// Idea approval. A campaign launched with HoldIdeas holds every new idea
// until a person approves or rejects it with an update; papers start only
// for approved ideas, in order, and the others wait (nothing is spent on
// them meanwhile).
const (
	ApproveUpdate = "approve"
	RejectUpdate  = "reject"
	// StateAwaitingApproval is a held idea's state.
	StateAwaitingApproval = "awaiting approval"
)

// IdeaDecision names the idea (its Name) an approve or reject update is for;
// All approves every idea that waits.
type IdeaDecision struct {
	Idea   string `json:"idea,omitempty"`
	All    bool   `json:"all,omitempty"`
	Reason string `json:"reason,omitempty"` // a rejection's, shown in status
}

// setupApproval registers the approve and reject updates; each answers with
// the names of the ideas it decided.
func (c *campaignRun) setupApproval(ctx workflow.Context) error {
	decide := func(d IdeaDecision, approve bool) []string {
		var done []string
		for i := range c.prog.Ideas {
			st := &c.prog.Ideas[i]
			if st.State != StateAwaitingApproval || !(d.All || st.Name == d.Idea) {
				continue
			}
			if approve {
				st.State = "pending"
			} else {
				st.State, st.Error = "rejected", strings.TrimSpace("rejected by request "+d.Reason)
			}
			done = append(done, st.Name)
		}
		c.raised.SendAsync(true) // wake the papers loop
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
func (c *campaignRun) ideaState(name string) string {
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
	_ = workflow.UpsertTypedSearchAttributes(ctx, StageKey.ValueSet(StateAwaitingApproval))
	if err := workflow.Await(ctx, func() bool { return c.ideaState(idea) != StateAwaitingApproval }); err != nil {
		return err
	}
	c.stage(ctx, c.prog.Stage)
	return nil
}
