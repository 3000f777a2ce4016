// Package app is the composition root: it wires a worker process (the
// embedded server, optional; the Temporal client; the activities'
// dependencies; the workers of the orchestration queue and of experiment
// hosts) and holds the client operations the starter shares (dial, start a
// campaign, resume, replay). Both `worker` and `starter` use it, so their
// mains stay thin.
package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/envconfig"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/aiscientist/aiscientist/activities"
	"github.com/aiscientist/aiscientist/internal/codec"
	"github.com/aiscientist/aiscientist/internal/devserver"
	"github.com/aiscientist/aiscientist/internal/latex"
	"github.com/aiscientist/aiscientist/internal/llm"
	"github.com/aiscientist/aiscientist/internal/logging"
	"github.com/aiscientist/aiscientist/internal/sandbox"
	"github.com/aiscientist/aiscientist/internal/scholar"
	"github.com/aiscientist/aiscientist/internal/scripted"
	"github.com/aiscientist/aiscientist/internal/store"
	"github.com/aiscientist/aiscientist/internal/store/s3store"
	"github.com/aiscientist/aiscientist/internal/telemetry"
	"github.com/aiscientist/aiscientist/internal/template"
	"github.com/aiscientist/aiscientist/workflows"
)

// Config of a worker process.
type Config struct {
	Dev     bool   // embed a Temporal server and the Web UI
	DataDir string // embedded server database and default artifact store
	// DB keeps the embedded server's data in PostgreSQL
	// (postgres://USER:PASS@HOST:PORT/DB) instead of the SQLite file.
	DB        string
	Port      int    // embedded gRPC port (0: 7233, -1: any free port)
	UIPort    int    // embedded UI port (0: port+1000, -1: none)
	Artifacts string // artifact store root (default <data-dir>/artifacts)
	Templates string // templates folder
	// TemplatesDirs are more folders of templates (a reference-system
	// templates folder as it is), searched before Templates.
	TemplatesDirs []string
	Python        string // interpreter for experiments (empty: AISCI_PYTHON or discovery)
	// ModelsFile overrides or extends the model table (JSON; empty: AISCI_MODELS).
	ModelsFile string
	// LLMBaseURL serves local/<model> names (Ollama, vLLM, llama.cpp).
	LLMBaseURL string
	// NoSandbox runs experiments without the bubblewrap sandbox (also
	// AISCI_NO_SANDBOX=1), for hosts that cannot use it.
	NoSandbox bool
	// Host names this process as an experiment host (default: the machine's
	// name); NoExperiments makes it orchestrate only; CPUSlots is how many
	// experiments a host without GPUs runs at once (0: one per four cores);
	// PlotSlots how many plot.py scripts it runs at once, on its CPUs (0:
	// DefaultPlotSlots).
	Host          string
	NoExperiments bool
	CPUSlots      int
	PlotSlots     int
	// Remote holds the workspaces (S3, MinIO) so that workers and hosts
	// need no shared file system; the artifact folder is then a cache. Nil:
	// the artifact folder is the store (shared by every worker, if several).
	Remote *s3store.Store
	// LLMConcurrency bounds this process's model calls at once (0: none).
	LLMConcurrency int
	// Literature configures the literature search; empty fields come from
	// the environment (S2_API_KEY, SEMANTIC_SCHOLAR_BASE_URL, ...), and the
	// cache is <artifacts>/literature unless set.
	Literature scholar.Config
	// MetricsAddr serves Prometheus metrics at http://<addr>/metrics (the
	// SDK's, the embedded server's and this project's); empty: not served.
	MetricsAddr string
	// ScriptedLatency makes the scripted test double answer after this
	// long, as a real model would (the throughput benchmark).
	ScriptedLatency time.Duration
	Logger          *zap.Logger
}

