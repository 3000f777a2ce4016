package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/aiscientist/aiscientist/internal/llm"
	"github.com/aiscientist/aiscientist/internal/store"
	"github.com/aiscientist/aiscientist/internal/store/s3store"
	"github.com/aiscientist/aiscientist/worker/app"
	"github.com/aiscientist/aiscientist/workflows"
)

func statusCmd(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status [ID]",
		Short: "Show the stage and state of each paper, or the full progress of one campaign or paper",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withClient(cmd, g, func(ctx context.Context, c client.Client) error {
				return status(cmd, ctx, c, args, asJSON)
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func status(cmd *cobra.Command, ctx context.Context, c client.Client, args []string, asJSON bool) error {
	w := cmd.OutOrStdout()
	if len(args) == 0 {
		rows, err := listRows(cmd, c, fmt.Sprintf("WorkflowType = '%s'", workflows.PaperWorkflowName))
		if err != nil {
			return err
		}
		return printRows(w, rows, asJSON)
	}
	id := args[0]
	var progress any
	switch {
	case strings.HasPrefix(id, "campaign/"):
		progress = &workflows.CampaignProgress{}
	case strings.HasPrefix(id, "review/"):
		progress = &workflows.ReviewProgress{}
	case strings.HasPrefix(id, "bench-review/"):
		progress = &workflows.BenchProgress{}
	default:
		progress = &workflows.PaperProgress{}
	}
	if err := query(ctx, c, id, progress); err != nil {
		// No worker to answer (or an unknown ID): fall back to what
		// the server itself knows.
		rows, lerr := listRows(cmd, c, fmt.Sprintf("WorkflowId = '%s'", strings.ReplaceAll(id, "'", "")))
		if lerr != nil || len(rows) == 0 {
			return fmt.Errorf("workflow %s: %w", id, err)
		}
		fmt.Fprintf(cmd.ErrOrStderr(), "progress query unavailable (%v); showing the server's record\n", err)
		return printRows(w, rows, asJSON)
	}
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(progress)
	}
	return printProgress(w, progress)
}

func listCmd(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List campaigns and papers, newest first",
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withClient(cmd, g, func(ctx context.Context, c client.Client) error {
				q := fmt.Sprintf("WorkflowType IN ('%s', '%s')", workflows.CampaignWorkflowName, workflows.PaperWorkflowName)
				rows, err := listRows(cmd, c, q)
				if err != nil {
					return err
				}
				return printRows(cmd.OutOrStdout(), rows, asJSON)
			})
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

type row struct {
	ID      string `json:"id"`
	Type    string `json:"type"`
	Status  string `json:"status"`
	Stage   string `json:"stage"`
	State   string `json:"state"`
	Started string `json:"started"`
}

func listRows(cmd *cobra.Command, c client.Client, query string) ([]row, error) {
	var rows []row
	var token []byte
	for {
		resp, err := c.ListWorkflow(cmd.Context(), &workflowservice.ListWorkflowExecutionsRequest{Query: query, NextPageToken: token})
		if err != nil {
			return nil, fmt.Errorf("list workflows: %w", err)
		}
		for _, e := range resp.GetExecutions() {
			keyword := func(k temporal.SearchAttributeKeyKeyword) string {
				v := ""
				if p := e.GetSearchAttributes().GetIndexedFields()[k.GetName()]; p != nil {
					_ = converter.GetDefaultDataConverter().FromPayload(p, &v)
				}
				return v
			}
			rows = append(rows, row{
				ID: e.GetExecution().GetWorkflowId(), Type: e.GetType().GetName(),
				Status: strings.TrimPrefix(e.GetStatus().String(), "WORKFLOW_EXECUTION_STATUS_"),
				Stage:  keyword(workflows.StageKey), State: keyword(workflows.StateKey),
				Started: e.GetStartTime().AsTime().Local().Format("2006-01-02 15:04:05"),
			})
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			return rows, nil
		}
	}
}

func printRows(w interface{ Write([]byte) (int, error) }, rows []row, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	if len(rows) == 0 {
		fmt.Fprintln(w, "no workflows")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTYPE\tSTATUS\tSTAGE\tSTATE\tSTARTED")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Type, r.Status, r.Stage, r.State, r.Started)
	}
	return tw.Flush()
}

func printProgress(w interface{ Write([]byte) (int, error) }, p any) error {
	switch v := p.(type) {
	case *workflows.ReviewProgress:
		fmt.Fprintf(w, "review %s of %s  model %s\nstage %s  state %s\ntokens: prompt %d, completion %d, calls %d, cost $%.4f\n",
			v.Review, v.PDF, v.Model, v.Stage, v.State, v.Tokens.PromptTokens, v.Tokens.CompletionTokens, v.Tokens.Calls, v.Tokens.CostUSD)
		for _, n := range v.Notes {
			fmt.Fprintf(w, "note: %s\n", n)
		}
		if v.Error != "" {
			fmt.Fprintf(w, "error: %s\n", v.Error)
		}
	case *workflows.BenchProgress:
		fmt.Fprintf(w, "reviewer benchmark %s  model %s  state %s\n%s\n", v.Bench, v.Model, v.State, benchLine(*v))
		printBudget(w, v.Budget, true)
		for _, e := range v.Errors {
			fmt.Fprintf(w, "not reviewed: %s\n", e)
		}
		if v.Table != "" {
			fmt.Fprintf(w, "reviews table: %s\n", v.Table)
		}
	case *workflows.CampaignProgress:
		fmt.Fprintf(w, "campaign %s  template %s  model %s\nstage %s  state %s  ideation tokens %d ($%.4f)\nnovelty check: %s\n",
			v.Campaign, v.Template, v.Model, v.Stage, v.State, v.Tokens.Total(), v.Tokens.CostUSD, v.NoveltyCheck)
		printBudget(w, v.Budget, true)
		if n := v.Tokens.UnpricedCalls; n > 0 {
			fmt.Fprintf(w, "cost unknown for %d ideation calls: the model has no known price (%s)\n", n, llm.UnpricedHint)
		}
		if v.Error != "" {
			fmt.Fprintf(w, "error: %s\n", v.Error)
		}
		for _, i := range v.Ideas {
			cost := ""
			if i.CostUSD > 0 {
				cost = fmt.Sprintf("  $%.4f", i.CostUSD)
			}
			score := ""
			if i.Overall > 0 {
				score = fmt.Sprintf("  %s %d/10", i.Decision, i.Overall)
			}
			fmt.Fprintf(w, "  %-32s %-17s %s%s%s%s\n", i.Name, i.State, i.PaperID, score, cost, errSuffix(i.Error))
			if i.Novelty != "" {
				fmt.Fprintf(w, "  %-32s novelty: %s\n", "", i.Novelty)
			}
			if i.PDF != "" {
				fmt.Fprintf(w, "  %-32s pdf: %s\n", "", i.PDF)
			}
		}
	case *workflows.PaperProgress:
		fmt.Fprintf(w, "paper %s  (%s)\ntemplate %s  model %s\nstage %s  state %s  run %d attempt %d\ntokens: prompt %d (cached %d), completion %d, calls %d, cost $%.4f\n",
			v.Paper, v.Title, v.Template, v.Model, v.Stage, v.State, v.Run, v.Attempt, v.Tokens.PromptTokens, v.Tokens.CachedPromptTokens, v.Tokens.CompletionTokens, v.Tokens.Calls, v.Tokens.CostUSD)
		printBudget(w, v.Budget, false)
		if n := v.Tokens.UnpricedCalls; n > 0 {
			fmt.Fprintf(w, "cost unknown for %d of %d calls: the model has no known price (%s); the cost shown leaves them out\n", n, v.Tokens.Calls, llm.UnpricedHint)
		}
		if v.Host != "" {
			fmt.Fprintf(w, "experiment host: %s (device %d)\n", v.Host, v.Device)
		}
		for _, r := range v.Runs {
			st := "ok"
			if !r.OK {
				st = "failed: " + r.Error
			}
			if r.Cached {
				st += " (the host's cached baseline)"
			}
			fmt.Fprintf(w, "  run_%d  attempts %d  %ds  %s\n", r.Run, r.Attempts, r.Seconds, st)
			if r.Change != "" {
				fmt.Fprintf(w, "         change: %s\n", r.Change)
			}
		}
		if v.PDF != "" {
			fmt.Fprintf(w, "pdf: %s\n", v.PDF)
		}
		if v.Numbers != "" {
			fmt.Fprintf(w, "numbers: %s (writeup/numbers.json)\n", v.Numbers)
		}
		if v.Decision != "" {
			fmt.Fprintf(w, "review: %s (overall %d/10, from %d reviews)\n", v.Decision, v.Overall, v.Reviews)
		}
		if v.ImprovedPDF != "" {
			fmt.Fprintf(w, "improved pdf: %s\n", v.ImprovedPDF)
		}
		if v.ImprovedOverall > 0 {
			fmt.Fprintf(w, "improved review: overall %d/10 (review_improved.txt)\n", v.ImprovedOverall)
		}
		if v.ResultDir != "" {
			fmt.Fprintf(w, "results: %s\n", v.ResultDir)
		}
		fmt.Fprintf(w, "workspace: %s\nnovelty check: %s; citation search: %s\n", v.Workspace, v.NoveltyCheck, v.CitationSearch)
		for _, x := range v.Warnings {
			fmt.Fprintf(w, "warning: %s\n", x)
		}
		if v.Error != "" {
			fmt.Fprintf(w, "error: %s\n", v.Error)
		}
	}
	return nil
}

func fetchCmd(g *globals) *cobra.Command {
	var out, dataDir, artifacts string
	cmd := &cobra.Command{
		Use:   "fetch <paper-id>",
		Short: "Copy a paper's folder out of the artifact store, at any stage",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withClient(cmd, g, func(ctx context.Context, c client.Client) error {
				return fetch(cmd, ctx, c, args[0], out, dataDir, artifacts)
			})
		},
	}
	cmd.Flags().StringVar(&out, "out", ".", "destination folder")
	cmd.Flags().StringVar(&dataDir, "data-dir", app.DefaultDataDir(), "the worker's --data-dir")
	cmd.Flags().StringVar(&artifacts, "artifacts", "", "the worker's artifact store (default <data-dir>/artifacts; with AISCI_S3_BUCKET set and no --artifacts, the bucket)")
	return cmd
}

// fetch copies paper id's workspace to out, from the bucket or the
// artifact folder.
func fetch(cmd *cobra.Command, ctx context.Context, c client.Client, id, out, dataDir, artifacts string) error {
	desc, err := c.DescribeWorkflowExecution(ctx, id, "")
	if err != nil {
		return fmt.Errorf("paper %s: %w", id, err)
	}
	var key string
	if p := desc.GetWorkflowExecutionInfo().GetMemo().GetFields()["workspace_key"]; p != nil {
		dc, err := app.DataConverter()
		if err != nil {
			return err
		}
		_ = dc.FromPayload(p, &key)
	}
	if key == "" {
		return fmt.Errorf("%s has no workspace (is it a paper workflow?)", id)
	}
	if s3cfg := s3store.ConfigFromEnv(os.Getenv); s3cfg.Bucket != "" && artifacts == "" {
		// The workers keep workspaces in object storage.
		st, err := s3store.New(ctx, s3cfg)
		if err != nil {
			return err
		}
		dst := filepath.Join(out, path.Base(key))
		if _, err := st.Pull(ctx, "papers/"+key, dst); err != nil {
			return fmt.Errorf("fetch %s from s3://%s: %w", key, st.Bucket(), err)
		}
		fmt.Fprintf(cmd.OutOrStdout(), "%s\n", dst)
		return nil
	}
	if artifacts == "" {
		artifacts = filepath.Join(dataDir, "artifacts")
	}
	src, err := store.Local{Root: artifacts}.PaperDir(key)
	if err != nil {
		return err
	}
	if !store.Exists(src) {
		return fmt.Errorf("workspace %s not found in the artifact store %s (pass --artifacts or --data-dir as given to the worker)", key, artifacts)
	}
	dst := filepath.Join(out, filepath.Base(src))
	if err := store.CopyDir(src, dst); err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%s\n", dst)
	return nil
}
