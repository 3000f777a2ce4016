// Package sandbox runs experiment scripts inside bubblewrap (bwrap, the
// Debian package bubblewrap): no network, a read-only view of the system,
// the paper folder as the only writable host folder, private /tmp, /var/tmp
// and /dev/shm, the worker's home, data and artifact folders masked, an
// explicit environment (never the worker's API keys) and limits on address
// space, processes and open files. The whole process tree lives in its own
// PID namespace and dies with the sandbox.
//
// Two modes, chosen by who runs the worker:
//
//   - Worker as root (containers, CI): bwrap sets up the namespaces as root,
//     then setpriv drops the experiment to an unprivileged host user (UID,
//     default 65534 "nobody") with no capabilities and no_new_privs. The
//     paper folder is handed to that user (chown) before each run. Dropping
//     root matters: the kernel never enforces RLIMIT_NPROC for host root,
//     not even inside a user namespace that maps to it, and root would read
//     every 0600 file of the host.
//   - Worker as an ordinary user: bwrap runs unprivileged in a user
//     namespace (further user namespaces disabled); the experiment keeps the
//     worker's uid.
//
// RLIMIT_NPROC counts every process and thread of the experiment's host
// user, not only the sandbox's: concurrent experiments share it, and for a
// non-root worker so do the worker's own threads and that user's other
// processes.
package sandbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Config of the experiment sandbox. The zero value is an enabled sandbox
// without resource limits; DefaultConfig adds the limits.
type Config struct {
	// Disabled runs experiments directly, with the worker's privileges,
	// network and environment (worker --no-sandbox, AISCI_NO_SANDBOX=1).
	Disabled bool
	// Network keeps the host's network inside the sandbox, for a template
	// that downloads data or models at run time and says so
	// ("network": true in its prompt.json). Off by default.
	Network bool
	// Bwrap is the bubblewrap binary (empty: "bwrap" on PATH).
	Bwrap string
	// AddressSpaceBytes is RLIMIT_AS (0: unlimited). CUDA reserves huge
	// virtual address ranges, so GPU hosts need 0; DefaultConfig uses 0
	// when it finds /dev/nvidia* devices.
	AddressSpaceBytes uint64
	// MaxProcesses is RLIMIT_NPROC (0: unlimited): processes and threads of
	// the experiment's host user (see the package comment).
	MaxProcesses uint64
	// MaxOpenFiles is RLIMIT_NOFILE (0: keep the worker's).
	MaxOpenFiles uint64
	// TmpBytes caps each private tmpfs (/tmp, /var/tmp, /dev/shm), which
	// lives in memory outside RLIMIT_AS (0: the kernel's default, half the
	// RAM).
	TmpBytes uint64
	// Hide lists extra host paths the experiment must not see (the worker's
	// data folder, the artifact store with other papers). /home, /root and
	// /run are always hidden. The paper folder stays visible even when it
	// lies under a hidden path.
	Hide []string
	// GPUDevices binds the host's /dev/nvidia* devices into the sandbox.
	GPUDevices bool
	// ReadOnly lists host folders the experiment may read even where they
	// lie in a hidden or unreachable place (a template's data folder under
	// /home or /tmp). Elsewhere they are visible read-only anyway.
	ReadOnly []string
	// Links are symbolic links the experiment sees though they lie in a
	// hidden folder (the template's data folder at the paper folder's
	// ../../data, inside the hidden artifact store). Where the host's view
	// shows through, the host's own link (or folder) is what it sees.
	Links []Link
	// UID and GID are the host user a root worker runs experiments as
	// (0: 65534, nobody/nogroup). Unused when the worker is not root.
	UID, GID int

	// asUser starts the sandbox as this uid/gid without root's privilege
	// drop: tests use it to exercise the non-root mode as root.
	asUser *syscall.Credential
}

// Link is a symbolic link at Path pointing to Target.
type Link struct{ Path, Target string }

// Defaults of DefaultConfig.
const (
	DefaultAddressSpace = 32 << 30
	DefaultOpenFiles    = 4096
	DefaultTmpBytes     = 4 << 30
	minProcesses        = 512
	nobody              = 65534
)