// App is a running worker process.
type App struct {
	Server *devserver.Server // nil without Dev
	Client client.Client
	Worker worker.Worker
	// serverLevel lets Stop silence the embedded server, whose shutdown
	// logs connection errors that are expected and alarming to read.
	serverLevel zap.AtomicLevel
	// newActivities builds the activities' dependencies once more (for each
	// device of an experiment host).
	newActivities func(artifacts string) *activities.Activities
	hosts         []*HostWorkers
	logger        *zap.Logger
	// Metrics is the process's registry; MetricsAddr where it is served
	// ("" when not).
	Metrics     *telemetry.Metrics
	MetricsAddr string
	stopMetrics context.CancelFunc
	// actCtx carries Metrics to every activity of every worker.
	actCtx context.Context
}

// DefaultDataDir is ~/.aiscientist, so every run of `worker --dev` finds
// the same database wherever it is started.
func DefaultDataDir() string {
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".aiscientist")
	}
	return ".aiscientist"
}

// Start brings everything up; Stop tears it down.
func Start(ctx context.Context, cfg Config) (*App, error) {
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	if cfg.DataDir == "" {
		cfg.DataDir = DefaultDataDir()
	}
	if cfg.Artifacts == "" {
		cfg.Artifacts = filepath.Join(cfg.DataDir, "artifacts")
	}
	var err error
	if cfg.Templates, err = filepath.Abs(cfg.Templates); err != nil {
		return nil, err
	}
	if st, err := os.Stat(cfg.Templates); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("templates folder %s not found (run from the repository root or pass --templates)", cfg.Templates)
	}
	var roots []string
	for _, d := range cfg.TemplatesDirs {
		abs, err := filepath.Abs(d)
		if err != nil {
			return nil, err
		}
		if st, err := os.Stat(abs); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("--templates-dir %s is not a folder", d)
		}
		roots = append(roots, abs)
	}
	cfg.Templates = template.Roots(append(roots, cfg.Templates)...)
	if cfg.Artifacts, err = filepath.Abs(cfg.Artifacts); err != nil {
		return nil, err
	}
	sb := SandboxConfig(cfg.NoSandbox, cfg.DataDir, cfg.Artifacts)
	if err := sb.Check(); err != nil {
		return nil, err
	}
	if sb.Disabled {
		cfg.Logger.Warn("experiment sandbox disabled (--no-sandbox or AISCI_NO_SANDBOX): experiments run with the worker's privileges, network and environment")
	} else {
		cfg.Logger.Info("experiment sandbox", zap.String("sandbox", sb.Summary()))
	}
	a := &App{serverLevel: zap.NewAtomicLevelAt(zapcore.ErrorLevel)}
	cdc, err := CodecFromEnv()
	if err != nil {
		return nil, err
	}
	if a.Metrics, err = telemetry.New(); err != nil {
		return nil, err
	}
	a.actCtx = telemetry.NewContext(context.Background(), a.Metrics)
	opts := client.Options{}
	if cfg.Dev {
		dopts := devserver.Options{
			DataDir: cfg.DataDir, DB: cfg.DB, GRPCPort: cfg.Port, UIPort: cfg.UIPort,
			SearchAttributes: workflows.SearchAttributes(),
			Logger:           cfg.Logger.Named("temporal").WithOptions(zap.IncreaseLevel(a.serverLevel)),
		}
		if cdc != nil {
			dopts.Codec = cdc.Handler
		}
		if cfg.MetricsAddr != "" {
			dopts.Meter = a.Metrics.Meter("temporal-server")
		}
		if a.Server, err = devserver.Start(ctx, dopts); err != nil {
			return nil, err
		}
		opts.HostPort, opts.Namespace = a.Server.HostPort(), a.Server.Namespace()
	} else if opts, err = envconfig.LoadDefaultClientOptions(); err != nil {
		return nil, fmt.Errorf("temporal client settings: %w", err)
	}
	if cdc != nil {
		opts.DataConverter, opts.FailureConverter = cdc.DataConverter(), cdc.FailureConverter()
		cfg.Logger.Info("payload encryption on (AES-256-GCM)", zap.String("key", cdc.KeyID()))
	}
	opts.Logger = logging.Temporal(cfg.Logger.Named("sdk").WithOptions(zap.IncreaseLevel(zapcore.WarnLevel)))
	if cfg.MetricsAddr != "" {
		opts.MetricsHandler = a.Metrics.SDKHandler(cfg.Logger)
		mctx, stop := context.WithCancel(context.Background())
		if a.MetricsAddr, err = a.Metrics.Serve(mctx, cfg.MetricsAddr); err != nil {
			stop()
			a.Stop()
			return nil, err
		}
		a.stopMetrics = stop
		cfg.Logger.Info("metrics served", zap.String("url", "http://"+a.MetricsAddr+"/metrics"))
	}
	if a.Client, err = client.DialContext(ctx, opts); err != nil {
		a.Stop()
		return nil, fmt.Errorf("connect to Temporal at %s: %w", hostOr(opts.HostPort), err)
	}
	registry, err := NewRegistry(cfg.ModelsFile, cfg.LLMBaseURL)
	if err != nil {
		a.Stop()
		return nil, err
	}
	if cfg.ScriptedLatency > 0 {
		registry.Scripted = slowDoer{next: registry.Scripted, d: cfg.ScriptedLatency}
	}
	a.logger = cfg.Logger
	// Literature requests are counted by engine (a copy: the caller's client stays as it is).
	litClient := &http.Client{}
	if cfg.Literature.Client != nil {
		*litClient = *cfg.Literature.Client
	}
	litClient.Transport = a.Metrics.Literature(litClient.Transport, scholar.EngineOf)
	cfg.Literature.Client = litClient
	lit, err := literature(cfg.Literature, cfg.Artifacts)
	if err != nil {
		a.Stop()
		return nil, err
	}
	var modelSlots chan struct{}
	if cfg.LLMConcurrency > 0 {
		modelSlots = make(chan struct{}, cfg.LLMConcurrency)
	}
	a.newActivities = func(artifacts string) *activities.Activities {
		acts := &activities.Activities{
			Store:     store.Local{Root: cfg.Artifacts},
			Templates: cfg.Templates,
			LLM:       registry,
			Python:    cfg.Python,
			LaTeX:     latex.Compiler{},
			Sandbox:   sb,
			Remote:    cfg.Remote,

			Literature: lit,
			ModelSlots: modelSlots,
		}
		if artifacts != "" && artifacts != cfg.Artifacts {
			acts.Store.Root = artifacts
			acts.Sandbox = SandboxConfig(cfg.NoSandbox, cfg.DataDir, cfg.Artifacts, artifacts)
		}
		return acts
	}
	if cfg.Remote != nil {
		cfg.Logger.Info("workspaces kept in object storage; the artifact folder is this worker's cache",
			zap.String("bucket", cfg.Remote.Bucket()), zap.String("cache", cfg.Artifacts))
	}
	a.Worker = worker.New(a.Client, workflows.TaskQueue, worker.Options{BackgroundActivityContext: a.actCtx})
	workflows.Register(a.Worker, a.newActivities(""))
	if err := a.Worker.Start(); err != nil {
		a.Stop()
		return nil, fmt.Errorf("start worker: %w", err)
	}
	if !cfg.NoExperiments {
		if _, err := a.AddHost(HostConfig{Name: cfg.Host, CPUSlots: cfg.CPUSlots, PlotSlots: cfg.PlotSlots}); err != nil {
			a.Stop()
			return nil, err
		}
	}
	return a, nil
}

