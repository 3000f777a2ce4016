package workflows_test

import (
	"context"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/aiscientist/aiscientist/activities"
	"github.com/aiscientist/aiscientist/internal/llm"
	"github.com/aiscientist/aiscientist/internal/paper"
	"github.com/aiscientist/aiscientist/workflows"
)

const campaignID = "campaign/nanoGPT"

var ideaUsage = llm.Usage{PromptTokens: 7, CompletionTokens: 8, Calls: 1}

func idea(name string) paper.Idea {
	return paper.Idea{Name: name, Title: strings.ToUpper(name[:1]) + name[1:] + " Title", Experiment: "try " + name}
}

// childCall is one started PaperWorkflow as the mocked child saw it.
type childCall struct {
	ID                        string
	In                        workflows.PaperInput
	Template, IdeaName, Stage string // its search attributes at start
	Start                     time.Duration
}

type campaignFake struct {
	templateTimeout time.Duration // the template's run_timeout_seconds
	mu              sync.Mutex
	preflights      []activities.PreflightInput
	ideaCalls       []activities.IdeaInput
	children        []childCall

	preflight func(activities.PreflightInput) error
	ideas     func(activities.IdeaInput) (activities.IdeaResult, error)
	child     func(ctx workflow.Context, in workflows.PaperInput) (workflows.PaperResult, error)
	// novelty answers NoveltyRound (nil: novel at round 1); novelties
	// records the calls.
	novelty   func(activities.NoveltyInput) (activities.NoveltyResult, error)
	novelties []activities.NoveltyInput
}

// ideasByIndex answers GenerateIdea from a list; past its end: Exhausted.
func ideasByIndex(results ...activities.IdeaResult) func(activities.IdeaInput) (activities.IdeaResult, error) {
	return func(in activities.IdeaInput) (activities.IdeaResult, error) {
		if in.Index >= len(results) {
			return activities.IdeaResult{Exhausted: true}, nil
		}
		r := results[in.Index]
		r.Usage = ideaUsage
		return r, nil
	}
}

func completedPaper(_ workflow.Context, in workflows.PaperInput) (workflows.PaperResult, error) {
	return workflows.PaperResult{Progress: workflows.PaperProgress{
		State: "completed", Overall: 6, Decision: "Accept", ResultDir: resultsTo + "/" + in.Paper.Key,
	}}, nil
}

func failedPaper(msg string) func(workflow.Context, workflows.PaperInput) (workflows.PaperResult, error) {
	return func(workflow.Context, workflows.PaperInput) (workflows.PaperResult, error) {
		return workflows.PaperResult{}, temporal.NewNonRetryableApplicationError(msg, "PaperFailed", nil)
	}
}

func newCampaignFake() *campaignFake {
	return &campaignFake{
		preflight: func(activities.PreflightInput) error { return nil },
		ideas:     ideasByIndex(activities.IdeaResult{Idea: idea("alpha")}),
		child:     completedPaper,
	}
}

// register mocks the campaign's activities and, with mockChild, the child
// PaperWorkflow itself.
func (f *campaignFake) register(env *testsuite.TestWorkflowEnvironment, mockChild bool) {
	env.OnActivity(acts.Preflight, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.PreflightInput) (activities.PreflightResult, error) {
			f.mu.Lock()
			f.preflights = append(f.preflights, in)
			f.mu.Unlock()
			return activities.PreflightResult{Python: "/usr/bin/python3", RunTimeout: f.templateTimeout}, f.preflight(in)
		})
	env.OnActivity(acts.GenerateIdea, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.IdeaInput) (activities.IdeaResult, error) {
			f.mu.Lock()
			f.ideaCalls = append(f.ideaCalls, in)
			f.mu.Unlock()
			return f.ideas(in)
		})
	env.OnActivity(acts.NoveltyRound, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.NoveltyInput) (activities.NoveltyResult, error) {
			f.mu.Lock()
			f.novelties = append(f.novelties, in)
			f.mu.Unlock()
			if f.novelty != nil {
				return f.novelty(in)
			}
			return activities.NoveltyResult{Decided: true, Novel: true, Closest: []string{"Grokking (2022)"}}, nil
		})
	if !mockChild {
		env.RegisterWorkflow(workflows.PaperWorkflow)
		return
	}
	env.OnWorkflow(workflows.PaperWorkflow, mock.Anything, mock.Anything).Return(
		func(ctx workflow.Context, in workflows.PaperInput) (workflows.PaperResult, error) {
			sa := workflow.GetTypedSearchAttributes(ctx)
			c := childCall{ID: workflow.GetInfo(ctx).WorkflowExecution.ID, In: in}
			c.Template, _ = sa.GetKeyword(workflows.TemplateKey)
			c.IdeaName, _ = sa.GetKeyword(workflows.IdeaNameKey)
			c.Stage, _ = sa.GetKeyword(workflows.StageKey)
			c.Start = workflow.Now(ctx).Sub(campaignStart)
			f.mu.Lock()
			f.children = append(f.children, c)
			f.mu.Unlock()
			return f.child(ctx, in)
		})
}