// OptOutEnv set to 1 (or true) disables the sandbox like --no-sandbox.
const OptOutEnv = "AISCI_NO_SANDBOX"

// Hint ends every "cannot sandbox" error.
const Hint = "install the Debian package bubblewrap (apt-get install bubblewrap), or run the worker with --no-sandbox (AISCI_NO_SANDBOX=1) on hosts that cannot use it"

// DefaultConfig is the sandbox a worker uses: 32 GiB of address space (none
// on a host with NVIDIA devices, see AddressSpaceBytes), max(512, 16 per CPU)
// processes, 4096 open files, 4 GiB per private tmpfs, GPUs bound.
func DefaultConfig() Config {
	c := Config{
		AddressSpaceBytes: DefaultAddressSpace,
		MaxProcesses:      uint64(max(minProcesses, 16*runtime.NumCPU())),
		MaxOpenFiles:      DefaultOpenFiles,
		TmpBytes:          DefaultTmpBytes,
		GPUDevices:        true,
	}
	if len(gpuDevices()) > 0 {
		c.AddressSpaceBytes = 0
	}
	return c
}

// EnvOptOut reports whether AISCI_NO_SANDBOX asks to run without sandbox.
func EnvOptOut() bool {
	v := strings.ToLower(strings.TrimSpace(os.Getenv(OptOutEnv)))
	return v == "1" || v == "true" || v == "yes"
}

// Enabled reports whether experiments run sandboxed.
func (c *Config) Enabled() bool { return c != nil && !c.Disabled }

// Summary describes the configuration in one line, for the worker's log.
func (c Config) Summary() string {
	if c.Disabled {
		return "disabled: experiments run with the worker's privileges, network and environment"
	}
	lim := func(v uint64) string {
		if v == 0 {
			return "unlimited"
		}
		return strconv.FormatUint(v, 10)
	}
	user := fmt.Sprintf("the worker's uid %d", os.Geteuid())
	if c.privileged() {
		uid, gid := c.ids()
		user = fmt.Sprintf("uid %d gid %d", uid, gid)
	}
	return fmt.Sprintf("bubblewrap, no network, read-only system, runs as %s; address space %s bytes, processes %s, open files %s; hidden: /home /root /run %s",
		user, lim(c.AddressSpaceBytes), lim(c.MaxProcesses), lim(c.MaxOpenFiles), strings.Join(c.Hide, " "))
}

// gpuGlob finds the NVIDIA device nodes (a variable for tests).
var gpuGlob = "/dev/nvidia*"

func gpuDevices() []string {
	m, _ := filepath.Glob(gpuGlob)
	return m
}

func (c Config) privileged() bool { return c.asUser == nil && os.Geteuid() == 0 }

func (c Config) ids() (int, int) {
	uid, gid := c.UID, c.GID
	if uid <= 0 {
		uid = nobody
	}
	if gid <= 0 {
		gid = nobody
	}
	return uid, gid
}

func (c Config) bwrap() (string, error) {
	name := c.Bwrap
	if name == "" {
		name = "bwrap"
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("experiment sandbox: bubblewrap (%s) not found: %s", name, Hint)
	}
	return p, nil
}

func (c Config) limited() bool {
	return c.AddressSpaceBytes > 0 || c.MaxProcesses > 0 || c.MaxOpenFiles > 0
}

func tool(name, pkg string) (string, error) {
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("experiment sandbox: %s not found (Debian package %s); or run the worker with --no-sandbox (AISCI_NO_SANDBOX=1)", name, pkg)
	}
	return p, nil
}

