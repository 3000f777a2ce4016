// Command worker runs the AI Scientist's workflows and activities. With
// --dev it also embeds a Temporal server (SQLite file) and the Web UI.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"go.uber.org/zap"

	"github.com/aiscientist/aiscientist/internal/app"
	"github.com/aiscientist/aiscientist/internal/logging"
	"github.com/aiscientist/aiscientist/workflows"
)

func main() {
	var cfg app.Config
	var level string
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Run the AI Scientist worker (add --dev for an embedded Temporal server and Web UI)",
		Long: `Runs the workflows and activities of the AI Scientist.

Without --dev the worker connects to TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE
(Temporal's environment configuration). With --dev it starts, in this process,
a Temporal server persisting to a SQLite file under --data-dir, the Temporal
Web UI, and the worker; finished papers stay visible across restarts.`,
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
			a, err := app.Start(ctx, cfg)
			if err != nil {
				return err
			}
			defer a.Stop()
			if a.Server != nil {
				logger.Info("embedded Temporal server ready", zap.String("grpc", a.Server.HostPort()), zap.String("web_ui", a.Server.UIURL()), zap.String("data_dir", cfg.DataDir))
				fmt.Fprintf(os.Stderr, "\nTemporal gRPC: %s\nWeb UI:        %s\n\n", a.Server.HostPort(), a.Server.UIURL())
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
	f.IntVar(&cfg.Port, "port", 7233, "gRPC port of the embedded server (Web UI on port+1000)")
	f.StringVar(&cfg.Artifacts, "artifacts", "", "artifact store folder (default <data-dir>/artifacts)")
	f.StringVar(&cfg.Templates, "templates", "templates", "folder holding the research templates")
	f.StringVar(&cfg.Python, "python", "", "Python interpreter for experiments (default $AISCI_PYTHON, else the first that imports the template's packages)")
	f.StringVar(&cfg.ModelsFile, "models", "", "JSON file adding or overriding models (default $AISCI_MODELS)")
	f.StringVar(&cfg.LLMBaseURL, "llm-base-url", "", "OpenAI-compatible local server for local/<model> names (Ollama, vLLM, llama.cpp)")
	f.StringVar(&level, "log-level", "info", "log level: debug, info, warn, error")
	if err := cmd.Execute(); err != nil {
		os.Exit(1)
	}
}
