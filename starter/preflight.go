package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/aiscientist/aiscientist/internal/preflight"
	"github.com/aiscientist/aiscientist/internal/template"
	"github.com/aiscientist/aiscientist/worker/app"
)

type preflightOpts struct {
	template, model, templates, python, modelsFile, llmBaseURL string
	quick, templateBaseline                                    bool
	budget                                                     bool // the run has a budget
	templatesDirs                                              []string
	reviewModel                                                string // a reviewer model of its own, checked too
}

func (o *preflightOpts) flags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.python, "python", "", "Python interpreter for experiments (default $AISCI_PYTHON, else discovered)")
	f.StringVar(&o.modelsFile, "models", "", "JSON file adding or overriding models (default $AISCI_MODELS)")
	f.StringVar(&o.llmBaseURL, "llm-base-url", "", "OpenAI-compatible local server for local/<model> names")
}

// run checks everything and makes one minimal model call, printing one
// line per problem.
func (o *preflightOpts) run(cmd *cobra.Command) error {
	reg, err := app.NewRegistry(o.modelsFile, o.llmBaseURL)
	if err != nil {
		return err
	}
	python := o.python
	if python == "" {
		python = os.Getenv("AISCI_PYTHON")
	}
	roots := template.Roots(append(append([]string(nil), o.templatesDirs...), o.templates)...)
	r := preflight.Run(cmd.Context(), preflight.Options{Templates: roots, Template: o.template, Model: o.model,
		Python: python, Registry: reg, NeedBaseline: !o.quick && o.templateBaseline, Call: true, Budget: o.budget})
	w := cmd.ErrOrStderr()
	if len(r.Problems) > 0 {
		for _, p := range r.Problems {
			fmt.Fprintf(w, "preflight: %s\n", p.Message)
		}
		return errors.New("preflight failed")
	}
	fmt.Fprintf(w, "preflight ok: template %s, python %s, model %s via %s (%s): test call %s, %d+%d tokens, $%.6f\n",
		o.template, r.Python, o.model, r.Model.Provider, r.Model.APIModel, r.Latency.Round(1e6), r.Usage.PromptTokens, r.Usage.CompletionTokens, r.Usage.CostUSD)
	if o.reviewModel == "" || o.reviewModel == o.model {
		return nil
	}
	// The reviewer's key must work before any experiment runs, not at the end.
	rr := preflight.Run(cmd.Context(), preflight.Options{Templates: roots, Template: o.template, Model: o.reviewModel,
		Python: python, Registry: reg, Call: true, Budget: o.budget})
	for _, p := range rr.Problems {
		if p.Kind == preflight.KindModel {
			fmt.Fprintf(w, "preflight: review model: %s\n", p.Message)
			err = errors.New("preflight failed")
		}
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "preflight ok: review model %s via %s (%s): test call %s\n", o.reviewModel, rr.Model.Provider, rr.Model.APIModel, rr.Latency.Round(1e6))
	return nil
}

func preflightCmd() *cobra.Command {
	o := &preflightOpts{}
	cmd := &cobra.Command{
		Use:   "preflight",
		Short: "Check tools, Python, template, API key and one real model call before spending money",
		Example: `  OPENAI_API_KEY=sk-... starter preflight --template grokking --model gpt-4o-2024-08-06
  starter preflight --model scripted --quick`,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd) },
	}
	cmd.Flags().StringVar(&o.template, "template", "grokking", "research template (a folder under --templates)")
	cmd.Flags().StringVar(&o.model, "model", "scripted", "model name")
	cmd.Flags().StringVar(&o.templates, "templates", "templates", "folder holding the research templates")
	cmd.Flags().StringSliceVar(&o.templatesDirs, "templates-dir", nil, "more folders of templates, searched first; repeatable")
	cmd.Flags().BoolVar(&o.quick, "quick", false, "papers will run the quick configuration")
	cmd.Flags().BoolVar(&o.templateBaseline, "template-baseline", false, "papers will use the template's checked-in run_0 (check that it is there)")
	o.flags(cmd)
	return cmd
}
