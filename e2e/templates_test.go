package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aiscientist/aiscientist/activities"
	"github.com/aiscientist/aiscientist/internal/latex"
	"github.com/aiscientist/aiscientist/internal/numbers"
	"github.com/aiscientist/aiscientist/worker/app"
	"github.com/aiscientist/aiscientist/workflows"
)

// TestOurTemplatesPapers: a whole quick paper on each of our templates
// besides grokking (TestOnePaperEndToEnd has that one), both on one
// embedded server at once, the scripted double sweeping one setting of
// each: real runs of the quick configuration, real plots, a PDF whose
// numbers all match the runs.
func TestOurTemplatesPapers(t *testing.T) {
	requireTools(t)
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Minute)
	defer cancel()
	templates, _ := filepath.Abs("../templates")
	a, err := app.Start(ctx, app.Config{Dev: true, DataDir: t.TempDir(), Port: -1, UIPort: freePort(t), Templates: templates, Python: os.Getenv("AISCI_PYTHON")})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Stop()
	results := t.TempDir()
	var wg sync.WaitGroup
	for _, name := range []string{"2d_diffusion", "nanoGPT"} {
		if _, err := os.Stat(filepath.Join(templates, name)); err != nil {
			t.Errorf("templates/%s is missing", name)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			id, err := app.StartCampaign(ctx, a.Client, workflows.CampaignInput{
				Template: name, Model: "scripted", NumIdeas: 1, Quick: true, ResultsDir: results, MaxRuns: 2, RunTimeout: 10 * time.Minute,
				SkipNoveltyCheck: true, SkipCitations: true, Review: activities.ReviewSpec{Ensemble: 1, Reflections: -1},
			})
			if err != nil {
				t.Errorf("%s: %v", name, err)
				return
			}
			var prog workflows.CampaignProgress
			if err := a.Client.GetWorkflow(ctx, id, "").Get(ctx, &prog); err != nil {
				t.Errorf("%s: campaign failed: %v", name, err)
				return
			}
			if len(prog.Ideas) != 1 || prog.Ideas[0].State != workflows.StateCompleted {
				t.Errorf("%s: campaign progress = %+v", name, prog)
				return
			}
			idea := prog.Ideas[0]
			pp := paperProgress(ctx, t, a, idea.PaperID)
			t.Logf("%s: paper %s in %s, runs %+v, figures %d, numbers %s, warnings %q", name, idea.Name, time.Since(start).Round(time.Second), pp.Runs, pp.Figures, pp.Numbers, pp.Warnings)
			if pp.Figures == 0 || len(pp.Warnings) > 0 {
				t.Errorf("%s: %d figures, warnings %q", name, pp.Figures, pp.Warnings)
			}
			text, err := latex.PDFText(ctx, filepath.Join(idea.Result, idea.Name+".pdf"))
			if err != nil {
				t.Errorf("%s: %v", name, err)
				return
			}
			if !strings.Contains(text, "Results") || !strings.Contains(text, "References") {
				t.Errorf("%s: the PDF lacks its Results or References", name)
			}
			if rep, err := numbers.CheckDir(idea.Result); err != nil || rep.Unmatched != 0 {
				t.Errorf("%s: numbers %+v, %v", name, numbers.Unmatched(rep), err)
			}
		}()
	}
	wg.Wait()
}