var campaignStart = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

func (f *campaignFake) childIDs() []string {
	var ids []string
	for _, c := range f.children {
		ids = append(ids, c.ID)
	}
	return ids
}

type campaignOutcome struct {
	prog   workflows.CampaignProgress
	err    error
	stages []string
	fake   *campaignFake
}

func runCampaign(t *testing.T, in workflows.CampaignInput, mockChild bool, configure func(*campaignFake), paperFakes ...*paperFake) campaignOutcome {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.SetStartTime(campaignStart)
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: campaignID})
	f := newCampaignFake()
	if configure != nil {
		configure(f)
	}
	f.register(env, mockChild)
	for _, pf := range paperFakes {
		pf.register(env)
	}
	var mu sync.Mutex
	var stages []string
	if mockChild { // real children would upsert their own stages through the same mock
		recordStages(env, &mu, &stages)
	}
	env.ExecuteWorkflow(workflows.CampaignWorkflow, in)
	require.True(t, env.IsWorkflowCompleted())
	out := campaignOutcome{err: env.GetWorkflowError(), stages: stages, fake: f}
	v, err := env.QueryWorkflow(workflows.ProgressQuery)
	require.NoError(t, err)
	require.NoError(t, v.Get(&out.prog))
	if out.err == nil {
		var res workflows.CampaignProgress
		require.NoError(t, env.GetWorkflowResult(&res))
		assert.Equal(t, res, out.prog, "result and query disagree")
	}
	return out
}

// campaignInput skips the novelty check, which has tests of its own.
func campaignInput() workflows.CampaignInput {
	return workflows.CampaignInput{Template: tmpl, Model: model, NumIdeas: 1, ResultsDir: resultsTo, Stamp: stamp, SkipNoveltyCheck: true}
}

func completedStatus(name string) workflows.IdeaStatus {
	return workflows.IdeaStatus{
		Name: name, Title: idea(name).Title, PaperID: "paper/nanoGPT/" + name, State: "completed",
		Overall: 6, Decision: "Accept", Result: "/results/nanoGPT/" + stamp + "_" + name,
	}
}