// Check returns nil when the sandbox is disabled or works on this host: it
// runs a shell in it that writes a file into a scratch folder. The error says
// what is missing and how to fix or opt out.
func (c Config) Check() error {
	if c.Disabled {
		return nil
	}
	if runtime.GOOS != "linux" {
		return fmt.Errorf("experiment sandbox: bubblewrap needs Linux; run the worker with --no-sandbox (AISCI_NO_SANDBOX=1) on %s", runtime.GOOS)
	}
	bwrap, err := c.bwrap()
	if err != nil {
		return err
	}
	sh, err := exec.LookPath("sh")
	if err != nil {
		return fmt.Errorf("experiment sandbox check: %w", err)
	}
	dir, err := os.MkdirTemp("", "aisci-sandbox-check-")
	if err != nil {
		return fmt.Errorf("experiment sandbox check: %w", err)
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := c.run(ctx, dir, []string{sh, "-c", "echo ok > probe && cat probe"})
	if ctx.Err() != nil {
		err = errors.New("no answer within 30 s")
	}
	if err != nil || strings.TrimSpace(string(out)) != "ok" {
		ver, _ := exec.Command(bwrap, "--version").CombinedOutput()
		msg := strings.TrimSpace(string(out))
		if msg == "" && err != nil {
			msg = err.Error()
		}
		return fmt.Errorf("experiment sandbox does not work on this host (%s, %s; bubblewrap 0.8 or newer is needed, with user namespaces when the worker is not root): %s; %s",
			bwrap, strings.TrimSpace(string(ver)), msg, Hint)
	}
	return nil
}

// Command returns the command that runs argv inside the sandbox, with dir as
// its working directory and only writable host folder, and env (KEY=VALUE)
// as its whole environment (see Environ). The command runs in its own
// process group and is killed if the worker dies; killing that group kills
// bwrap and with it every process of the sandbox. When the worker is root,
// Command first hands dir to the sandbox user. The caller sets Stdout and
// Stderr.
func (c Config) Command(dir string, argv, env []string) (*exec.Cmd, error) {
	if c.Disabled {
		return nil, errors.New("experiment sandbox is disabled")
	}
	if len(argv) == 0 {
		return nil, errors.New("sandbox: empty command")
	}
	if dir == "" {
		return nil, errors.New("sandbox: no folder for the experiment")
	}
	bwrap, err := c.bwrap()
	if err != nil {
		return nil, err
	}
	dir, err = realDir(dir)
	if err != nil {
		return nil, err
	}
	prog := argv[0]
	if !strings.Contains(prog, "/") {
		if prog, err = exec.LookPath(prog); err != nil {
			return nil, fmt.Errorf("sandbox: %w", err)
		}
	}
	if prog, err = filepath.Abs(prog); err != nil {
		return nil, err
	}
	argv = append([]string{prog}, argv[1:]...)

	var setpriv string
	uid, gid := os.Geteuid(), os.Getegid()
	if c.asUser != nil {
		uid, gid = int(c.asUser.Uid), int(c.asUser.Gid)
	}
	if c.privileged() {
		if setpriv, err = tool("setpriv", "util-linux"); err != nil {
			return nil, err
		}
		uid, gid = c.ids()
	}
	p, err := c.plan(dir, prog, uid, gid)
	if err != nil {
		return nil, err
	}
	if c.privileged() {
		if err := handOver(dir, uid, gid); err != nil {
			return nil, fmt.Errorf("sandbox: hand %s to uid %d: %w", dir, uid, err)
		}
	}

	args := []string{"--die-with-parent", "--new-session"}
	if c.privileged() {
		// bwrap as real root: no user namespace, so that setpriv can switch
		// to a real unprivileged host uid (which RLIMIT_NPROC counts).
		args = append(args, "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
			"--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--cap-add", "CAP_SETPCAP")
		if !c.Network {
			args = append(args, "--unshare-net")
		}
	} else {
		args = append(args, "--unshare-all", "--unshare-user", "--disable-userns")
		if c.Network {
			args = append(args, "--share-net")
		}
	}
	args = append(args, "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev")
	if c.GPUDevices {
		for _, d := range gpuDevices() {
			args = append(args, "--dev-bind", d, d)
		}
	}
	args = append(args, p.args(c.TmpBytes)...)
	args = append(args, "--chdir", dir, "--clearenv")
	for _, kv := range env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("sandbox: bad environment entry %q", kv)
		}
		args = append(args, "--setenv", k, v)
	}
	args = append(args, "--")
	if c.privileged() {
		args = append(args, setpriv, "--reuid="+strconv.Itoa(uid), "--regid="+strconv.Itoa(gid), "--clear-groups",
			"--no-new-privs", "--inh-caps=-all", "--bounding-set=-all", "--")
	}
	args = append(args, argv...)

	path, full := bwrap, append([]string{bwrap}, args...)
	if c.limited() {
		prlimit, err := tool("prlimit", "util-linux")
		if err != nil {
			return nil, err
		}
		lim := []string{prlimit}
		add := func(flag string, res int, v uint64) {
			if v == 0 {
				return
			}
			var cur syscall.Rlimit
			if syscall.Getrlimit(res, &cur) == nil && cur.Max < v {
				v = cur.Max // an unprivileged prlimit cannot raise the hard limit
			}
			lim = append(lim, fmt.Sprintf("--%s=%d", flag, v))
		}
		add("as", syscall.RLIMIT_AS, c.AddressSpaceBytes)
		add("nproc", rlimitNPROC, c.MaxProcesses)
		add("nofile", syscall.RLIMIT_NOFILE, c.MaxOpenFiles)
		path, full = prlimit, append(append(lim, "--"), full...)
	}
	cmd := &exec.Cmd{Path: path, Args: full, Dir: "/"}
	cmd.Env = []string{"PATH=" + envOr("PATH", defaultPath), "LANG=" + envOr("LANG", "C.UTF-8")}
	cmd.SysProcAttr = sysProcAttr(c.asUser)
	return cmd, nil
}

