package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/aiscientist/aiscientist/internal/paper"
	"github.com/aiscientist/aiscientist/internal/template"
	"github.com/aiscientist/aiscientist/worker/app"
	"github.com/aiscientist/aiscientist/workflows"
)

// errInvalid: validate found problems (its report names them).
var errInvalid = errors.New("template breaks the contract")

func templatesCmd(g *globals) *cobra.Command {
	var roots string
	var dirs []string
	cmd := &cobra.Command{
		Use:   "templates",
		Short: "List research templates and check a template folder against the contract",
	}
	cmd.PersistentFlags().StringVar(&roots, "templates", "templates", "folder holding the research templates")
	cmd.PersistentFlags().StringSliceVar(&dirs, "templates-dir", nil, "more folders of templates, searched first; repeatable")
	all := func() string { return template.Roots(append(append([]string(nil), dirs...), roots)...) }

	list := &cobra.Command{
		Use:   "list",
		Short: "The templates a launch can use, with their folder and whether they follow the contract",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tFOLDER\tCONTRACT")
			for _, name := range template.List(all()) {
				dir := ""
				for _, root := range filepath.SplitList(all()) {
					if st, err := os.Stat(filepath.Join(root, name)); err == nil && st.IsDir() {
						dir = filepath.Join(root, name)
						break
					}
				}
				state := "ok"
				if p := template.Validate(dir); len(p) > 0 {
					state = fmt.Sprintf("%d problems (starter templates validate %s)", len(p), dir)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\n", name, dir, state)
			}
			return tw.Flush()
		},
	}
	validate := &cobra.Command{
		Use:   "validate DIR...",
		Short: "Check template folders against the contract; one line per problem, exit 1 on any",
		Long: `Checks what the pipeline relies on: experiment.py (run with --out_dir, writing
final_info.json), plot.py (its labels dict), prompt.json (system, task_description),
seed_ideas.json, a baseline run_0/final_info.json when there is one, and
latex/template.tex (every placeholder the write-up fills, in any spelling it accepts;
the embedded references.bib; \graphicspath{{../}}). It reads files only. A template
of the reference system that follows its contract passes as it is.`,
		Example: `  starter templates validate templates/grokking
  starter templates validate ~/AI-Scientist/templates/*`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			w := cmd.OutOrStdout()
			bad := 0
			for _, dir := range args {
				probs := template.Validate(dir)
				for _, p := range probs {
					fmt.Fprintf(w, "%s: %s\n", dir, p)
				}
				if len(probs) == 0 {
					fmt.Fprintf(w, "%s: ok\n", dir)
				} else {
					bad++
				}
			}
			if bad > 0 {
				return fmt.Errorf("%w: %d of %d folders", errInvalid, bad, len(args))
			}
			return nil
		},
	}
	cmd.AddCommand(list, validate, baselineCmd(g, all))
	return cmd
}

