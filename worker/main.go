// Command worker runs the AI Scientist's workflows and activities. With
// --dev it also embeds a Temporal server (SQLite file) and the Web UI.
package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/aiscientist/aiscientist/internal/logging"
	"github.com/aiscientist/aiscientist/internal/pyrun"
	"github.com/aiscientist/aiscientist/internal/store/s3store"
	"github.com/aiscientist/aiscientist/worker/app"
	"github.com/aiscientist/aiscientist/workflows"
)

func main() {
	var cfg app.Config
	var level string
	s3cfg := s3store.ConfigFromEnv(os.Getenv)
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Run the AI Scientist worker (add --dev for an embedded Temporal server and Web UI)",
		Long: `Runs the workflows and activities of the AI Scientist.

Without --dev the worker connects to TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE
(Temporal's environment configuration). With --dev it starts, in this process,
a Temporal server persisting to a SQLite file under --data-dir (or to
PostgreSQL with --db postgres://USER:PASS@HOST:PORT/DB), the Temporal Web UI,
and the worker; finished papers stay visible across restarts.`,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger, err := logging.New(level)
			if err != nil {
				return err
			}
			defer logger.Sync() //nolint:errcheck
			cfg.Logger = logger
			if cfg.Python == "" {
				cfg.Python = os.Getenv("AISCI_PYTHON")
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if cfg.Remote, err = remoteStore(ctx, s3cfg); err != nil {
				return err
			}
			a, err := app.Start(ctx, cfg)
			if err != nil {
				return err
			}
			defer a.Stop()
			if a.Server != nil {
				logger.Info("embedded Temporal server ready", zap.String("grpc", a.Server.HostPort()), zap.String("web_ui", a.Server.UIURL()), zap.String("data_dir", cfg.DataDir))
				fmt.Fprintf(os.Stderr, "\nTemporal gRPC: %s\nWeb UI:        %s\n", a.Server.HostPort(), a.Server.UIURL())
				if u := a.Server.CodecURL(); u != "" {
					fmt.Fprintf(os.Stderr, "Codec:         %s (decodes the encrypted payloads for the Web UI; loopback only)\n", u)
				}
				fmt.Fprintln(os.Stderr)
			}
			logger.Info("worker polling", zap.String("task_queue", workflows.TaskQueue))
			<-ctx.Done()
			logger.Info("shutting down")
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&cfg.Dev, "dev", false, "embed a Temporal server (SQLite file) and the Web UI in this process")
	f.StringVar(&cfg.DataDir, "data-dir", app.DefaultDataDir(), "where --dev keeps its database and, by default, the artifact store")
	f.StringVar(&cfg.MetricsAddr, "metrics-addr", os.Getenv("AISCI_METRICS_ADDR"), "serve Prometheus metrics at http://ADDR/metrics, e.g. 127.0.0.1:9090 or :9090 (the SDK's, the embedded server's with --dev, and this project's series; default $AISCI_METRICS_ADDR, empty: off)")
	f.StringVar(&cfg.DB, "db", os.Getenv("AISCI_TEMPORAL_DB"), "with --dev: keep the server's data in PostgreSQL, postgres://USER:PASS@HOST:PORT/DB (databases DB and DB_visibility, created and set up when missing; default $AISCI_TEMPORAL_DB, else the SQLite file)")
	f.IntVar(&cfg.Port, "port", 7233, "gRPC port of the embedded server (Web UI on port+1000)")
	f.StringVar(&cfg.Artifacts, "artifacts", "", "artifact store folder (default <data-dir>/artifacts)")
	f.StringVar(&cfg.Templates, "templates", "templates", "folder holding the research templates")
	f.StringSliceVar(&cfg.TemplatesDirs, "templates-dir", nil, "more folders of templates, searched first (e.g. the reference system's templates/ as it is); repeatable")
	f.StringVar(&cfg.Python, "python", "", "Python interpreter for experiments (default $AISCI_PYTHON, else the first that imports the template's packages)")
	f.StringVar(&cfg.ModelsFile, "models", "", "JSON file adding or overriding models (default $AISCI_MODELS)")
	f.StringVar(&cfg.LLMBaseURL, "llm-base-url", "", "OpenAI-compatible local server for local/<model> names (Ollama, vLLM, llama.cpp)")
	f.StringVar(&level, "log-level", "info", "log level: debug, info, warn, error")
	f.StringVar(&cfg.Host, "host", "", "name of this experiment host (default: the machine's host name)")
	f.BoolVar(&cfg.NoExperiments, "no-experiments", false, "orchestrate only: run no experiments on this machine")
	f.IntVar(&cfg.CPUSlots, "cpu-slots", 0, "experiments at once on a host without GPUs (0: one per four cores)")
	f.IntVar(&cfg.PlotSlots, "plot-slots", app.DefaultPlotSlots, "plot.py scripts at once on this experiment host (they run on its CPUs and wait for no GPU)")
	f.BoolVar(&cfg.NoSandbox, "no-sandbox", false, "run experiments without the bubblewrap sandbox, with the worker's privileges, network and environment (also AISCI_NO_SANDBOX=1); for hosts that cannot use it")
	f.IntVar(&cfg.LLMConcurrency, "llm-concurrency", envInt("AISCI_LLM_CONCURRENCY"), "model calls this worker makes at once, across all papers (0: no limit; default $AISCI_LLM_CONCURRENCY); others wait their turn")
	f.StringVar(&s3cfg.Bucket, "s3-bucket", s3cfg.Bucket, "keep workspaces in this S3 bucket (or MinIO) instead of only the artifact folder, so hosts need no shared file system (default $AISCI_S3_BUCKET)")
	f.StringVar(&s3cfg.Prefix, "s3-prefix", s3cfg.Prefix, "object prefix for workspaces (default $AISCI_S3_PREFIX, else aiscientist)")
	f.StringVar(&s3cfg.Endpoint, "s3-endpoint", s3cfg.Endpoint, "S3-compatible endpoint such as http://minio:9000 (default $AISCI_S3_ENDPOINT)")
	exit := 0
	cmd.PreRunE = func(cmd *cobra.Command, _ []string) error {
		if cmd.Flags().Changed("db") && !cfg.Dev {
			return fmt.Errorf("--db is the embedded server's database: use it with --dev, or run the server alone with worker server --db")
		}
		return nil
	}
	cmd.AddCommand(sandboxRunCmd(&exit), gpusCmd(), serverCmd())
	if err := cmd.Execute(); err != nil {
		os.Exit(1)
	}
	os.Exit(exit)
}

