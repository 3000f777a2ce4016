// Package devserver runs a real Temporal server (a SQLite file, or a
// PostgreSQL database for a cluster) and the Temporal Web UI inside the
// current process, so one `worker --dev` is a complete installation on a
// laptop and `worker server` the server of a cluster.
package devserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	uiserver "github.com/temporalio/ui-server/v2/server"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	uiopts "github.com/temporalio/ui-server/v2/server/server_options"
	otelmetric "go.opentelemetry.io/otel/metric"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	tlog "go.temporal.io/server/common/log"
	"go.temporal.io/server/common/membership/static"
	"go.temporal.io/server/common/metrics"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	"go.temporal.io/server/common/primitives"
	"go.temporal.io/server/schema/sqlite"
	"go.temporal.io/server/temporal"
	"go.uber.org/zap"
)

// Options configures the embedded server. Zero values pick sensible defaults.
type Options struct {
	// DataDir holds the SQLite database file; it is created if missing.
	// Unused with DB.
	DataDir string
	// DB, when a postgres://USER:PASS@HOST:PORT/DB URL, keeps the server's
	// data in PostgreSQL instead: database DB and DB_visibility, created
	// when missing, their schemas set up or upgraded on start.
	DB string
	// IP to listen on; default 127.0.0.1.
	IP string
	// GRPCPort is the frontend port; default 7233. -1 picks a free port.
	GRPCPort int
	// UIPort is the Web UI port; default GRPCPort+1000 (8233). -1 disables the UI.
	UIPort int
	// Namespace is created on first start; default "default".
	Namespace string
	// SearchAttributes are ensured on every start, so a newer binary can add some.
	SearchAttributes map[string]enumspb.IndexedValueType
	// Logger receives the server's logs; the server is chatty, so Warn level is advised.
	Logger *zap.Logger
	// Codec, when set, makes the codec endpoint that decodes encrypted
	// payloads for the Web UI, given the UI's addresses (the origins its
	// browser calls from); it is served at UIPort+1.
	Codec func(uiOrigins ...string) http.Handler
	// Meter, when set, receives the server's own metrics (the
	// worker's Prometheus registry exports them); nil: none.
	Meter otelmetric.Meter
}

// Server is a started embedded Temporal server plus its Web UI.
type Server struct {
	opts     Options
	temporal temporal.Server
	ui       *uiserver.Server
	codec    *http.Server
	hostPort string
	uiURL    string
}

// HostPort is the frontend gRPC address clients dial.
func (s *Server) HostPort() string { return s.hostPort }

// UIURL is the Web UI address, empty when the UI is disabled.
func (s *Server) UIURL() string { return s.uiURL }

// CodecURL is the Web UI's codec endpoint, empty without Options.Codec.
func (s *Server) CodecURL() string {
	if s.codec == nil {
		return ""
	}
	return "http://" + s.codec.Addr
}

// Namespace is the namespace created for the application.
func (s *Server) Namespace() string { return s.opts.Namespace }