func baselineCmd(g *globals, roots func() string) *cobra.Command {
	var in workflows.BaselineInput
	var host string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "baseline NAME",
		Short: "Run a template's own experiment as run_0 on an experiment host, into the host's baseline cache",
		Long: `Runs the template's experiment.py, unchanged, as run_0 on an experiment host's
device queue, as a durable workflow (visible in the Web UI), and stores it in
that host's baseline cache: <artifacts>/baselines/<host>/<template>/<quick|full>/
<hash of experiment.py>/run_0. Every later paper of the template on that host,
in the same configuration and with the same experiment.py, copies it instead of
running it. A full baseline can take hours (grokking: about 3 hours on two CPU
cores), so run it once per host before the first full paper.

The template is the one the host's worker loads (its --templates and
--templates-dir); when this machine has a folder of that name under --templates
or --templates-dir, it is checked against the contract first and its problems
are shown as warnings. --host names the host (default: this machine's name, as the
worker's --host defaults to it); "any" takes the first host that answers. A host
that has the baseline already returns it at once; --rerun computes it again and
replaces it. Interrupting the command leaves the baseline running; follow it with
starter status baseline/<template>/<quick|full>/<host>.`,
		Example: `  starter templates baseline grokking            # full configuration, on this host
  starter templates baseline nanoGPT --host gpu-7 --rerun
  starter templates baseline 2d_diffusion --quick --host any`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			in.Template = args[0]
			if t, err := template.Load(roots(), in.Template); err == nil {
				for _, p := range template.Validate(t.Dir) {
					fmt.Fprintf(cmd.ErrOrStderr(), "warning: %s: %s\n", t.Dir, p)
				}
			}
			switch host {
			case "any":
				in.Host = ""
			case "":
				in.Host = app.HostName("")
			default:
				in.Host = app.HostName(host)
			}
			return withClient(cmd, g, func(ctx context.Context, c client.Client) error {
				return runBaseline(ctx, cmd, c, g, in, asJSON)
			})
		},
	}
	f := cmd.Flags()
	f.BoolVar(&in.Quick, "quick", false, "the quick configuration (AISCI_QUICK=1), as quick papers use")
	f.StringVar(&host, "host", "", `experiment host to run on (default: this machine's name; "any": the first host that answers)`)
	f.BoolVar(&in.Rerun, "rerun", false, "run it even when the host has it, replacing the cached one")
	f.DurationVar(&in.RunTimeout, "run-timeout", 0, "limit for the run (default: the template's run_timeout_seconds, else 2h)")
	f.DurationVar(&in.HostTimeout, "host-timeout", 5*time.Minute, "a host that does not start the run within it is taken for absent")
	f.BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}

func runBaseline(ctx context.Context, cmd *cobra.Command, c client.Client, g *globals, in workflows.BaselineInput, asJSON bool) error {
	id, err := app.StartBaseline(ctx, c, in)
	if err != nil {
		return err
	}
	where := in.Host
	if where == "" {
		where = "the first experiment host that answers"
	}
	mode := "full"
	if in.Quick {
		mode = "quick"
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "baseline started: %s (%s configuration, on %s)\nweb UI: %s\n(interrupting this command leaves it running: starter status %s)\n",
		id, mode, where, uiLink(uiBase(g.ui, g.address), g.namespace, id), id)
	var res workflows.BaselineResult
	if err := c.GetWorkflow(ctx, id, "").Get(ctx, &res); err != nil {
		var ae *temporal.ApplicationError
		if errors.As(err, &ae) && ae.Message() != "" {
			return fmt.Errorf("baseline %s failed: %s", id, ae.Message())
		}
		return fmt.Errorf("baseline %s: %w", id, err)
	}
	w := cmd.OutOrStdout()
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	how := fmt.Sprintf("ran in %s", time.Duration(res.Seconds)*time.Second)
	if res.Cached {
		how = "the host had it already (--rerun computes it again)"
	}
	fmt.Fprintf(w, "baseline of %s (%s) on host %s, device %d: %s\n", in.Template, mode, res.Host, res.Device, how)
	if res.Cache != "" {
		fmt.Fprintf(w, "cached on the host at %s\n", res.Cache)
	}
	fmt.Fprintf(w, "workspace: %s\n", res.Workspace)
	return printFinalInfo(w, res.Results)
}

// printFinalInfo prints one line per dataset and metric, sorted.
func printFinalInfo(w io.Writer, fi paper.FinalInfo) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DATASET\tMETRIC\tMEAN\tSTDERR")
	for _, ds := range slices.Sorted(maps.Keys(fi)) {
		r := fi[ds]
		for _, m := range slices.Sorted(maps.Keys(r.Means)) {
			se := ""
			if v, ok := r.Stderrs[m]; ok {
				se = strconv.FormatFloat(v, 'g', 4, 64)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", ds, m, strconv.FormatFloat(r.Means[m], 'g', 6, 64), se)
		}
		for _, m := range r.Diverged {
			fmt.Fprintf(tw, "%s\t%s\tdiverged (NaN or infinite)\t\n", ds, m)
		}
		for _, m := range r.Missing {
			fmt.Fprintf(tw, "%s\t%s\tmissing\t\n", ds, m)
		}
	}
	return tw.Flush()
}
