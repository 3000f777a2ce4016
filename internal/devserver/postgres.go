package devserver

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"go.temporal.io/server/common/config"
	tlog "go.temporal.io/server/common/log"
	"go.temporal.io/server/common/persistence/sql/sqlplugin/postgresql"
	"go.temporal.io/server/tools/common/schema"
	sqltool "go.temporal.io/server/tools/sql"
)

// Schema names in the server module's embedded schema tree: what
// `temporal-sql-tool update-schema --schema-name` reads.
const (
	pgSchema           = "postgresql/v12/temporal"
	pgVisibilitySchema = "postgresql/v12/visibility"
)

// IsPostgres tells a PostgreSQL URL from an empty (SQLite) setting.
func IsPostgres(db string) bool {
	return strings.HasPrefix(db, "postgres://") || strings.HasPrefix(db, "postgresql://")
}

// postgresConfigs reads postgres://USER:PASS@HOST:PORT/DB[?attrs] into the
// SQL settings of the main database DB and of its visibility database
// DB_visibility (or ?visibility=NAME); other query parameters (sslmode,
// …) are passed to the driver as connect attributes.
func postgresConfigs(raw string) (main, vis *config.SQL, err error) {
	u, err := url.Parse(raw)
	if err != nil || !IsPostgres(raw) || u.Host == "" {
		return nil, nil, fmt.Errorf("--db %q: want postgres://USER:PASS@HOST:PORT/DB", Redact(raw))
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = "5432"
	}
	name := strings.TrimPrefix(u.Path, "/")
	if name == "" {
		name = "temporal"
	}
	attrs := map[string]string{}
	visName := name + "_visibility"
	for k, v := range u.Query() {
		if k == "visibility" {
			visName = v[0]
			continue
		}
		attrs[k] = v[0]
	}
	pass, _ := u.User.Password()
	base := config.SQL{
		PluginName:        postgresql.PluginName,
		ConnectAddr:       net.JoinHostPort(host, port),
		ConnectProtocol:   "tcp",
		User:              u.User.Username(),
		Password:          pass,
		ConnectAttributes: attrs,
		MaxConns:          20,
		MaxIdleConns:      20,
		MaxConnLifetime:   time.Hour,
	}
	m, v := base, base
	m.DatabaseName, v.DatabaseName = name, visName
	return &m, &v, nil
}

// Redact hides a URL's password in messages.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// setupPostgres creates the database when it is missing and brings its
// schema to the pinned server's version with the server module's own SQL
// schema tooling, the steps of `temporal-sql-tool create-database`,
// `setup-schema -v 0.0` and `update-schema`: a new database gets the
// whole schema, one made by an older server is upgraded, a current one is
// left as it is.
func setupPostgres(cfg *config.SQL, schemaName string, logger tlog.Logger) error {
	// CREATE DATABASE has no IF NOT EXISTS in PostgreSQL: "already exists"
	// is the usual answer. Any other refusal (a user without CREATEDB on a
	// database made by its administrator) matters only if what follows fails.
	createErr := sqltool.DoCreateDatabase(copySQL(cfg), "postgres", logger)
	if createErr != nil && strings.Contains(createErr.Error(), "already exists") {
		createErr = nil
	}
	fail := func(what string, err error) error {
		if createErr != nil {
			return fmt.Errorf("%s of PostgreSQL database %s at %s: %w (creating it failed too: %v)", what, cfg.DatabaseName, cfg.ConnectAddr, err, createErr)
		}
		return fmt.Errorf("%s of PostgreSQL database %s at %s: %w", what, cfg.DatabaseName, cfg.ConnectAddr, err)
	}
	conn, err := sqltool.NewConnection(cfg, logger)
	if err != nil {
		return fail("connect", err)
	}
	defer conn.Close()
	if _, err := conn.ReadSchemaVersion(); err != nil {
		if err := schema.NewSetupSchemaTask(conn, &schema.SetupConfig{InitialVersion: "0.0"}, logger).Run(); err != nil {
			return fail("set up the schema version tables", err)
		}
	}
	if err := schema.NewUpdateSchemaTask(conn, &schema.UpdateConfig{DBName: cfg.DatabaseName, SchemaName: schemaName}, logger).Run(); err != nil {
		return fail("update the schema", err)
	}
	return nil
}

func copySQL(cfg *config.SQL) *config.SQL {
	c := *cfg
	return &c
}