// SandboxConfig is the experiment sandbox of a worker whose data folder and
// artifact store are hide (hidden from experiments: they hold other papers
// and the server's database): the defaults, disabled by noSandbox or
// AISCI_NO_SANDBOX=1.
func SandboxConfig(noSandbox bool, hide ...string) sandbox.Config {
	c := sandbox.DefaultConfig()
	c.Disabled = noSandbox || sandbox.EnvOptOut()
	for _, h := range hide {
		if h == "" {
			continue
		}
		if abs, err := filepath.Abs(h); err == nil {
			c.Hide = append(c.Hide, abs)
		}
	}
	return c
}

// literature builds the process's one literature service: cfg's settings,
// the environment's for the ones left empty.
func literature(cfg scholar.Config, artifacts string) (*scholar.Service, error) {
	env := scholar.ConfigFromEnv(os.Getenv)
	for _, f := range []struct {
		dst *string
		env string
	}{{&cfg.S2Key, env.S2Key}, {&cfg.S2URL, env.S2URL},
		{&cfg.Mail, env.Mail}, {&cfg.OpenAlexURL, env.OpenAlexURL}, {&cfg.ArXivURL, env.ArXivURL}} {
		if *f.dst == "" {
			*f.dst = f.env
		}
	}
	if cfg.CacheDir == "" {
		cfg.CacheDir = filepath.Join(artifacts, "literature")
	}
	return scholar.New(cfg)
}