func TestCampaignWorkflow(t *testing.T) {
	tests := []struct {
		name      string
		in        func(*workflows.CampaignInput)
		fake      func(*campaignFake)
		children  []string // child workflow IDs, in start order
		unordered bool     // children start concurrently: compare sorted
		ideas     []workflows.IdeaStatus
		stages    []string
		wantErr   []string
		errTypes  []string
		progError string // progress.Error exactly
		check     func(t *testing.T, o campaignOutcome)
	}{
		{
			name: "preflight failure fails the campaign",
			fake: func(f *campaignFake) {
				f.preflight = func(activities.PreflightInput) error {
					return temporal.NewNonRetryableApplicationError("pdflatex not found", activities.ErrTypeBadInput, nil)
				}
			},
			stages:    []string{"preflight", "failed"},
			wantErr:   []string{"preflight", "pdflatex not found"},
			errTypes:  []string{"CampaignFailed", activities.ErrTypeBadInput},
			progError: "preflight: pdflatex not found",
			check: func(t *testing.T, o campaignOutcome) {
				assert.Equal(t, []activities.PreflightInput{{Template: tmpl, Model: model}}, o.fake.preflights,
					"one call, no retries; full papers run their host's baseline, so run_0 is not required")
				assert.Empty(t, o.fake.ideaCalls)
				assert.Equal(t, workflows.StagePreflight, o.prog.Stage)
			},
		},
		{
			name: "a duplicate idea is skipped and gets no paper",
			in: func(in *workflows.CampaignInput) {
				in.NumIdeas, in.Quick, in.MaxRuns, in.RunTimeout = 2, true, 3, 30*time.Minute
			},
			fake: func(f *campaignFake) {
				again := idea("alpha")
				again.Title = "Alpha again"
				f.ideas = ideasByIndex(activities.IdeaResult{Idea: idea("alpha")}, activities.IdeaResult{Idea: again, Duplicate: true})
			},
			children: []string{"paper/nanoGPT/alpha"},
			ideas: []workflows.IdeaStatus{
				completedStatus("alpha"),
				{Name: "alpha", Title: "Alpha again", State: "skipped", Error: "duplicate of an earlier idea"},
			},
			stages: []string{"preflight", "ideas", "papers", "done"},
			check: func(t *testing.T, o campaignOutcome) {
				assert.Equal(t, workflows.PaperWorkflowID(tmpl, "alpha"), "paper/nanoGPT/alpha")
				assert.Equal(t, []activities.PreflightInput{{Template: tmpl, Model: model, NeedBaseline: false}}, o.fake.preflights,
					"quick papers run their own baseline")
				base := activities.IdeaInput{CampaignKey: "nanoGPT/" + stamp, Template: tmpl, Model: model, Reflections: 3}
				second := base
				second.Index = 1
				assert.Equal(t, []activities.IdeaInput{base, second}, o.fake.ideaCalls)
				require.Len(t, o.fake.children, 1)
				c := o.fake.children[0]
				assert.Equal(t, workflows.PaperInput{
					Paper: activities.PaperRef{Key: paperKey, Name: "alpha", Template: tmpl, Model: model},
					Idea:  idea("alpha"), Quick: true, MaxRuns: 3, RunTimeout: 30 * time.Minute,
					ResultsDir: resultsTo, Engine: "semanticscholar",
				}, c.In)
				assert.Equal(t, [3]string{tmpl, "alpha", "setup"}, [3]string{c.Template, c.IdeaName, c.Stage}, "child search attributes")
				assert.Equal(t, llm.Usage{PromptTokens: 14, CompletionTokens: 16, Calls: 2}, o.prog.Tokens)
				assert.Equal(t, campaignID, o.prog.Campaign)
				assert.Contains(t, o.prog.NoveltyCheck, "off")
			},
		},
		{
			name: "a failing paper is marked failed; the other completes",
			in:   func(in *workflows.CampaignInput) { in.NumIdeas = 2 },
			fake: func(f *campaignFake) {
				f.ideas = ideasByIndex(activities.IdeaResult{Idea: idea("alpha")}, activities.IdeaResult{Idea: idea("beta")})
				f.child = func(ctx workflow.Context, in workflows.PaperInput) (workflows.PaperResult, error) {
					if in.Idea.Name == "alpha" {
						return failedPaper("experiments: no experiment run succeeded; last error: boom")(ctx, in)
					}
					return completedPaper(ctx, in)
				}
			},
			children: []string{"paper/nanoGPT/alpha", "paper/nanoGPT/beta"},
			stages:   []string{"preflight", "ideas", "papers", "done"},
			check: func(t *testing.T, o campaignOutcome) {
				require.Len(t, o.prog.Ideas, 2)
				a := o.prog.Ideas[0]
				assert.Equal(t, workflows.StateFailed, a.State)
				assert.Equal(t, "paper/nanoGPT/alpha", a.PaperID)
				assert.Equal(t, "experiments: no experiment run succeeded; last error: boom", a.Error)
				assert.Equal(t, completedStatus("beta"), o.prog.Ideas[1])
			},
		},
		{
			name: "no completed paper fails the campaign",
			in:   func(in *workflows.CampaignInput) { in.NumIdeas = 2 },
			fake: func(f *campaignFake) {
				f.ideas = ideasByIndex(activities.IdeaResult{Idea: idea("alpha")}, activities.IdeaResult{Idea: idea("beta")})
				f.child = failedPaper("latex: LaTeX produced no PDF")
			},
			children:  []string{"paper/nanoGPT/alpha", "paper/nanoGPT/beta"},
			stages:    []string{"preflight", "ideas", "papers", "failed"},
			wantErr:   []string{"no paper was completed"},
			errTypes:  []string{"CampaignFailed"},
			progError: "papers: no paper was completed",
			check: func(t *testing.T, o campaignOutcome) {
				for _, s := range o.prog.Ideas {
					assert.Equal(t, workflows.StateFailed, s.State, s.Name)
					assert.Equal(t, "latex: LaTeX produced no PDF", s.Error)
				}
			},
		},
		{
			name: "seed ideas stop at the first Exhausted",
			in:   func(in *workflows.CampaignInput) { in.NumIdeas, in.SkipIdeaGeneration = 3, true },
			fake: func(f *campaignFake) {
				f.ideas = ideasByIndex(activities.IdeaResult{Idea: idea("seed_a")})
			},
			children: []string{"paper/nanoGPT/seed_a"},
			ideas:    []workflows.IdeaStatus{completedStatus("seed_a")},
			stages:   []string{"preflight", "ideas", "papers", "done"},
			check: func(t *testing.T, o campaignOutcome) {
				require.Len(t, o.fake.ideaCalls, 2, "index 1 is exhausted: index 2 is never asked for")
				for i, c := range o.fake.ideaCalls {
					assert.Equal(t, i, c.Index)
					assert.True(t, c.FromSeeds)
				}
			},
		},
		{
			name: "a failed idea does not sink the campaign",
			in:   func(in *workflows.CampaignInput) { in.NumIdeas = 2 },
			fake: func(f *campaignFake) {
				f.ideas = func(in activities.IdeaInput) (activities.IdeaResult, error) {
					if in.Index == 0 {
						return activities.IdeaResult{}, temporal.NewNonRetryableApplicationError("idea 0: no parsable idea JSON", activities.ErrTypeUnparsable, nil)
					}
					return activities.IdeaResult{Idea: idea("beta"), Metered: activities.Metered{Usage: ideaUsage}}, nil
				}
			},
			children: []string{"paper/nanoGPT/beta"},
			stages:   []string{"preflight", "ideas", "papers", "done"},
			check: func(t *testing.T, o campaignOutcome) {
				require.Len(t, o.prog.Ideas, 2)
				assert.Equal(t, "idea_0", o.prog.Ideas[0].Name)
				assert.Equal(t, workflows.StateFailed, o.prog.Ideas[0].State)
				assert.Equal(t, "idea 0: no parsable idea JSON", o.prog.Ideas[0].Error)
				assert.Equal(t, completedStatus("beta"), o.prog.Ideas[1])
				assert.Len(t, o.fake.ideaCalls, 2, "an unparsable idea is not retried")
				assert.Equal(t, ideaUsage, o.prog.Tokens)
			},
		},
		{
			name: "no usable idea fails the campaign",
			fake: func(f *campaignFake) {
				f.ideas = func(activities.IdeaInput) (activities.IdeaResult, error) {
					return activities.IdeaResult{}, temporal.NewNonRetryableApplicationError("model refused", activities.ErrTypeModel, nil)
				}
			},
			stages:    []string{"preflight", "ideas", "failed"},
			wantErr:   []string{"no usable idea was generated", "model refused"},
			errTypes:  []string{"CampaignFailed"},
			progError: "ideas: no usable idea was generated; last error: model refused",
			check: func(t *testing.T, o campaignOutcome) {
				assert.Equal(t, []workflows.IdeaStatus{{Name: "idea_0", State: "failed", Error: "model refused"}}, o.prog.Ideas)
			},
		},
		{
			name: "only duplicates: no usable idea",
			fake: func(f *campaignFake) {
				f.ideas = ideasByIndex(activities.IdeaResult{Idea: idea("alpha"), Duplicate: true})
			},
			ideas:     []workflows.IdeaStatus{{Name: "alpha", Title: "Alpha Title", State: "skipped", Error: "duplicate of an earlier idea"}},
			stages:    []string{"preflight", "ideas", "failed"},
			wantErr:   []string{"no usable idea was generated"},
			errTypes:  []string{"CampaignFailed"},
			progError: "ideas: no usable idea was generated; last error: every idea repeated an earlier one",
		},
		{
			name: "papers run Parallel at a time",
			in:   func(in *workflows.CampaignInput) { in.NumIdeas, in.Parallel = 3, 2 },
			fake: func(f *campaignFake) {
				f.ideas = ideasByIndex(activities.IdeaResult{Idea: idea("alpha")}, activities.IdeaResult{Idea: idea("beta")}, activities.IdeaResult{Idea: idea("gamma")})
				f.child = func(ctx workflow.Context, in workflows.PaperInput) (workflows.PaperResult, error) {
					if err := workflow.Sleep(ctx, time.Hour); err != nil {
						return workflows.PaperResult{}, err
					}
					return completedPaper(ctx, in)
				}
			},
			children:  []string{"paper/nanoGPT/alpha", "paper/nanoGPT/beta", "paper/nanoGPT/gamma"},
			unordered: true,
			// gamma starts an hour later, and its folder says so.
			ideas: []workflows.IdeaStatus{completedStatus("alpha"), completedStatus("beta"),
				func() workflows.IdeaStatus {
					s := completedStatus("gamma")
					s.Result = "/results/nanoGPT/20250102_040405_gamma"
					return s
				}()},
			stages: []string{"preflight", "ideas", "papers", "done"},
			check: func(t *testing.T, o campaignOutcome) {
				starts := map[string]time.Duration{}
				for _, c := range o.fake.children {
					starts[c.IdeaName] = c.Start
				}
				assert.Equal(t, map[string]time.Duration{"alpha": 0, "beta": 0, "gamma": time.Hour}, starts)
			},
		},
		{
			name:   "defaults: one idea, three reflections, stamp from the start time",
			in:     func(in *workflows.CampaignInput) { in.NumIdeas, in.Stamp = 0, "" },
			stages: []string{"preflight", "ideas", "papers", "done"},
			check: func(t *testing.T, o campaignOutcome) {
				assert.Equal(t, []activities.IdeaInput{{CampaignKey: "nanoGPT/20250102_030405", Template: tmpl, Model: model, Reflections: 3}}, o.fake.ideaCalls)
				require.Len(t, o.fake.children, 1)
				assert.Equal(t, "nanoGPT/20250102_030405_alpha", o.fake.children[0].In.Paper.Key)
				assert.Equal(t, "/results/nanoGPT/20250102_030405_alpha", o.prog.Ideas[0].Result)
			},
			children: []string{"paper/nanoGPT/alpha"},
		},
	}

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := campaignInput()
			if tc.in != nil {
				tc.in(&in)
			}
			o := runCampaign(t, in, true, tc.fake)
			ids := o.fake.childIDs()
			if tc.unordered { // started concurrently
				sort.Strings(ids)
			}
			assert.Equal(t, tc.children, ids, "child workflows started, in order")
			assert.Equal(t, tc.stages, o.stages, "Stage search attribute upserts")
			if tc.ideas != nil {
				assert.Equal(t, tc.ideas, o.prog.Ideas)
			}
			if tc.wantErr == nil {
				require.NoError(t, o.err)
				assert.Equal(t, workflows.StateCompleted, o.prog.State)
				assert.Equal(t, workflows.StageDone, o.prog.Stage)
			} else {
				require.Error(t, o.err)
				for _, s := range tc.wantErr {
					assert.Contains(t, o.err.Error(), s)
				}
				assert.Equal(t, workflows.StateFailed, o.prog.State)
				assert.Equal(t, tc.progError, o.prog.Error, "progress error")
			}
			if tc.errTypes != nil {
				assert.Subset(t, appErrorTypes(o.err), tc.errTypes, "error types along the chain")
				assert.Equal(t, tc.errTypes[0], appErrorTypes(o.err)[0], "outermost error type")
			}
			if tc.check != nil {
				tc.check(t, o)
			}
		})
	}
}

