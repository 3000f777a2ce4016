// Package pgtest starts a throwaway PostgreSQL server for tests: Debian's
// postgresql binaries (scripts/setup.sh installs them), a fresh cluster in
// a temporary folder, TCP on loopback only, a password user. Tests that
// need it skip when PostgreSQL is not installed, unless
// AISCI_REQUIRE_POSTGRES=1 (set by .ci/run) makes that a failure.
package pgtest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// User and Password are the superuser of every cluster Start makes.
const (
	User     = "aisci"
	Password = "pg-test-secret"
)

// Server is a running throwaway cluster.
type Server struct {
	Port int
	dir  string
	bin  string
	as   []string // run as the postgres user when the test runs as root
}

// URL is the postgres:// address of database db on the server.
func (s *Server) URL(db string) string {
	return fmt.Sprintf("postgres://%s:%s@127.0.0.1:%d/%s", User, Password, s.Port, db)
}

// Start makes a new cluster and starts it; it is stopped when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	bin := binDir()
	if bin == "" {
		if os.Getenv("AISCI_REQUIRE_POSTGRES") != "" {
			t.Fatal("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb); run scripts/setup.sh")
		}
		t.Skip("PostgreSQL is not installed (scripts/setup.sh installs it)")
	}
	dir, err := os.MkdirTemp("", "aisci-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	s := &Server{dir: dir, bin: bin, Port: freePort(t)}
	if os.Geteuid() == 0 {
		// initdb and postgres refuse to run as root.
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root needs the postgres user to run PostgreSQL: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		s.as = []string{"runuser", "-u", "postgres", "--"}
	}
	pw := filepath.Join(dir, "pwfile")
	if err := os.WriteFile(pw, []byte(Password+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	s.run(t, "initdb", "-D", data, "-U", User, "--pwfile", pw, "-A", "scram-sha-256", "-E", "UTF8", "--no-sync")
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c max_connections=200", s.Port, dir)
	s.run(t, "pg_ctl", "-D", data, "-l", filepath.Join(dir, "server.log"), "-o", opts, "-w", "-t", "60", "start")
	t.Cleanup(func() {
		cmd := s.cmd(context.Background(), "pg_ctl", "-D", data, "-m", "immediate", "stop")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Logf("pg_ctl stop: %v\n%s", err, out)
		}
	})
	return s
}

// Log is the server's log, for a failing test's output.
func (s *Server) Log() string {
	b, _ := os.ReadFile(filepath.Join(s.dir, "server.log"))
	return string(b)
}

func (s *Server) cmd(ctx context.Context, tool string, args ...string) *exec.Cmd {
	argv := append(append([]string{}, s.as...), append([]string{filepath.Join(s.bin, tool)}, args...)...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = s.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd
}

func (s *Server) run(t testing.TB, tool string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if out, err := s.cmd(ctx, tool, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s\n%s", tool, err, out, s.Log())
	}
}

// binDir is the newest /usr/lib/postgresql/<version>/bin with initdb.
func binDir() string {
	m, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	sort.Slice(m, func(i, j int) bool { return version(m[i]) > version(m[j]) })
	if len(m) == 0 {
		return ""
	}
	return filepath.Dir(m[0])
}

func version(initdb string) int {
	v, _ := strconv.Atoi(strings.Split(filepath.Base(filepath.Dir(filepath.Dir(initdb))), ".")[0])
	return v
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