// NewRegistry builds the model registry: built-in models, the models file
// (or AISCI_MODELS) and the in-process scripted model.
func NewRegistry(modelsFile, localBaseURL string) (*llm.Registry, error) {
	if modelsFile == "" {
		modelsFile = os.Getenv("AISCI_MODELS")
	}
	var extra []llm.ModelInfo
	if modelsFile != "" {
		var err error
		if extra, err = llm.LoadModelsFile(modelsFile); err != nil {
			return nil, err
		}
	}
	return &llm.Registry{Scripted: scripted.NewInProcess(), Catalog: llm.NewCatalog(extra...), LocalBaseURL: localBaseURL}, nil
}

// slowDoer answers after d, or when the request is cancelled.
type slowDoer struct {
	next interface {
		Do(*http.Request) (*http.Response, error)
	}
	d time.Duration
}

func (s slowDoer) Do(r *http.Request) (*http.Response, error) {
	select {
	case <-time.After(s.d):
	case <-r.Context().Done():
		return nil, r.Context().Err()
	}
	return s.next.Do(r)
}

// Stop stops the worker, the client and the embedded server.
func (a *App) Stop() {
	for _, h := range a.hosts {
		h.Stop()
	}
	if a.Worker != nil {
		a.Worker.Stop()
	}
	if a.Client != nil {
		a.Client.Close()
	}
	if a.Server != nil {
		a.serverLevel.SetLevel(zapcore.FatalLevel)
		_ = a.Server.Stop()
	}
	if a.stopMetrics != nil {
		a.stopMetrics()
	}
}

// Dial connects a client using TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE (the
// envconfig conventions), with address overriding when set.
func Dial(ctx context.Context, address, namespace string, logger *zap.Logger) (client.Client, error) {
	opts, err := envconfig.LoadDefaultClientOptions()
	if err != nil {
		return nil, fmt.Errorf("temporal client settings: %w", err)
	}
	if address != "" {
		opts.HostPort = address
	}
	if namespace != "" {
		opts.Namespace = namespace
	}
	cdc, err := CodecFromEnv()
	if err != nil {
		return nil, err
	}
	if cdc != nil {
		opts.DataConverter, opts.FailureConverter = cdc.DataConverter(), cdc.FailureConverter()
	}
	if logger == nil {
		logger = zap.NewNop()
	}
	opts.Logger = logging.Temporal(logger.WithOptions(zap.IncreaseLevel(zapcore.WarnLevel)))
	c, err := client.DialContext(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("connect to Temporal at %s: %w (is `go run ./worker --dev` running?)", hostOr(opts.HostPort), err)
	}
	return c, nil
}

// StartCampaign starts a campaign with a readable ID,
// campaign/<template>/<stamp>.
func StartCampaign(ctx context.Context, c client.Client, in workflows.CampaignInput) (string, error) {
	if in.Stamp == "" {
		in.Stamp = time.Now().UTC().Format("20060102_150405")
	}
	id := workflows.CampaignWorkflowID(in.Template, in.Stamp)
	_, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:            id,
		TaskQueue:     workflows.TaskQueue,
		StaticSummary: fmt.Sprintf("%s: %d ideas with %s", in.Template, max(in.NumIdeas, 1), in.Model),
		TypedSearchAttributes: temporal.NewSearchAttributes(workflows.TemplateKey.ValueSet(in.Template),
			workflows.StageKey.ValueSet(string(workflows.StagePreflight)), workflows.StateKey.ValueSet(string(workflows.StateRunning))),
	}, workflows.CampaignWorkflow, in)
	if err != nil {
		return "", fmt.Errorf("start campaign: %w", err)
	}
	return id, nil
}

