package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/aiscientist/aiscientist/worker/app"
)

func replayCmd(g *globals) *cobra.Command {
	var runID, save, file string
	cmd := &cobra.Command{
		Use:   "replay <workflow-id> | --file HISTORY.json",
		Short: "Replay a workflow's history against this build's workflow code to catch non-determinism",
		Long: `Fetches the full event history of a campaign or paper from the Temporal server (or reads
it from a JSON file) and replays it against the workflow code compiled into this binary,
without running any activity. Run it with the new build before deploying a new worker: a
change to CampaignWorkflow or PaperWorkflow that is not guarded by workflow.GetVersion makes
running workflows fail on the new worker, and replay reports it here as "non-deterministic:".

On success it prints one line: the workflow type, the source, the number of events and the
GetVersion change IDs the history recorded. It exits 1 when the history does not replay.

--save also writes the fetched history as JSON (the format of workflows/testdata, read back
by --file); copy it there to keep the check in the test suite. --file accepts that format
and the output of 'temporal workflow show --output json'.`,
		Example: `  starter replay paper/grokking/weight_decay_grokking
  starter replay campaign/grokking/20260101_120000 --run-id 0190a1b2-... --save campaign.json
  starter replay --file workflows/testdata/paper_v4_host_baseline.json`,
		Args: func(cmd *cobra.Command, args []string) error {
			switch {
			case file != "" && len(args) > 0:
				return errors.New("give a workflow ID or --file, not both")
			case file != "" && (runID != "" || save != ""):
				return errors.New("--run-id and --save apply to a workflow fetched from the server, not to --file")
			case file == "" && len(args) != 1:
				return errors.New("give one workflow ID, or --file HISTORY.json")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			w := cmd.OutOrStdout()
			if file != "" {
				rep, err := app.ReplayHistoryFile(file)
				return printReplay(w, rep, file, err)
			}
			id := args[0]
			return withClient(cmd, g, func(ctx context.Context, c client.Client) error {
				h, err := app.FetchHistory(ctx, c, id, runID)
				if err != nil {
					return err
				}
				// Saved before replaying: a history that fails is the one worth keeping.
				if save != "" {
					if err := app.SaveHistoryFile(save, h); err != nil {
						return err
					}
				}
				rep, err := app.ReplayHistory(h)
				return printReplay(w, rep, id, err)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&runID, "run-id", "", "replay this run (default: the latest run of the workflow ID)")
	f.StringVar(&save, "save", "", "also write the fetched history to this JSON file")
	f.StringVar(&file, "file", "", "replay a JSON history file instead of fetching one")
	return cmd
}

// printReplay prints the one-line summary; on failure the error itself is
// printed by main, so the summary only says what was replayed.
func printReplay(w io.Writer, rep app.ReplayReport, source string, err error) error {
	versions := "none"
	if len(rep.Markers) > 0 {
		versions = strings.Join(rep.Markers, ", ")
	}
	summary := fmt.Sprintf("%s %s, %d events, versions: %s", rep.WorkflowType, source, rep.Events, versions)
	if err != nil {
		if rep.Events > 0 {
			fmt.Fprintln(w, "does not replay:", summary)
		}
		return err
	}
	fmt.Fprintln(w, "replays cleanly:", summary)
	return nil
}