// sandboxRunCmd is `worker sandbox-run`: one command run exactly as an
// experiment is run (same sandbox, limits and environment), for operators
// and tests. Its exit status is the command's, 124 on timeout.
func sandboxRunCmd(exit *int) *cobra.Command {
	var dir, dataDir, artifacts string
	var timeout time.Duration
	var noSandbox bool
	c := &cobra.Command{
		Use:   "sandbox-run --dir DIR [--timeout 30s] [--no-sandbox] -- CMD ARGS...",
		Short: "Run one command exactly as an experiment is run (same sandbox and limits)",
		Long: `Runs CMD inside the experiment sandbox: DIR is its working directory and only
writable host folder, with no network, a read-only system, private /tmp and
/dev/shm, the worker's data folder hidden, the experiments' environment
(AISCI_QUICK and CUDA_VISIBLE_DEVICES are passed on when set) and limits.
stdout and stderr go to the terminal. The exit status is the command's, 124
when the timeout killed it.`,
		Args:         cobra.MinimumNArgs(1),
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if dir == "" {
				return fmt.Errorf("--dir is required")
			}
			if artifacts == "" {
				artifacts = filepath.Join(dataDir, "artifacts")
			}
			sb := app.SandboxConfig(noSandbox, dataDir, artifacts)
			if err := sb.Check(); err != nil {
				return err
			}
			prog, err := exec.LookPath(args[0])
			if err != nil {
				return err
			}
			env := []string{"PYTHONUNBUFFERED=1", "MPLBACKEND=Agg"}
			for _, k := range []string{"AISCI_QUICK", "CUDA_VISIBLE_DEVICES"} {
				if v, ok := os.LookupEnv(k); ok {
					env = append(env, k+"="+v)
				}
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			res, err := pyrun.Run(ctx, pyrun.Spec{
				Python: prog, Args: args[1:], Dir: dir, Env: env, Timeout: timeout,
				Stdout: os.Stdout, Stderr: os.Stderr, Sandbox: &sb,
			})
			switch {
			case err != nil && ctx.Err() != nil:
				fmt.Fprintln(os.Stderr, "sandbox-run: interrupted; the command was killed")
				*exit = 130
			case err != nil:
				return err
			case res.TimedOut:
				fmt.Fprintf(os.Stderr, "sandbox-run: timed out after %s; the command was killed\n", timeout)
				*exit = 124
			case res.ExitCode < 0: // killed by a signal (direct run; bwrap reports 128+n itself)
				fmt.Fprintln(os.Stderr, "sandbox-run: the command was killed by a signal")
				*exit = 1
			default:
				*exit = res.ExitCode
			}
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&dir, "dir", "", "the experiment's folder: working directory and only writable host folder (required)")
	f.DurationVar(&timeout, "timeout", 2*time.Hour, "wall-clock limit; the whole process tree is killed at the end")
	f.BoolVar(&noSandbox, "no-sandbox", false, "run directly, as a worker with --no-sandbox does (also AISCI_NO_SANDBOX=1)")
	f.StringVar(&dataDir, "data-dir", app.DefaultDataDir(), "the worker's data folder (hidden from the command)")
	f.StringVar(&artifacts, "artifacts", "", "the artifact store (hidden from the command; default <data-dir>/artifacts)")
	return c
}

// remoteStore opens and checks the workspace bucket when one is configured.
func remoteStore(ctx context.Context, cfg s3store.Config) (*s3store.Store, error) {
	if cfg.Bucket == "" {
		return nil, nil
	}
	if cfg.Endpoint != "" {
		cfg.PathStyle = true
		if cfg.Region == "" {
			cfg.Region = s3store.DefaultEndpointRegion
		}
	}
	st, err := s3store.New(ctx, cfg)
	if err != nil {
		return nil, err
	}
	check, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := st.Check(check); err != nil {
		return nil, fmt.Errorf("workspace store: %w", err)
	}
	return st, nil
}

// envInt reads a non-negative integer from the environment (0 when unset or
// invalid).
func envInt(key string) int {
	n, err := strconv.Atoi(os.Getenv(key))
	if err != nil || n < 0 {
		return 0
	}
	return n
}
