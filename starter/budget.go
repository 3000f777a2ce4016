package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/aiscientist/aiscientist/workflows"
)

func budgetCmd(g *globals) *cobra.Command {
	var usd float64
	cmd := &cobra.Command{
		Use:   "budget <campaign-or-paper-id> --usd N",
		Short: "Set a campaign's total or a paper's own budget; a paper stopped at its budget goes on",
		Example: `  starter budget campaign/grokking/20260101_120000 --usd 40
  starter budget paper/grokking/weight_decay_grokking --usd 12`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if usd <= 0 {
				return errors.New("--usd must be a positive number of US dollars")
			}
			return withClient(cmd, g, func(ctx context.Context, c client.Client) error {
				h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
					WorkflowID: args[0], UpdateName: workflows.BudgetUpdate,
					Args: []any{workflows.BudgetChange{LimitUSD: usd}}, WaitForStage: client.WorkflowUpdateStageCompleted,
				})
				if err != nil {
					return fmt.Errorf("budget of %s: %w", args[0], err)
				}
				var st workflows.BudgetStatus
				if err := h.Get(ctx, &st); err != nil {
					return fmt.Errorf("budget of %s: %w", args[0], err)
				}
				printBudget(cmd.OutOrStdout(), st, strings.HasPrefix(args[0], "campaign/"))
				return nil
			})
		},
	}
	cmd.Flags().Float64Var(&usd, "usd", 0, "the new limit in US dollars (a campaign's total, or one paper's)")
	return cmd
}

// printBudget writes one line: limit, spent, share and any stop note.
func printBudget(w io.Writer, b workflows.BudgetStatus, campaign bool) {
	limit := b.LimitUSD
	if !campaign {
		limit = b.PaperLimit()
	}
	if limit <= 0 {
		fmt.Fprintf(w, "budget: none (spent $%.4f)\n", b.SpentUSD)
		return
	}
	fmt.Fprintf(w, "budget: $%.4f spent of %s", b.SpentUSD, usd(limit))
	switch {
	case b.GrantUSD > 0 && campaign:
		fmt.Fprintf(w, ", $%.4f more granted to running papers", b.GrantUSD)
	case b.GrantUSD > 0 && b.LimitUSD > 0:
		fmt.Fprintf(w, " (its own limit %s, its share of the campaign's budget %s)", usd(b.LimitUSD), usd(b.GrantUSD))
	case b.GrantUSD > 0:
		fmt.Fprintf(w, " (its share of the campaign's budget)")
	}
	fmt.Fprintln(w)
	if b.Note != "" {
		fmt.Fprintf(w, "  %s\n", b.Note)
	}
}

// usd shows cents for large sums and more digits for small ones.
func usd(x float64) string {
	if x >= 10 {
		return fmt.Sprintf("$%.2f", x)
	}
	return fmt.Sprintf("$%.4f", x)
}