func hostOr(h string) string {
	if h == "" {
		return client.DefaultHostPort
	}
	return h
}

// StartReview starts a standalone review of a PDF already in the artifact
// store (see workflows.ReviewWorkflow) and returns its workflow ID.
func StartReview(ctx context.Context, c client.Client, stamp string, in workflows.ReviewWorkflowInput) (string, error) {
	id := workflows.ReviewWorkflowID(stamp, in.Review.Paper.Name)
	_, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:            id,
		TaskQueue:     workflows.TaskQueue,
		StaticSummary: fmt.Sprintf("review of %s with %s", in.Review.PDF, in.Review.Spec.Model),
		TypedSearchAttributes: temporal.NewSearchAttributes(workflows.StageKey.ValueSet(string(workflows.StageReview)),
			workflows.StateKey.ValueSet(string(workflows.StateRunning))),
		Memo: map[string]any{"workspace_key": in.Review.Paper.Key},
	}, workflows.ReviewWorkflow, in)
	if err != nil {
		return "", fmt.Errorf("start review: %w", err)
	}
	return id, nil
}

// StartBaseline starts a standalone baseline run (see
// workflows.BaselineWorkflow) and returns its workflow ID. One runs per
// template, configuration and host at a time: starting a second one while
// the first runs is an error naming it.
func StartBaseline(ctx context.Context, c client.Client, in workflows.BaselineInput) (string, error) {
	if in.Stamp == "" {
		in.Stamp = time.Now().UTC().Format("20060102_150405")
	}
	id := workflows.BaselineWorkflowID(in.Template, in.Quick, in.Host)
	where := in.Host
	if where == "" {
		where = "the first experiment host that answers"
	}
	_, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                                       id,
		TaskQueue:                                workflows.TaskQueue,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		StaticSummary:                            fmt.Sprintf("baseline of %s (%s) on %s", in.Template, baselineMode(in.Quick), where),
		TypedSearchAttributes: temporal.NewSearchAttributes(workflows.TemplateKey.ValueSet(in.Template),
			workflows.StageKey.ValueSet(string(workflows.StageSetup)), workflows.StateKey.ValueSet(string(workflows.StateRunning))),
		Memo: map[string]any{"workspace_key": workflows.BaselineKey(in.Template, in.Stamp, in.Quick)},
	}, workflows.BaselineWorkflow, in)
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		return "", fmt.Errorf("a baseline of %s is already running as %s: follow it with `starter status %s`, or wait for it", in.Template, id, id)
	}
	if err != nil {
		return "", fmt.Errorf("start baseline: %w", err)
	}
	return id, nil
}

func baselineMode(quick bool) string {
	if quick {
		return "quick"
	}
	return "full"
}

// CodecFromEnv is the payload codec that AISCI_CODEC_KEY (or
// AISCI_CODEC_KEY_FILE) configures; nil when neither is set. Workers and
// the starter must share the keys.
func CodecFromEnv() (*codec.Codec, error) {
	keys, err := codec.FromEnv(os.Getenv)
	if err != nil || keys == nil {
		return nil, err
	}
	return codec.New(keys)
}

// DataConverter reads payloads as the workers wrote them: decrypting them
// when a key is set (memos, markers, heartbeat details), as they are
// otherwise.
func DataConverter() (converter.DataConverter, error) {
	cdc, err := CodecFromEnv()
	if err != nil || cdc == nil {
		return converter.GetDefaultDataConverter(), err
	}
	return cdc.DataConverter(), nil
}