// Start makes the database ready (a new SQLite file gets its schema;
// PostgreSQL databases are created, set up or upgraded), starts the server
// and the UI, and waits until the frontend answers.
func Start(ctx context.Context, opts Options) (*Server, error) {
	if opts.IP == "" {
		opts.IP = "127.0.0.1"
	}
	if opts.Namespace == "" {
		opts.Namespace = "default"
	}
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	var err error
	switch opts.GRPCPort {
	case 0:
		opts.GRPCPort = 7233
	case -1:
		if opts.GRPCPort, err = freePort(opts.IP); err != nil {
			return nil, err
		}
	}
	if err := portFree(opts.IP, opts.GRPCPort); err != nil {
		return nil, fmt.Errorf("temporal gRPC port: %w (is another worker --dev running? pick another with --port)", err)
	}
	if opts.UIPort == 0 {
		opts.UIPort = opts.GRPCPort + 1000
	}
	if opts.UIPort > 0 {
		// The UI server exits the process when its port is taken, so check first.
		if err := portFree(opts.IP, opts.UIPort); err != nil {
			return nil, fmt.Errorf("web UI port: %w", err)
		}
		if opts.Codec != nil {
			if err := portFree(opts.IP, opts.UIPort+1); err != nil {
				return nil, fmt.Errorf("codec endpoint port (the Web UI's + 1): %w", err)
			}
		}
	}
	persistence, sqlCfg, err := setupPersistence(opts)
	if err != nil {
		return nil, err
	}
	cfg, err := serverConfig(opts, persistence)
	if err != nil {
		return nil, err
	}
	// Works on any SQL store, PostgreSQL included, despite its package.
	ns, err := sqlite.NewNamespaceConfig(cfg.ClusterMetadata.CurrentClusterName, opts.Namespace, false, opts.SearchAttributes)
	if err != nil {
		return nil, fmt.Errorf("devserver: namespace config: %w", err)
	}
	if err := sqlite.CreateNamespaces(sqlCfg, ns); err != nil {
		return nil, fmt.Errorf("devserver: create namespace: %w", err)
	}

	var mh metrics.Handler = metrics.NoopMetricsHandler
	if opts.Meter != nil {
		if mh, err = metrics.NewOtelMetricsHandler(tlog.NewZapLogger(opts.Logger), meterProvider{opts.Meter}, metrics.ClientConfig{}, false); err != nil {
			return nil, fmt.Errorf("devserver: metrics: %w", err)
		}
	}
	srv, err := temporal.NewServer(
		temporal.WithConfig(cfg),
		temporal.ForServices(temporal.DefaultServices),
		temporal.WithLogger(tlog.NewZapLogger(opts.Logger)),
		temporal.WithAuthorizer(authorization.NewNoopAuthorizer()),
		temporal.WithClaimMapper(func(*config.Config) authorization.ClaimMapper { return authorization.NewNoopClaimMapper() }),
		temporal.WithCustomMetricsHandler(mh),
		// One process hosts every service: static membership avoids the
		// ringpop join, which after a restart waits for the previous
		// process's stale members to expire ("Not enough hosts").
		temporal.WithStaticHosts(staticHosts(cfg, opts.IP)),
		temporal.WithDynamicConfigClient(dynamicconfig.StaticClient{
			// Search attributes added at start must be usable at once.
			dynamicconfig.ForceSearchAttributesCacheRefreshOnRead.Key(): true,
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("devserver: new server: %w", err)
	}
	if err := srv.Start(); err != nil {
		return nil, fmt.Errorf("devserver: start server: %w", err)
	}
	s := &Server{opts: opts, temporal: srv, hostPort: net.JoinHostPort(opts.IP, strconv.Itoa(opts.GRPCPort))}
	if err := s.waitReady(ctx); err != nil {
		_ = srv.Stop()
		return nil, err
	}
	if opts.UIPort > 0 {
		s.startUI()
	}
	return s, nil
}

// Stop stops the UI and the server.
func (s *Server) Stop() error {
	if s.ui != nil {
		s.ui.Stop()
	}
	if s.codec != nil {
		_ = s.codec.Close()
	}
	return s.temporal.Stop()
}

func (s *Server) startUI() {
	cfg := &uiconfig.Config{
		Host:                s.opts.IP,
		Port:                s.opts.UIPort,
		TemporalGRPCAddress: s.hostPort,
		EnableUI:            true,
		DefaultNamespace:    s.opts.Namespace,
		DisableNewsFetch:    true,
		HideLogs:            true,
		CORS:                uiconfig.CORS{CookieInsecure: true},
	}
	if s.opts.Codec != nil {
		addr := net.JoinHostPort(s.opts.IP, strconv.Itoa(s.opts.UIPort+1))
		port := strconv.Itoa(s.opts.UIPort)
		h := s.opts.Codec("http://"+net.JoinHostPort(s.opts.IP, port), "http://localhost:"+port)
		s.codec = &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 10 * time.Second}
		go func() {
			if err := s.codec.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.opts.Logger.Error("codec endpoint stopped", zap.Error(err))
			}
		}()
		cfg.Codec.Endpoint = "http://" + addr
	}
	s.ui = uiserver.NewServer(uiopts.WithConfigProvider(cfg))
	go func() {
		// Start blocks until Stop.
		if err := s.ui.Start(); err != nil {
			s.opts.Logger.Error("web UI stopped", zap.Error(err))
		}
	}()
	s.uiURL = fmt.Sprintf("http://%s", net.JoinHostPort(s.opts.IP, strconv.Itoa(s.opts.UIPort)))
}

