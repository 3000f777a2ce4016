package main

import (
	"context"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/aiscientist/aiscientist/worker/app"
	"github.com/aiscientist/aiscientist/workflows"
)

// withClient runs fn with a client for the globals' server.
func withClient(cmd *cobra.Command, g *globals, fn func(context.Context, client.Client) error) error {
	ctx := cmd.Context()
	c, err := app.Dial(ctx, g.address, g.namespace, nil) // the one place starter dials
	if err != nil {
		return err
	}
	defer c.Close()
	return fn(ctx, c)
}

// signalCmd is pause and unpause: one signal, on a campaign or a paper.
func signalCmd(g *globals, name, signal, short, done string) *cobra.Command {
	return &cobra.Command{
		Use:   name + " <campaign-or-paper-id>",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withClient(cmd, g, func(ctx context.Context, c client.Client) error {
				if err := c.SignalWorkflow(ctx, args[0], "", signal, nil); err != nil {
					return fmt.Errorf("%s %s: %w", name, args[0], err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: %s\n", args[0], done)
				return nil
			})
		},
	}
}

func pauseCmd(g *globals) *cobra.Command {
	return signalCmd(g, "pause", workflows.PauseSignal,
		"Hold a campaign or paper before its next activity (work in flight finishes first)",
		"paused before its next activity (an experiment or model call in flight finishes first); go on with: starter unpause")
}

func unpauseCmd(g *globals) *cobra.Command {
	return signalCmd(g, "unpause", workflows.UnpauseSignal, "Let a paused campaign or paper go on", "unpaused")
}

func cancelCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "cancel <campaign-or-paper-id>",
		Short: "Cancel a campaign (and its running papers) or one paper; workspaces stay as they are",
		Long: `Cancels the workflow: activities in flight are cancelled (an experiment's
process tree is killed), the paper ends in state "cancelled" and its workspace
stays intact; starter resume <paper-id> continues it later. Cancelling a paper
that belongs to a running campaign counts as a failure there; use starter skip
to drop it on purpose.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withClient(cmd, g, func(ctx context.Context, c client.Client) error {
				if err := c.CancelWorkflow(ctx, args[0], ""); err != nil {
					return fmt.Errorf("cancel %s: %w", args[0], err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: cancellation requested\n", args[0])
				return nil
			})
		},
	}
}

func skipCmd(g *globals) *cobra.Command {
	var campaign string
	cmd := &cobra.Command{
		Use:   "skip <paper-id>",
		Short: "Drop one paper (running or not yet started) without stopping its campaign",
		Long: `Tells the paper's campaign to drop it: a running paper is cancelled (its
workspace stays), a paper not yet started never starts. The campaign goes on
with its other ideas and lists this one as skipped. For a paper that has not
started, there is no workflow to ask for its campaign: pass --campaign.`,
		Example: `  starter skip paper/grokking/weight_decay_grokking
  starter skip paper/grokking/learning_rate_grokking --campaign campaign/grokking/20261125_120000`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withClient(cmd, g, func(ctx context.Context, c client.Client) error {
				if campaign == "" {
					desc, err := c.DescribeWorkflowExecution(ctx, args[0], "")
					if err != nil {
						return fmt.Errorf("paper %s: %w (a paper that has not started yet needs --campaign)", args[0], err)
					}
					if p := desc.GetWorkflowExecutionInfo().GetMemo().GetFields()["campaign"]; p != nil {
						if dc, err := app.DataConverter(); err == nil {
							_ = dc.FromPayload(p, &campaign)
						}
					}
				}
				if campaign == "" {
					return fmt.Errorf("%s belongs to no campaign: use starter cancel", args[0])
				}
				if err := c.SignalWorkflow(ctx, campaign, "", workflows.SkipSignal, args[0]); err != nil {
					return fmt.Errorf("skip %s in %s: %w", args[0], campaign, err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: skip sent to %s\n", args[0], campaign)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&campaign, "campaign", "", "the paper's campaign (default: read from the paper's workflow)")
	return cmd
}

func resumeCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "resume <paper-id>",
		Short: "Continue a failed or cancelled paper from the start of the stage it stopped in",
		Long: `Resets the paper's workflow to the workflow task that began the stage it
failed (or was cancelled) in. Everything before that point stays in its
history, so finished stages and experiment runs are not run again; the stage
itself starts over with fresh attempts, on the workspace as it is. Fix what
made it fail first (a key, a tool, a budget). The workflow ID stays; the old
run remains visible in the Web UI.`,
		Example: `  starter resume paper/grokking/weight_decay_grokking`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withClient(cmd, g, func(ctx context.Context, c client.Client) error {
				ns := g.namespace
				if ns == "" {
					ns = os.Getenv("TEMPORAL_NAMESPACE")
				}
				r, err := app.ResumePaper(ctx, c, ns, args[0])
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: resumed from the start of stage %q (reset to event %d, new run %s)\nfollow it with: starter status %s\n",
					args[0], r.Stage, r.EventID, r.NewRunID, args[0])
				return nil
			})
		},
	}
}

func approveCmd(g *globals) *cobra.Command {
	var all bool
	cmd := &cobra.Command{
		Use:   "approve <campaign-id> [idea-name...]",
		Short: "Approve held ideas of a campaign launched with --hold-ideas; their papers start",
		Example: `  starter approve campaign/grokking/20261125_120000 weight_decay_grokking
  starter approve campaign/grokking/20261125_120000 --all`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if all == (len(args) > 1) {
				return fmt.Errorf("name the ideas to approve, or pass --all")
			}
			decisions := []workflows.IdeaDecision{{All: true}}
			if !all {
				decisions = nil
				for _, name := range args[1:] {
					decisions = append(decisions, workflows.IdeaDecision{Idea: name})
				}
			}
			return decideIdeas(cmd, g, args[0], workflows.ApproveUpdate, "approved", decisions)
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "approve every idea that waits")
	return cmd
}

func rejectCmd(g *globals) *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:     "reject <campaign-id> <idea-name>",
		Short:   "Reject a held idea: its paper never starts",
		Example: `  starter reject campaign/grokking/20261125_120000 learning_rate_grokking --reason "tried before"`,
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return decideIdeas(cmd, g, args[0], workflows.RejectUpdate, string(workflows.StateRejected), []workflows.IdeaDecision{{Idea: args[1], Reason: reason}})
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why, shown in the campaign's status")
	return cmd
}

// decideIdeas sends one approve or reject update per decision; the
// workflow refuses unknown or already decided ideas with the reason.
func decideIdeas(cmd *cobra.Command, g *globals, campaign, update, verb string, ds []workflows.IdeaDecision) error {
	return withClient(cmd, g, func(ctx context.Context, c client.Client) error {
		for _, d := range ds {
			h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
				WorkflowID: campaign, UpdateName: update, Args: []any{d}, WaitForStage: client.WorkflowUpdateStageCompleted,
			})
			var names []string
			if err == nil {
				err = h.Get(ctx, &names)
			}
			if err != nil {
				return fmt.Errorf("%s %s: %w", update, firstNonEmpty(d.Idea, "all"), err)
			}
			if len(names) == 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "%s: no idea was waiting\n", campaign)
			}
			for _, n := range names {
				fmt.Fprintf(cmd.OutOrStdout(), "%s: %s %s\n", campaign, verb, n)
			}
		}
		return nil
	})
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
