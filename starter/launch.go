package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/aiscientist/aiscientist/internal/scholar"
	"github.com/aiscientist/aiscientist/internal/template"
	"github.com/aiscientist/aiscientist/worker/app"
	"github.com/aiscientist/aiscientist/workflows"
)

type launchOpts struct {
	template, model, out, templates                     string
	numIdeas, parallel, maxRuns                         int
	budgetUSD, paperBudgetUSD                           float64
	quick, wait, skipIdeas, preflight, templateBaseline bool
	holdIdeas, autoApprove                              bool
	skipNovelty, keepNotNovel, skipCitations            bool
	engine, runOrder                                    string
	runTimeout                                          time.Duration
	review                                              reviewFlags
	templatesDirs                                       []string
	improvement                                         bool
	pf                                                  preflightOpts
}

func launchCmd(g *globals) *cobra.Command {
	o := &launchOpts{}
	cmd := &cobra.Command{
		Use:   "launch",
		Short: "Start a research campaign: ideas, then one paper workflow per idea",
		Example: `  starter launch --template grokking --model gpt-4o-2024-08-06 --num-ideas 2 --wait
  starter launch --template grokking --model scripted --num-ideas 1 --quick --wait`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !slices.Contains(scholar.Engines, o.engine) {
				return fmt.Errorf("--engine %q: known engines are %s", o.engine, strings.Join(scholar.Engines, ", "))
			}
			if err := o.review.check("review-"); err != nil {
				return err
			}
			order, err := workflows.ParseRunOrder(o.runOrder)
			if err != nil {
				return fmt.Errorf("--run-order: %w", err)
			}
			o.runOrder = order
			if o.budgetUSD < 0 || o.paperBudgetUSD < 0 {
				return errors.New("--budget-usd and --paper-budget-usd must not be negative")
			}
			if o.holdIdeas && cmd.Flags().Changed("auto-approve") && o.autoApprove {
				return errors.New("--hold-ideas and --auto-approve contradict each other: pick one")
			}
			if cmd.Flags().Changed("auto-approve") && !o.autoApprove {
				o.holdIdeas = true
			}
			if o.preflight {
				// The same checks as `starter preflight`, before anything starts.
				pf := o.pf
				pf.template, pf.model, pf.templates, pf.quick, pf.templateBaseline = o.template, o.model, o.templates, o.quick, o.templateBaseline
				pf.templatesDirs = o.templatesDirs
				pf.budget = o.budgetUSD > 0 || o.paperBudgetUSD > 0
				pf.reviewModel = o.review.model
				if err := pf.run(cmd); err != nil {
					return fmt.Errorf("%w (skip with --preflight=false when the worker runs elsewhere)", err)
				}
			} else if _, err := template.Load(template.Roots(append(append([]string(nil), o.templatesDirs...), o.templates)...), o.template); err != nil {
				return err
			}
			out, err := filepath.Abs(o.out)
			if err != nil {
				return err
			}
			return withClient(cmd, g, func(ctx context.Context, c client.Client) error {
				return o.launch(ctx, cmd.OutOrStdout(), c, g, out)
			})
		},
	}
	o.flags(cmd)
	return cmd
}

// launch starts the campaign and, with --wait, follows it to the end.
func (o *launchOpts) launch(ctx context.Context, w io.Writer, c client.Client, g *globals, out string) error {
	in := workflows.CampaignInput{Template: o.template, Model: o.model, NumIdeas: o.numIdeas, Quick: o.quick, TemplateBaseline: o.templateBaseline,
		SkipIdeaGeneration: o.skipIdeas, HoldIdeas: o.holdIdeas, Parallel: o.parallel, ResultsDir: out, MaxRuns: o.maxRuns, RunOrder: o.runOrder,
		SkipNoveltyCheck: o.skipNovelty, KeepNotNovel: o.keepNotNovel, Engine: o.engine, SkipCitations: o.skipCitations,
		BudgetUSD: o.budgetUSD, PaperBudgetUSD: o.paperBudgetUSD, Review: o.review.spec(), Improvement: o.improvement,
		Stamp: time.Now().UTC().Format("20060102_150405")}
	switch {
	case o.runTimeout > 0:
		in.RunTimeout = o.runTimeout
	case o.quick:
		in.RunTimeout = 20 * time.Minute
	}
	id, err := app.StartCampaign(ctx, c, in)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "campaign started: %s\nweb UI: %s\nresults: %s/%s/\n", id, uiLink(uiBase(g.ui, g.address), g.namespace, id), out, o.template)
	if !o.wait {
		fmt.Fprintf(w, "follow it with: go run ./starter status %s\n", id)
		return nil
	}
	_, err = follow(ctx, c, id, w)
	return err
}