// waitReady dials the frontend and makes sure the namespace's search
// attributes exist (a database created by an older binary may lack some).
func (s *Server) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	var c client.Client
	var err error
	for {
		c, err = client.DialContext(ctx, client.Options{HostPort: s.hostPort, Namespace: s.opts.Namespace, Logger: silentLogger{}})
		if err == nil {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("devserver: frontend did not become ready: %w", err)
		case <-time.After(200 * time.Millisecond):
		}
	}
	defer c.Close()
	if len(s.opts.SearchAttributes) == 0 {
		return nil
	}
	op := c.OperatorService()
	have, err := op.ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: s.opts.Namespace})
	if err != nil {
		return fmt.Errorf("devserver: list search attributes: %w", err)
	}
	missing := map[string]enumspb.IndexedValueType{}
	for name, typ := range s.opts.SearchAttributes {
		if _, ok := have.GetCustomAttributes()[name]; !ok {
			missing[name] = typ
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if _, err := op.AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{Namespace: s.opts.Namespace, SearchAttributes: missing}); err != nil {
		return fmt.Errorf("devserver: add search attributes: %w", err)
	}
	return nil
}

// setupPersistence makes the server's database ready (a new SQLite file
// gets its schema; PostgreSQL databases are created, set up or upgraded)
// and returns the persistence settings and the main store's SQL settings.
func setupPersistence(opts Options) (config.Persistence, *config.SQL, error) {
	switch {
	case IsPostgres(opts.DB):
		main, vis, err := postgresConfigs(opts.DB)
		if err != nil {
			return config.Persistence{}, nil, err
		}
		logger := tlog.NewZapLogger(opts.Logger)
		for _, db := range []struct {
			cfg    *config.SQL
			schema string
		}{{main, pgSchema}, {vis, pgVisibilitySchema}} {
			if err := setupPostgres(db.cfg, db.schema, logger); err != nil {
				return config.Persistence{}, nil, fmt.Errorf("devserver: %w", err)
			}
		}
		return config.Persistence{
			DefaultStore:     "default",
			VisibilityStore:  "visibility",
			NumHistoryShards: 4,
			DataStores: map[string]config.DataStore{
				"default":    {SQL: main},
				"visibility": {SQL: vis},
			},
		}, main, nil
	case opts.DB != "" && opts.DB != "sqlite":
		return config.Persistence{}, nil, fmt.Errorf("devserver: --db %q: want postgres://USER:PASS@HOST:PORT/DB, or nothing for the SQLite file under the data folder", Redact(opts.DB))
	}
	if opts.DataDir == "" {
		return config.Persistence{}, nil, errors.New("devserver: data directory is required")
	}
	if err := os.MkdirAll(opts.DataDir, 0o755); err != nil {
		return config.Persistence{}, nil, fmt.Errorf("devserver: create data dir: %w", err)
	}
	dbPath := filepath.Join(opts.DataDir, "temporal.sqlite")
	sqlCfg := &config.SQL{
		PluginName:        sqliteplugin.PluginName,
		DatabaseName:      dbPath,
		ConnectAttributes: map[string]string{"mode": "rwc", "_journal_mode": "wal", "_synchronous": "2"},
	}
	if _, err := os.Stat(dbPath); errors.Is(err, os.ErrNotExist) {
		if err := sqlite.SetupSchema(sqlCfg); err != nil {
			return config.Persistence{}, nil, fmt.Errorf("devserver: create sqlite schema: %w", err)
		}
	}
	return config.Persistence{
		DefaultStore:     sqliteplugin.PluginName,
		VisibilityStore:  sqliteplugin.PluginName,
		NumHistoryShards: 1,
		DataStores:       map[string]config.DataStore{sqliteplugin.PluginName: {SQL: sqlCfg}},
	}, sqlCfg, nil
}