// TestCampaignWithRealPaper runs the real PaperWorkflow as the child, with
// its activities mocked, so the campaign → paper hand-over is checked end to
// end (IDs, workspace key, results).
func TestCampaignWithRealPaper(t *testing.T) {
	t.Run("paper completes", func(t *testing.T) {
		pf := newPaperFake()
		o := runCampaign(t, campaignInput(), false, nil, pf)
		require.NoError(t, o.err)
		want := completedStatus("alpha")
		want.PDF = want.Result + "/alpha.pdf" // the workspace's PDF, as exported
		assert.Equal(t, []workflows.IdeaStatus{want}, o.prog.Ideas)
		assert.Equal(t, workflows.StageDone, o.prog.Stage)
		require.NotEmpty(t, pf.calls)
		assert.Equal(t, prepareCall(), pf.calls[0])
		assert.Equal(t, "export "+resultsTo+" "+folder, pf.calls[len(pf.calls)-1])
	})
	t.Run("paper fails", func(t *testing.T) {
		pf := newPaperFake()
		pf.prepare = func(activities.PaperSetup) (string, error) {
			return "", temporal.NewNonRetryableApplicationError("unknown template", activities.ErrTypeBadInput, nil)
		}
		o := runCampaign(t, campaignInput(), false, nil, pf)
		require.Error(t, o.err)
		assert.Contains(t, o.err.Error(), "no paper was completed")
		require.Len(t, o.prog.Ideas, 1)
		s := o.prog.Ideas[0]
		assert.Equal(t, workflows.StateFailed, s.State)
		assert.Equal(t, "paper/nanoGPT/alpha", s.PaperID)
		assert.Equal(t, "setup: unknown template", s.Error)
		assert.Equal(t, []string{prepareCall()}, pf.calls)
	})
}

