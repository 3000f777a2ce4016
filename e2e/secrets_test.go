package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/aiscientist/aiscientist/activities"
	"github.com/aiscientist/aiscientist/internal/scholar"
	"github.com/aiscientist/aiscientist/internal/scripted"
	"github.com/aiscientist/aiscientist/worker/app"
	"github.com/aiscientist/aiscientist/workflows"
)

// canaryVars are every secret the workers read from their environment.
var canaryVars = []string{"OPENAI_API_KEY", "ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "GEMINI_API_KEY", "DEEPSEEK_API_KEY",
	"OPENROUTER_API_KEY", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_BEARER_TOKEN_BEDROCK", "VERTEXAI_ACCESS_TOKEN", "S2_API_KEY"}

// TestSecretsStayOut: with a canary in every key variable, a campaign
// whose model is reached over HTTP with OPENAI_API_KEY (the scripted
// double behind an OpenAI-compatible endpoint, failing its first request)
// and whose novelty check sends S2_API_KEY to the literature double
// leaves no canary in Temporal's database, the artifact store, the
// results or the worker's logs, while the keys did reach the servers.
func TestSecretsStayOut(t *testing.T) {
	requireTools(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	canary := map[string]string{}
	for _, v := range canaryVars {
		canary[v] = fmt.Sprintf("canary-%s-7f3a9c", strings.ToLower(v))
		t.Setenv(v, canary[v])
	}
	var sawKey, requests atomic.Int64
	model := scripted.Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "Bearer "+canary["OPENAI_API_KEY"] {
			sawKey.Add(1)
		}
		if requests.Add(1) == 1 { // a failure, so failure paths are covered too
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(`{"error": {"message": "overloaded, try again", "type": "server_error"}}`))
			return
		}
		model.ServeHTTP(w, r)
	}))
	defer srv.Close()
	var s2Key atomic.Int64
	litHandler := scholar.FakeHandler()
	lit := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Api-Key") == canary["S2_API_KEY"] {
			s2Key.Add(1)
		}
		litHandler.ServeHTTP(w, r)
	}))
	defer lit.Close()
	models := filepath.Join(t.TempDir(), "models.json")
	if err := os.WriteFile(models, []byte(fmt.Sprintf(`[{"name": "canary-gpt", "provider": "openai", "api_model": "scripted", "base_url": %q, "input_per_m": 1, "output_per_m": 2, "output_cap": 4096}]`, srv.URL+"/v1")), 0o644); err != nil {
		t.Fatal(err)
	}
	dataDir, results := t.TempDir(), t.TempDir()
	logFile := filepath.Join(t.TempDir(), "worker.log")
	lf, err := os.Create(logFile)
	if err != nil {
		t.Fatal(err)
	}
	defer lf.Close()
	logger := zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(lf), zap.DebugLevel))
	templates, _ := filepath.Abs("../templates")
	extra, _ := filepath.Abs("testdata/refstyle")
	a, err := app.Start(ctx, app.Config{Dev: true, DataDir: dataDir, Port: -1, UIPort: freePort(t), Templates: templates, TemplatesDirs: []string{extra},
		Python: os.Getenv("AISCI_PYTHON"), ModelsFile: models, Literature: scholar.FakeConfig(lit.URL), Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Stop()
	id, err := app.StartCampaign(ctx, a.Client, workflows.CampaignInput{
		Template: "walks", Model: "canary-gpt", NumIdeas: 1, Quick: true, ResultsDir: results, MaxRuns: 1, RunTimeout: 5 * time.Minute,
		SkipCitations: true, Review: activities.ReviewSpec{Ensemble: 1, Reflections: -1},
	})
	if err != nil {
		t.Fatal(err)
	}
	var prog workflows.CampaignProgress
	if err := a.Client.GetWorkflow(ctx, id, "").Get(ctx, &prog); err != nil || len(prog.Ideas) != 1 || prog.Ideas[0].State != workflows.StateCompleted {
		t.Fatalf("campaign: %v, %+v", err, prog)
	}
	a.Stop()
	_ = logger.Sync()
	if sawKey.Load() == 0 || s2Key.Load() == 0 {
		t.Fatalf("the keys were never used (%d model requests and %d literature searches carried them): the scenario did not happen", sawKey.Load(), s2Key.Load())
	}
	if st, _ := os.Stat(logFile); st == nil || st.Size() == 0 {
		t.Fatal("the worker wrote no log to scan")
	}
	for _, root := range []string{dataDir, results, logFile} {
		for _, v := range canaryVars {
			if f := fileHolding(root, "", canary[v]); f != "" {
				t.Errorf("%s holds the %s canary", f, v)
			}
		}
	}
}