func serverConfig(opts Options, persistence config.Persistence) (*config.Config, error) {
	ports := make([]int, 0, 7)
	for range 7 {
		p, err := freePort(opts.IP)
		if err != nil {
			return nil, err
		}
		ports = append(ports, p)
	}
	svc := func(grpc, membership int) config.Service {
		return config.Service{RPC: config.RPC{GRPCPort: grpc, MembershipPort: membership, BindOnIP: opts.IP}}
	}
	return &config.Config{
		Global: config.Global{
			Membership: config.Membership{MaxJoinDuration: 30 * time.Second, BroadcastAddress: opts.IP},
		},
		Persistence: persistence,
		ClusterMetadata: &cluster.Config{
			EnableGlobalNamespace:    false,
			FailoverVersionIncrement: 10,
			MasterClusterName:        "active",
			CurrentClusterName:       "active",
			ClusterInformation: map[string]cluster.ClusterInformation{
				"active": {Enabled: true, InitialFailoverVersion: 1, RPCAddress: net.JoinHostPort(opts.IP, strconv.Itoa(opts.GRPCPort))},
			},
		},
		DCRedirectionPolicy: config.DCRedirectionPolicy{Policy: "noop"},
		Services: map[string]config.Service{
			"frontend": svc(opts.GRPCPort, ports[0]),
			"history":  svc(ports[1], ports[2]),
			"matching": svc(ports[3], ports[4]),
			"worker":   svc(ports[5], ports[6]),
		},
		Archival: config.Archival{
			History:    config.HistoryArchival{State: "disabled"},
			Visibility: config.VisibilityArchival{State: "disabled"},
		},
		NamespaceDefaults: config.NamespaceDefaults{Archival: config.ArchivalNamespaceDefaults{
			History:    config.HistoryArchivalNamespaceDefaults{State: "disabled"},
			Visibility: config.VisibilityArchivalNamespaceDefaults{State: "disabled"},
		}},
		PublicClient: config.PublicClient{HostPort: net.JoinHostPort(opts.IP, strconv.Itoa(opts.GRPCPort))},
	}, nil
}

func staticHosts(cfg *config.Config, ip string) map[primitives.ServiceName]static.Hosts {
	hosts := map[primitives.ServiceName]static.Hosts{}
	for name, svc := range cfg.Services {
		hosts[primitives.ServiceName(name)] = static.SingleLocalHost(net.JoinHostPort(ip, strconv.Itoa(svc.RPC.GRPCPort)))
	}
	return hosts
}

func freePort(ip string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	if err != nil {
		return 0, fmt.Errorf("devserver: find free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func portFree(ip string, port int) error {
	l, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(port)))
	if err != nil {
		return fmt.Errorf("%s:%d is in use", ip, port)
	}
	return l.Close()
}

// meterProvider hands the server a meter of the caller's.
type meterProvider struct{ meter otelmetric.Meter }

func (p meterProvider) GetMeter() otelmetric.Meter { return p.meter }
func (meterProvider) Stop(tlog.Logger)             {}

// silentLogger keeps the readiness probe's dial retries out of the logs.
type silentLogger struct{}

func (silentLogger) Debug(string, ...any) {}
func (silentLogger) Info(string, ...any)  {}
func (silentLogger) Warn(string, ...any)  {}
func (silentLogger) Error(string, ...any) {}
