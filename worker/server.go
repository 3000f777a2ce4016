package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/aiscientist/aiscientist/internal/devserver"
	"github.com/aiscientist/aiscientist/internal/logging"
	"github.com/aiscientist/aiscientist/internal/telemetry"
	"github.com/aiscientist/aiscientist/worker/app"
	"github.com/aiscientist/aiscientist/workflows"
)

// serverCmd is `worker server`: the Temporal server and Web UI alone, with
// no workers, for workers on this and other machines to join over
// TEMPORAL_ADDRESS.
func serverCmd() *cobra.Command {
	var o devserver.Options
	var level, metricsAddr string
	cmd := &cobra.Command{
		Use:   "server [--db URL | --data-dir DIR] [--port N]",
		Short: "Run only the Temporal server (PostgreSQL or a SQLite file) and the Web UI; workers join with TEMPORAL_ADDRESS",
		Long: `Runs the Temporal server that worker --dev embeds, without any worker. With
--db postgres://USER:PASS@HOST:PORT/DB its data is in PostgreSQL: databases DB
and DB_visibility are created when missing and their schemas set up, or
upgraded, by the Temporal server's own schema tooling at this build's server
version. Without --db it is a SQLite file under --data-dir. The namespace and
this project's search attributes are created on first start. Workers on this or other machines
connect with TEMPORAL_ADDRESS=<this host>:<port> (go run ./worker, without --dev);
listen on --ip 0.0.0.0 to be reachable from other machines. With AISCI_CODEC_KEY
set, the Web UI's codec endpoint is served on loopback beside it.`,
		Example: `  go run ./worker server --db postgres://temporal:secret@db:5432/temporal --ip 0.0.0.0
  go run ./worker server --data-dir /srv/aiscientist --ip 0.0.0.0
  TEMPORAL_ADDRESS=cluster:7233 go run ./worker --host gpu-box-1     # on each host`,
		Args:         cobra.NoArgs,
		SilenceUsage: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger, err := logging.New(level)
			if err != nil {
				return err
			}
			defer logger.Sync() //nolint:errcheck
			cdc, err := app.CodecFromEnv()
			if err != nil {
				return err
			}
			if cdc != nil {
				o.Codec = cdc.Handler
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if metricsAddr != "" {
				m, err := telemetry.New()
				if err != nil {
					return err
				}
				o.Meter = m.Meter("temporal-server")
				addr, err := m.Serve(ctx, metricsAddr)
				if err != nil {
					return err
				}
				logger.Info("metrics served", zap.String("url", "http://"+addr+"/metrics"))
			}
			o.SearchAttributes = workflows.SearchAttributes()
			// The server is chatty: warnings and errors only, as with --dev.
			o.Logger = logger.Named("temporal").WithOptions(zap.IncreaseLevel(zapcore.WarnLevel))
			s, err := devserver.Start(ctx, o)
			if err != nil {
				return err
			}
			defer s.Stop() //nolint:errcheck
			fmt.Fprintf(os.Stderr, "\nTemporal gRPC: %s\nWeb UI:        %s\n", s.HostPort(), s.UIURL())
			if u := s.CodecURL(); u != "" {
				fmt.Fprintf(os.Stderr, "Codec:         %s (decodes the encrypted payloads for the Web UI; loopback only)\n", u)
			}
			fmt.Fprintf(os.Stderr, "workers join with: TEMPORAL_ADDRESS=%s go run ./worker\n\n", s.HostPort())
			store := zap.String("data_dir", o.DataDir)
			if devserver.IsPostgres(o.DB) {
				store = zap.String("db", devserver.Redact(o.DB))
			}
			logger.Info("Temporal server ready", zap.String("grpc", s.HostPort()), zap.String("web_ui", s.UIURL()), store)
			<-ctx.Done()
			logger.Info("shutting down")
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.DataDir, "data-dir", app.DefaultDataDir(), "where the server keeps its SQLite database (without --db)")
	f.StringVar(&o.DB, "db", os.Getenv("AISCI_TEMPORAL_DB"), "keep the server's data in PostgreSQL: postgres://USER:PASS@HOST:PORT/DB (default $AISCI_TEMPORAL_DB, else the SQLite file)")
	f.StringVar(&o.IP, "ip", "127.0.0.1", "address to listen on (0.0.0.0: every interface, for workers on other machines)")
	f.IntVar(&o.GRPCPort, "port", 7233, "gRPC port (-1: any free port)")
	f.IntVar(&o.UIPort, "ui-port", 0, "Web UI port (default: the gRPC port + 1000; -1: no UI)")
	f.StringVar(&metricsAddr, "metrics-addr", os.Getenv("AISCI_METRICS_ADDR"), "serve the server's Prometheus metrics at http://ADDR/metrics (default $AISCI_METRICS_ADDR, empty: off)")
	f.StringVar(&level, "log-level", "info", "log level: debug, info, warn, error")
	return cmd
}
