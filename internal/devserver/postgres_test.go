package devserver

import (
	"context"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/server/common/config"
	tlog "go.temporal.io/server/common/log"
	pgv12 "go.temporal.io/server/schema/postgresql/v12"
	"go.temporal.io/server/tools/common/schema"
	sqltool "go.temporal.io/server/tools/sql"

	"github.com/aiscientist/aiscientist/internal/pgtest"
)

func TestPostgresConfigs(t *testing.T) {
	tests := []struct {
		url, addr, user, pass, db, vis, attrs, err string
	}{
		{url: "postgres://temporal:s3cret@db.example:5433/temporal", addr: "db.example:5433", user: "temporal", pass: "s3cret", db: "temporal", vis: "temporal_visibility"},
		{url: "postgresql://u@localhost/", addr: "localhost:5432", user: "u", db: "temporal", vis: "temporal_visibility"},
		{url: "postgres://u:p@10.0.0.2:5432/aisci?sslmode=require&visibility=aisci_vis", addr: "10.0.0.2:5432", user: "u", pass: "p", db: "aisci", vis: "aisci_vis", attrs: "sslmode=require"},
		{url: "postgres:///nohost", err: "want postgres://"},
		{url: "mysql://u:p@h/db", err: "want postgres://"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			m, v, err := postgresConfigs(tt.url)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.ConnectAddr != tt.addr || m.User != tt.user || m.Password != tt.pass || m.DatabaseName != tt.db || v.DatabaseName != tt.vis || v.ConnectAddr != tt.addr {
				t.Errorf("main %+v, visibility %+v", m, v)
			}
			var attrs []string
			for k, val := range m.ConnectAttributes {
				attrs = append(attrs, k+"="+val)
			}
			if strings.Join(attrs, "&") != tt.attrs {
				t.Errorf("connect attributes %v, want %q", m.ConnectAttributes, tt.attrs)
			}
		})
	}
	if got := Redact("postgres://u:hunter2@h/db"); strings.Contains(got, "hunter2") {
		t.Errorf("redact left the password in: %s", got)
	}
}

// TestPostgresServer starts the server on PostgreSQL databases at an
// older schema version (the schemas upgraded by the server's schema
// tooling to the pinned server's), checks the namespace, its search
// attributes and a visibility query, stops it, and starts it again on the
// same databases: the schema is current, nothing else changes.
func TestPostgresServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL and a Temporal server")
	}
	pg := pgtest.Start(t)
	// The databases start as an older server left them (schema 1.15 and
	// visibility 1.10, made by the same tooling): the first start upgrades them.
	main, vis, err := postgresConfigs(pg.URL("aisci"))
	if err != nil {
		t.Fatal(err)
	}
	logger := tlog.NewNoopLogger()
	for _, db := range []struct {
		cfg            *config.SQL
		schema, target string
	}{{main, pgSchema, "1.15"}, {vis, pgVisibilitySchema, "1.10"}} {
		if err := sqltool.DoCreateDatabase(copySQL(db.cfg), "postgres", logger); err != nil {
			t.Fatal(err)
		}
		conn, err := sqltool.NewConnection(db.cfg, logger)
		if err != nil {
			t.Fatal(err)
		}
		if err := schema.NewSetupSchemaTask(conn, &schema.SetupConfig{InitialVersion: "0.0"}, logger).Run(); err != nil {
			t.Fatal(err)
		}
		if err := schema.NewUpdateSchemaTask(conn, &schema.UpdateConfig{DBName: db.cfg.DatabaseName, SchemaName: db.schema, TargetVersion: db.target}, logger).Run(); err != nil {
			t.Fatal(err)
		}
		conn.Close()
	}
	attrs := map[string]enumspb.IndexedValueType{"AisciStage": enumspb.INDEXED_VALUE_TYPE_KEYWORD, "AisciCostUSD": enumspb.INDEXED_VALUE_TYPE_DOUBLE}
	for round := 1; round <= 2; round++ {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		s, err := Start(ctx, Options{DB: pg.URL("aisci"), GRPCPort: -1, UIPort: -1, SearchAttributes: attrs})
		if err != nil {
			cancel()
			t.Fatalf("round %d: %v\n%s", round, err, pg.Log())
		}
		c, err := client.DialContext(ctx, client.Options{HostPort: s.HostPort(), Namespace: s.Namespace()})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: "default"}); err != nil {
			t.Errorf("round %d: namespace: %v", round, err)
		}
		have, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: "default"})
		if err != nil {
			t.Fatal(err)
		}
		for name := range attrs {
			if _, ok := have.GetCustomAttributes()[name]; !ok {
				t.Errorf("round %d: search attribute %s missing: %v", round, name, have.GetCustomAttributes())
			}
		}
		if _, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: "default", Query: "AisciStage = 'writeup'"}); err != nil {
			t.Errorf("round %d: visibility query: %v", round, err)
		}
		c.Close()
		for _, db := range []struct {
			cfg  *config.SQL
			want string
		}{{main, pgv12.Version}, {vis, pgv12.VisibilityVersion}} {
			conn, err := sqltool.NewConnection(db.cfg, logger)
			if err != nil {
				t.Fatal(err)
			}
			if v, err := conn.ReadSchemaVersion(); err != nil || v != db.want {
				t.Errorf("round %d: %s schema version %q, %v; want %s", round, db.cfg.DatabaseName, v, err, db.want)
			}
			conn.Close()
		}
		if err := s.Stop(); err != nil {
			t.Errorf("stop: %v", err)
		}
		cancel()
	}
}