// TestCampaignTemplateRunTimeout: the template's run_timeout_seconds
// reaches every paper unless the campaign sets its own.
func TestCampaignTemplateRunTimeout(t *testing.T) {
	for _, tc := range []struct {
		name      string
		set, want time.Duration
	}{{"template's", 0, 3 * time.Hour}, {"campaign's wins", 20 * time.Minute, 20 * time.Minute}} {
		t.Run(tc.name, func(t *testing.T) {
			in := campaignInput()
			in.RunTimeout = tc.set
			o := runCampaign(t, in, true, func(f *campaignFake) { f.templateTimeout = 3 * time.Hour })
			require.NoError(t, o.err)
			require.Len(t, o.fake.children, 1)
			assert.Equal(t, tc.want, o.fake.children[0].In.RunTimeout)
		})
	}
}

// TestCampaignNoveltyCheck: every idea is checked against the literature
// before any paper starts; the model searches, then decides; ideas judged
// not novel get no paper (unless kept), with their closest papers shown.
func TestCampaignNoveltyCheck(t *testing.T) {
	twoIdeas := func(f *campaignFake) {
		f.ideas = ideasByIndex(activities.IdeaResult{Idea: idea("alpha")}, activities.IdeaResult{Idea: idea("beta")})
		f.novelty = func(in activities.NoveltyInput) (activities.NoveltyResult, error) {
			if in.Round == 1 {
				return activities.NoveltyResult{Query: "about " + in.Idea.Name, Found: 3, Engine: "openalex"}, nil
			}
			if in.Idea.Name == "beta" {
				return activities.NoveltyResult{Decided: true, Closest: []string{"Beta Was Done (2021)"}}, nil
			}
			return activities.NoveltyResult{Decided: true, Novel: true, Closest: []string{"Near Alpha (2023)"}}, nil
		}
	}
	in := campaignInput()
	in.NumIdeas, in.SkipNoveltyCheck, in.Engine = 2, false, "openalex"
	t.Run("not novel gets no paper", func(t *testing.T) {
		o := runCampaign(t, in, true, twoIdeas)
		require.NoError(t, o.err)
		assert.Equal(t, []string{"paper/nanoGPT/alpha"}, o.fake.childIDs())
		require.Len(t, o.prog.Ideas, 2)
		assert.Equal(t, workflows.StateCompleted, o.prog.Ideas[0].State)
		assert.Equal(t, "novel; closest: Near Alpha (2023)", o.prog.Ideas[0].Novelty)
		assert.Equal(t, workflows.StateNotNovel, o.prog.Ideas[1].State)
		assert.Equal(t, "not novel; closest: Beta Was Done (2021)", o.prog.Ideas[1].Novelty)
		assert.Contains(t, o.prog.NoveltyCheck, "on (openalex first")
		assert.Equal(t, "novel; closest: Near Alpha (2023)", o.fake.children[0].In.Novelty, "the paper shows its verdict")
		// Two rounds each (the ideas' rounds run at once, in either order).
		require.Len(t, o.fake.novelties, 4)
		assert.ElementsMatch(t, []int{1, 1, 2, 2}, []int{o.fake.novelties[0].Round, o.fake.novelties[1].Round, o.fake.novelties[2].Round, o.fake.novelties[3].Round})
		assert.Equal(t, 1, o.fake.novelties[0].Round)
		assert.Equal(t, 10, o.fake.novelties[0].MaxRounds)
		assert.Equal(t, "openalex", o.fake.novelties[0].Engine)
		assert.Equal(t, []string{"preflight", "ideas", "novelty", "papers", "done"}, o.stages)
	})
	t.Run("kept with --keep-not-novel", func(t *testing.T) {
		keep := in
		keep.KeepNotNovel = true
		o := runCampaign(t, keep, true, twoIdeas)
		require.NoError(t, o.err)
		assert.Equal(t, []string{"paper/nanoGPT/alpha", "paper/nanoGPT/beta"}, o.fake.childIDs())
		assert.Equal(t, "not novel, run anyway (--keep-not-novel); closest: Beta Was Done (2021)", o.prog.Ideas[1].Novelty)
	})
	t.Run("a check that fails keeps the idea, saying so", func(t *testing.T) {
		o := runCampaign(t, in, true, func(f *campaignFake) {
			twoIdeas(f)
			f.novelty = func(in activities.NoveltyInput) (activities.NoveltyResult, error) {
				if in.Idea.Name == "beta" {
					return activities.NoveltyResult{}, temporal.NewNonRetryableApplicationError("semanticscholar: the key was refused (HTTP 403; check S2_API_KEY)", activities.ErrTypeLiterature, nil)
				}
				return activities.NoveltyResult{Decided: true, Novel: true}, nil
			}
		})
		require.NoError(t, o.err)
		assert.Equal(t, []string{"paper/nanoGPT/alpha", "paper/nanoGPT/beta"}, o.fake.childIDs())
		assert.Equal(t, "not checked: semanticscholar: the key was refused (HTTP 403; check S2_API_KEY)", o.prog.Ideas[1].Novelty)
	})
	t.Run("no novel idea fails the campaign", func(t *testing.T) {
		o := runCampaign(t, in, true, func(f *campaignFake) {
			twoIdeas(f)
			f.novelty = func(activities.NoveltyInput) (activities.NoveltyResult, error) {
				return activities.NoveltyResult{Decided: true}, nil
			}
		})
		require.Error(t, o.err)
		assert.Contains(t, o.err.Error(), "no idea passed the novelty check")
		assert.Empty(t, o.fake.childIDs())
	})
	t.Run("checks that run at once share what is left of the budget", func(t *testing.T) {
		b := in
		b.BudgetUSD = 1
		o := runCampaign(t, b, true, twoIdeas)
		require.NoError(t, o.err)
		assert.InDelta(t, 0.5, o.fake.novelties[0].Budget.LimitUSD-o.fake.novelties[0].Budget.SpentUSD, 0.1)
	})
}