const rlimitNPROC = 6 // RLIMIT_NPROC on Linux

const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// passEnv are the worker's variables an experiment inherits.
var passEnv = []string{"PATH", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "TZ",
	"PYTHONPATH", "PYTHONHOME", "CUDA_VISIBLE_DEVICES", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"}

// Environ is the whole environment of a sandboxed run in dir: PATH, locale,
// PYTHONPATH/PYTHONHOME, CUDA_VISIBLE_DEVICES and thread counts from the
// worker when set, HOME=dir, TMPDIR=/tmp, MPLBACKEND=Agg, caches in the
// private /tmp, then extra (KEY=VALUE, later entries win). Nothing else of
// the worker's environment — no API key — gets in.
func Environ(dir string, extra []string) []string {
	var keys []string
	vals := map[string]string{}
	set := func(k, v string) {
		if _, ok := vals[k]; !ok {
			keys = append(keys, k)
		}
		vals[k] = v
	}
	for _, k := range passEnv {
		if v, ok := os.LookupEnv(k); ok {
			set(k, v)
		}
	}
	if vals["PATH"] == "" {
		set("PATH", defaultPath)
	}
	set("HOME", dir)
	set("TMPDIR", "/tmp")
	set("MPLBACKEND", "Agg")
	set("MPLCONFIGDIR", "/tmp/.config/matplotlib")
	set("XDG_CACHE_HOME", "/tmp/.cache")
	for _, kv := range extra {
		if k, v, ok := strings.Cut(kv, "="); ok && k != "" {
			set(k, v)
		}
	}
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, k+"="+vals[k])
	}
	return out
}

func realDir(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return "", fmt.Errorf("sandbox: %w", err)
	}
	st, err := os.Stat(real)
	if err != nil {
		return "", fmt.Errorf("sandbox: %w", err)
	}
	if !st.IsDir() {
		return "", fmt.Errorf("sandbox: %s is not a folder", dir)
	}
	if real == "/" {
		return "", errors.New("sandbox: the root folder cannot be an experiment's folder")
	}
	return real, nil
}

// handOver makes dir's folders and files (not symlinks, not files with
// several links, which may be someone else's) owned by uid:gid, so the
// unprivileged experiment can write its own folder.
func handOver(dir string, uid, gid int) error {
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		st, ok := info.Sys().(*syscall.Stat_t)
		if !ok || (int(st.Uid) == uid && int(st.Gid) == gid) || (!d.IsDir() && st.Nlink > 1) {
			return nil
		}
		return os.Lchown(path, uid, gid)
	})
}

// Mount plan: what replaces which host path in the sandbox's view.

type kind int

const (
	scratch  kind = iota // private writable tmpfs
	maskDir              // empty read-only tmpfs
	maskFile             // /dev/null
	bindRO
	bindRW
	symlink // a link to target, made inside a tmpfs
)