func (o *launchOpts) flags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.template, "template", "grokking", "research template (a folder under --templates)")
	f.StringVar(&o.model, "model", "scripted", "model name; 'scripted' is the offline test double")
	f.IntVar(&o.numIdeas, "num-ideas", 1, "number of ideas to generate")
	f.StringVar(&o.out, "out", "results", "results folder; papers land in <out>/<template>/<timestamp>_<Name>/")
	f.BoolVar(&o.quick, "quick", false, "run the template's quick configuration (AISCI_QUICK=1), for CPUs and demos")
	f.BoolVar(&o.templateBaseline, "template-baseline", false, "full configuration: compare against a run_0 in the template folder instead of a baseline run on the experiment host (cached per host)")
	f.BoolVar(&o.holdIdeas, "hold-ideas", false, "hold each new idea until 'starter approve' (or 'starter reject'); papers start only for approved ideas")
	f.BoolVar(&o.autoApprove, "auto-approve", true, "start papers for new ideas without asking (the default; --hold-ideas turns it off)")
	f.DurationVar(&o.runTimeout, "run-timeout", 0, "wall-clock limit of one experiment run (default: the template's run_timeout_seconds, else 2h; 20m with --quick)")
	f.BoolVar(&o.wait, "wait", false, "follow progress until the campaign ends; exit non-zero if it or a paper failed")
	f.BoolVar(&o.skipIdeas, "skip-idea-generation", false, "run stored ideas instead of asking the model: the template's seed_ideas.json, then every idea earlier campaigns generated for it (--num-ideas of them)")
	f.IntVar(&o.parallel, "parallel", 1, "papers run at once")
	f.BoolVar(&o.skipNovelty, "skip-novelty-check", false, "start papers without checking the ideas against the literature")
	f.BoolVar(&o.keepNotNovel, "keep-not-novel", false, "run ideas the novelty check judged not novel too")
	f.BoolVar(&o.skipCitations, "skip-citations", false, "write papers with their template's bibliography only, without the citation search")
	f.StringVar(&o.engine, "engine", scholar.SemanticScholar, "literature engine tried first ("+strings.Join(scholar.Engines, ", ")+"); the others are fallbacks")
	f.IntVar(&o.maxRuns, "max-runs", 5, "experiment runs per paper")
	f.StringVar(&o.runOrder, "run-order", workflows.RunOrderRounds, "order of the runs waiting for an experiment slot: rounds (fewest runs done first: papers advance together and the slots stay busy to the end) or finish-first (fewest runs left first: the first papers finish much sooner, the slots may idle at the end)")
	f.Float64Var(&o.budgetUSD, "budget-usd", 0, "model spending limit for the whole campaign in US dollars (0: none); at the limit papers stop cleanly until 'starter budget' raises it")
	f.Float64Var(&o.paperBudgetUSD, "paper-budget-usd", 0, "model spending limit for each paper in US dollars (0: none)")
	f.StringVar(&o.templates, "templates", "templates", "folder holding the research templates")
	f.StringSliceVar(&o.templatesDirs, "templates-dir", nil, "more folders of templates, searched first (the worker needs the same --templates-dir); repeatable")
	f.BoolVar(&o.preflight, "preflight", true, "check tools, Python, template, key and one model call first")
	f.BoolVar(&o.improvement, "improvement", false, "after the review, revise the paper from it into <Name>_improved.pdf and review that into review_improved.txt")
	o.review.flags(f, "review-")
	o.pf.flags(cmd)
}

// uiBase is the Web UI's address: the flag, else where worker --dev puts
// it for the server in use (gRPC port + 1000 on the same host).
func uiBase(flag, address string) string {
	if flag != "" {
		return flag
	}
	if address == "" {
		address = os.Getenv("TEMPORAL_ADDRESS")
	}
	host, port, err := net.SplitHostPort(address)
	p, perr := strconv.Atoi(port)
	if address == "" || err != nil || perr != nil {
		return "http://127.0.0.1:8233"
	}
	return "http://" + net.JoinHostPort(host, strconv.Itoa(p+1000))
}

// uiLink is the Web UI page of a workflow.
func uiLink(base, namespace, id string) string {
	if namespace == "" {
		namespace = os.Getenv("TEMPORAL_NAMESPACE")
	}
	if namespace == "" {
		namespace = "default"
	}
	return fmt.Sprintf("%s/namespaces/%s/workflows/%s", base, namespace, url.PathEscape(id))
}

// follow shows the campaign's papers (starter watch's view) until the
// campaign ends, and fails when the campaign or any of its papers failed.
func follow(ctx context.Context, c client.Client, id string, w io.Writer) (workflows.CampaignProgress, error) {
	done := make(chan error, 1)
	var final workflows.CampaignProgress
	go func() { done <- c.GetWorkflow(ctx, id, "").Get(ctx, &final) }()
	v := newWatcher(w)
	update := func() {
		if s, err := collect(ctx, c, id); err == nil {
			v.draw(s)
		}
	}
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			update()
			if err != nil {
				var app *temporal.ApplicationError
				if errors.As(err, &app) && app.Message() != "" {
					return final, fmt.Errorf("campaign %s failed: %s", id, app.Message())
				}
				return final, fmt.Errorf("campaign %s failed: %w", id, err)
			}
			failed := 0
			for _, i := range final.Ideas {
				fmt.Fprintf(w, "  %-32s %-10s %s%s\n", i.Name, i.State, i.Result, errSuffix(i.Error))
				if i.State == workflows.StateFailed {
					failed++
				}
			}
			if failed > 0 {
				return final, fmt.Errorf("%d of %d ideas failed", failed, len(final.Ideas))
			}
			return final, nil
		case <-tick.C:
			update()
		case <-ctx.Done():
			return final, ctx.Err()
		}
	}
}

func errSuffix(e string) string {
	if e == "" {
		return ""
	}
	return "  error: " + e
}

func query(ctx context.Context, c client.Client, id string, out any) error {
	qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	v, err := c.QueryWorkflow(qctx, id, "", workflows.ProgressQuery)
	if err != nil {
		return err
	}
	if !v.HasValue() {
		return errors.New("empty progress")
	}
	return v.Get(out)
}