type mount struct {
	kind   kind
	path   string
	target string // symlink only
}

type plan struct{ mounts []mount }

func depth(p string) int { return strings.Count(filepath.Clean(p), "/") }

// under reports whether p is base or lies below it.
func under(p, base string) bool {
	return p == base || base == "/" || strings.HasPrefix(p, base+"/")
}

// hides reports the mask or scratch mount that covers p, if any.
func (p *plan) hides(path string) (mount, bool) {
	var best mount
	found := false
	for _, m := range p.mounts {
		if (m.kind == scratch || m.kind == maskDir || m.kind == maskFile) && under(path, m.path) && (!found || depth(m.path) > depth(best.path)) {
			best, found = m, true
		}
	}
	return best, found
}

// covered reports whether the sandbox's view of path is a tmpfs or mask
// of the plan rather than the host's: the deepest mount over it is one.
func (p *plan) covered(path string) bool {
	var best *mount
	for i, m := range p.mounts {
		if under(path, m.path) && (best == nil || depth(m.path) >= depth(best.path)) {
			best = &p.mounts[i]
		}
	}
	return best != nil && (best.kind == scratch || best.kind == maskDir)
}

func (p *plan) add(m mount) {
	for _, o := range p.mounts {
		if o == m {
			return
		}
	}
	p.mounts = append(p.mounts, m)
}

func (c Config) plan(dir, prog string, uid, gid int) (*plan, error) {
	p := &plan{}
	for _, s := range []string{"/tmp", "/var/tmp"} {
		if r, err := filepath.EvalSymlinks(s); err == nil {
			if st, err := os.Stat(r); err == nil && st.IsDir() {
				p.add(mount{kind: scratch, path: r})
			}
		}
	}
	p.add(mount{kind: scratch, path: "/dev/shm"}) // inside bwrap's own /dev
	for _, h := range append([]string{"/home", "/root", "/run"}, c.Hide...) {
		if h == "" {
			continue
		}
		abs, err := filepath.Abs(h)
		if err != nil {
			return nil, err
		}
		r, err := filepath.EvalSymlinks(abs)
		if err != nil {
			continue // nothing there to hide
		}
		if r == "/" {
			return nil, fmt.Errorf("sandbox: cannot hide %s (the root folder)", h)
		}
		st, err := os.Stat(r)
		if err != nil {
			continue
		}
		if st.IsDir() {
			p.add(mount{kind: maskDir, path: r})
		} else {
			p.add(mount{kind: maskFile, path: r})
		}
	}
	reach := func(path string) bool { return true }
	if c.privileged() && uid != 0 {
		reach = func(path string) bool { return traversable(path, uid, gid) }
	}
	// The interpreter: when it lies in a hidden or unreachable place (a
	// virtualenv under /home or /root), its installation is made visible
	// read-only.
	var binds []mount
	cands := []string{prog}
	if r, err := filepath.EvalSymlinks(prog); err == nil && r != prog {
		cands = append(cands, r)
	}
	for _, x := range cands {
		_, hidden := p.hides(x)
		if !hidden && ancestorsOK(x, reach) {
			continue
		}
		pre := filepath.Dir(x)
		if filepath.Base(pre) == "bin" {
			pre = filepath.Dir(pre)
		}
		bad := pre == "/" || pre == dir
		for _, m := range p.mounts {
			bad = bad || under(m.path, pre)
		}
		if bad {
			return nil, fmt.Errorf("sandbox: %s lies in %s, which the sandbox hides; use an interpreter installed elsewhere (e.g. /usr/bin/python3 or a virtualenv outside /home, /root and the worker's data folder)", x, pre)
		}
		binds = append(binds, mount{kind: bindRO, path: pre})
	}
	// Read-only extras: only where the host's view does not show them.
	for _, r := range c.ReadOnly {
		real, err := filepath.EvalSymlinks(r)
		if err != nil {
			continue // nothing there to show
		}
		if real, err = filepath.Abs(real); err != nil || real == "/" {
			continue
		}
		if _, hidden := p.hides(real); hidden || !ancestorsOK(real, reach) || !reach(real) {
			binds = append(binds, mount{kind: bindRO, path: real})
		}
	}
	binds = append(binds, mount{kind: bindRW, path: dir})
	// A folder on the way to a bound path that the sandbox user cannot
	// enter is replaced by an empty one, so the bound path can be reached.
	for _, b := range binds {
		for _, a := range ancestors(b.path) {
			if _, hidden := p.hides(a); hidden {
				break
			}
			if !reach(a) {
				p.add(mount{kind: maskDir, path: a})
				break
			}
		}
	}
	for _, b := range binds {
		p.add(b)
	}
	// Links inside a hidden folder are made in its tmpfs; elsewhere the
	// host's own view shows through.
	for _, l := range c.Links {
		if l.Path == "" || l.Target == "" || !filepath.IsAbs(l.Path) {
			continue
		}
		path := filepath.Clean(l.Path)
		if p.covered(path) {
			p.add(mount{kind: symlink, path: path, target: l.Target})
		}
	}
	// Shallow before deep; at equal depth, masks before binds, so a bound
	// folder shows through a mask and a mask inside it still hides.
	slices.SortStableFunc(p.mounts, func(a, b mount) int {
		if d := depth(a.path) - depth(b.path); d != 0 {
			return d
		}
		return int(a.kind) - int(b.kind)
	})
	return p, nil
}

// ancestors lists the proper ancestors of p below "/", shallow first.
func ancestors(p string) []string {
	var out []string
	for d := filepath.Dir(p); d != "/" && d != "."; d = filepath.Dir(d) {
		out = append([]string{d}, out...)
	}
	return out
}

func ancestorsOK(p string, reach func(string) bool) bool {
	for _, a := range ancestors(p) {
		if !reach(a) {
			return false
		}
	}
	return true
}

// traversable reports whether uid:gid (no supplementary groups) may enter
// folder path according to its mode bits (ACLs are not read).
func traversable(path string, uid, gid int) bool {
	st, err := os.Stat(path)
	if err != nil {
		return true // let bwrap report it
	}
	s, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return true
	}
	switch {
	case int(s.Uid) == uid:
		return s.Mode&0o100 != 0
	case int(s.Gid) == gid:
		return s.Mode&0o010 != 0
	}
	return s.Mode&0o001 != 0
}

// args turns the plan into bwrap options, in order.
func (p *plan) args(tmpBytes uint64) []string {
	var out []string
	created := map[string]bool{}
	var done []mount
	for _, m := range p.mounts {
		// Folders on the way that lie inside an earlier tmpfs do not exist
		// there yet: create them, enterable by the sandbox user.
		for _, a := range ancestors(m.path) {
			var cover *mount
			for i := range done {
				if under(a, done[i].path) && (cover == nil || depth(done[i].path) > depth(cover.path)) {
					cover = &done[i]
				}
			}
			if cover != nil && (cover.kind == scratch || cover.kind == maskDir) && cover.path != a && !created[a] {
				out = append(out, "--perms", "0755", "--dir", a)
				created[a] = true
			}
		}
		switch m.kind {
		case scratch:
			out = append(out, "--perms", "1777")
			if tmpBytes > 0 {
				out = append(out, "--size", strconv.FormatUint(tmpBytes, 10))
			}
			out = append(out, "--tmpfs", m.path)
		case maskDir:
			out = append(out, "--perms", "0755", "--tmpfs", m.path)
		case maskFile:
			out = append(out, "--ro-bind", "/dev/null", m.path)
		case bindRO:
			out = append(out, "--ro-bind", m.path, m.path)
		case bindRW:
			out = append(out, "--bind", m.path, m.path)
		case symlink:
			out = append(out, "--symlink", m.target, m.path)
		}
		done = append(done, m)
	}
	for _, m := range p.mounts {
		if m.kind == maskDir {
			out = append(out, "--remount-ro", m.path)
		}
	}
	return out
}

// run runs argv in dir and returns its combined output.
func (c Config) run(ctx context.Context, dir string, argv []string) ([]byte, error) {
	cmd, err := c.Command(dir, argv, Environ(dir, nil))
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	stop := context.AfterFunc(ctx, func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
	defer stop()
	err = cmd.Wait()
	return out.Bytes(), err
}
