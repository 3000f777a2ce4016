package activities

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/aiscientist/aiscientist/internal/latex"
	"github.com/aiscientist/aiscientist/internal/llm"
	"github.com/aiscientist/aiscientist/internal/paper"
	"github.com/aiscientist/aiscientist/internal/store"
	"github.com/aiscientist/aiscientist/internal/store/s3store"
)

// ErrTypeStorage marks a remote artifact store that refuses us for good
// (no bucket, denied access): fix the configuration, then resume.
const ErrTypeStorage = "Storage"

// Workspaces with a remote store (Activities.Remote): the bucket holds the
// truth and each worker's artifact folder is a cache. Every activity that
// touches a paper mirrors the stored workspace into its folder first and
// mirrors the folder back when it ends, failed or not (a failed run's logs
// matter). A paper's activities run one after another, so each starts from
// what the previous one left, on whichever worker or host it ran: an
// experiment host needs no shared file system. Mirroring both ways also
// carries deletions, so a failed attempt's partial run_i/ that a retry
// removed does not come back from another worker's cache.

// scope is the prologue and epilogue every workspace activity shares: the
// folder brought up to date from the remote store, an optional meter for
// model calls, and on return the usage attached to a failure and the
// folder stored back. Use:
//
//	s, err := a.paperScope(ctx, in.Paper, false)
//	if err != nil { return ..., err }
//	defer s.close(ctx, &err)
//	ctx = s.meter(ctx, in.Budget) // model-calling activities only
type scope struct {
	a      *Activities
	key    string // remote key: papers/<key>, campaigns/<key>, ideas/<template>
	dir    string // this worker's folder
	mirror bool   // deletions travel too (not for the shared idea store)
	ledger string // the call ledger, relative to dir (default LedgerFile)
	m      *llm.Meter
}

// paperScope opens a paper's workspace. isNew allows one that is stored
// nowhere yet (PreparePaper).
func (a *Activities) paperScope(ctx context.Context, p PaperRef, isNew bool) (*scope, error) {
	dir, err := a.Store.PaperDir(p.Key)
	if err != nil {
		return nil, badInput("%v", err)
	}
	return a.open(ctx, "papers/"+p.Key, dir, isNew, true)
}

// memberScope opens a paper's workspace for one of several activities
// that run at the same time (the review's ensemble): nothing is deleted
// either way, so one member's sync never removes another's files, and the
// member keeps its own call ledger (ledger, relative to the workspace).
func (a *Activities) memberScope(ctx context.Context, p PaperRef, ledger string) (*scope, error) {
	dir, err := a.Store.PaperDir(p.Key)
	if err != nil {
		return nil, badInput("%v", err)
	}
	s, err := a.open(ctx, "papers/"+p.Key, dir, false, false)
	if s != nil {
		s.ledger = ledger
	}
	return s, err
}

// campaignScope opens a campaign's folder (its ideas and their
// conversations); a new campaign has nothing stored yet.
func (a *Activities) campaignScope(ctx context.Context, key string) (*scope, error) {
	dir, err := a.Store.CampaignDir(key)
	if err != nil {
		return nil, badInput("%v", err)
	}
	return a.open(ctx, "campaigns/"+key, dir, true, true)
}

// ideaStoreScope opens a template's idea store. Campaigns share it and only
// ever add to it, so nothing is mirrored: a push never deletes an idea
// another campaign stored meanwhile.
func (a *Activities) ideaStoreScope(ctx context.Context, template string) (*scope, error) {
	dir, err := a.Store.IdeaDir(template)
	if err != nil {
		return nil, badInput("%v", err)
	}
	return a.open(ctx, "ideas/"+template, dir, true, false)
}

func (a *Activities) open(ctx context.Context, key, dir string, mayBeMissing, mirror bool) (*scope, error) {
	s := &scope{a: a, key: key, dir: dir, mirror: mirror}
	return s, a.pull(ctx, key, dir, mayBeMissing, mirror)
}

// meter starts counting (and limiting) the activity's model calls, with
// the call ledger in this scope's folder.
func (s *scope) meter(ctx context.Context, b llm.Budget) context.Context {
	ledger := s.ledger
	if ledger == "" {
		ledger = LedgerFile
	}
	ctx, s.m = startMeterAt(ctx, s.dir, ledger, b)
	return ctx
}

// usage is what the metered calls cost so far (earlier attempts included).
func (s *scope) usage() llm.Usage {
	if s.m == nil {
		return llm.Usage{}
	}
	return s.m.Usage()
}

// metered is the usage as a result embeds it.
func (s *scope) metered() Metered { return Metered{Usage: s.usage()} }

// close attaches the usage to a failure, then stores the folder. A failed
// push fails an otherwise successful activity (retryable: the work is
// redone or found done); after a failure it is only logged, the first
// error wins.
func (s *scope) close(ctx context.Context, err *error) {
	*err = withUsage(s.m, *err)
	if s.m != nil && *err == nil && activity.IsActivity(ctx) {
		// Done: its own result is stored, the checkpointed replies are not needed.
		_ = os.RemoveAll(repliesDir(s.dir, activity.GetInfo(ctx)))
		if s.mirror {
			// Only where no other activity shares the workspace: concurrent
			// review members create folders under RepliesDir meanwhile.
			_ = removeEmpty(filepath.Join(s.dir, RepliesDir))
		}
	}
	s.a.push(ctx, s.key, s.dir, s.mirror, err)
}

// removeEmpty removes the empty folders under and including dir.
func removeEmpty(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.IsDir() {
			_ = removeEmpty(filepath.Join(dir, e.Name()))
		}
	}
	return os.Remove(dir) // fails, harmlessly, when not empty
}

func (a *Activities) pull(ctx context.Context, key, dir string, mayBeMissing, mirror bool) error {
	if a.Remote == nil {
		return nil
	}
	pull := a.Remote.Pull
	if mirror {
		pull = a.Remote.PullMirror
	}
	st, err := pull(ctx, key, dir)
	switch {
	case errors.Is(err, s3store.ErrNotFound):
		if mayBeMissing {
			return nil
		}
		if store.Exists(dir) {
			// Made before this worker used the remote store: the local
			// copy becomes the stored one at the end of this activity.
			activity.GetLogger(ctx).Warn("workspace not in the remote store yet; using this worker's copy", "key", key)
			return nil
		}
		return badInput("workspace %s is neither in s3://%s nor in this worker's artifact folder %s", key, path.Join(a.Remote.Bucket(), key), dir)
	case err != nil:
		return storageError(fmt.Errorf("fetch workspace %s: %w", key, err))
	}
	if st.Transferred > 0 || st.Deleted > 0 {
		activity.GetLogger(ctx).Debug("workspace fetched", "key", key, "files", st.Transferred, "bytes", st.TransferredBytes, "removed", st.Deleted)
	}
	return nil
}

// pushTimeout bounds storing a workspace whose activity's context has
// ended; a live one is bounded by the activity's own timeout as well.
const pushTimeout = 5 * time.Minute

func (a *Activities) push(ctx context.Context, key, dir string, mirror bool, err *error) {
	if a.Remote == nil || !store.Exists(dir) {
		return
	}
	push := a.Remote.Push
	if mirror {
		push = a.Remote.PushMirror
	}
	// What the activity wrote is stored even when its context ended (a
	// cancelled paper's logs, a run that outlasted a server outage).
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), pushTimeout)
	defer cancel()
	_, perr := push(pctx, key, dir)
	if perr == nil {
		return
	}
	perr = storageError(fmt.Errorf("store workspace %s: %w", key, perr))
	if *err == nil {
		*err = perr
		return
	}
	activity.GetLogger(ctx).Warn("workspace not stored after a failed activity", "key", key, "error", perr)
}

func storageError(err error) error {
	if s3store.IsPermanent(err) {
		return nonRetryable(ErrTypeStorage, err.Error())
	}
	return err
}

// PaperSetup creates a paper's workspace.
type PaperSetup struct {
	Paper PaperRef
	Idea  paper.Idea
}

// PreparePaper copies the template into the paper's workspace once. A
// workspace that exists is left alone, so a retry or resume never clobbers
// work already done.
func (a *Activities) PreparePaper(ctx context.Context, in PaperSetup) (_ string, err error) {
	s, err := a.paperScope(ctx, in.Paper, true)
	if err != nil {
		return "", err
	}
	defer s.close(ctx, &err)
	dir := s.dir
	marker := filepath.Join(dir, ".prepared")
	if store.Exists(marker) {
		return dir, nil
	}
	t, err := a.template(in.Paper.Template)
	if err != nil {
		return "", err
	}
	if err := store.CopyDir(t.Dir, dir); err != nil {
		return "", fmt.Errorf("copy template %s: %w", t.Name, err)
	}
	// The pristine skeleton is what the write-up renders sections into:
	// placeholders in the spellings the write-up fills, without the example
	// figures some templates carry (the writer places the real ones).
	sk, err := os.ReadFile(filepath.Join(t.Dir, "latex", "template.tex"))
	if err != nil {
		return "", fmt.Errorf("read the template's latex/template.tex: %w", err)
	}
	skeleton, _ := latex.NormalizeSkeleton(string(sk))
	if err := store.WriteFile(filepath.Join(dir, "latex", "skeleton.tex"), []byte(skeleton)); err != nil {
		return "", fmt.Errorf("keep latex skeleton: %w", err)
	}
	if err := writeJSON(filepath.Join(dir, "idea.json"), in.Idea); err != nil {
		return "", err
	}
	notes := fmt.Sprintf("# Title: %s\n# Experiment description: %s\n", in.Idea.Title, in.Idea.Experiment)
	if err := store.WriteFile(filepath.Join(dir, "notes.txt"), []byte(notes)); err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Join(dir, "logs"), 0o755); err != nil {
		return "", err
	}
	return dir, store.WriteFile(marker, []byte(in.Paper.Key+"\n"))
}

// BaselineSetup prepares the workspace of a standalone baseline run
// (starter templates baseline): the template's folder, as a paper's.
type BaselineSetup struct{ Paper PaperRef }

// BaselineWorkspace is the prepared folder and the template's own limit
// for one run (0: none given).
type BaselineWorkspace struct {
	Dir        string
	RunTimeout time.Duration `json:",omitempty"`
}

// PrepareBaseline sets up a baseline's workspace like a paper's, at a
// paper folder's depth, so templates that read ../../data find it.
func (a *Activities) PrepareBaseline(ctx context.Context, in BaselineSetup) (BaselineWorkspace, error) {
	t, err := a.template(in.Paper.Template)
	if err != nil {
		return BaselineWorkspace{}, err
	}
	idea := paper.Idea{Name: "baseline", Title: "Baseline of template " + t.Name,
		Experiment: "The template's own experiment.py, unchanged, as run_0."}
	dir, err := a.PreparePaper(ctx, PaperSetup{Paper: in.Paper, Idea: idea})
	if err != nil {
		return BaselineWorkspace{}, err
	}
	return BaselineWorkspace{Dir: dir, RunTimeout: time.Duration(t.Prompt.RunTimeoutSeconds) * time.Second}, nil
}

// ExportInput copies a finished paper to the results folder, as
// <OutDir>/<template>/<folder>, the folder being the last part of the
// paper's key (<YYYYMMDD_HHMMSS>_<Name>).
type ExportInput struct {
	Paper  PaperRef
	OutDir string
	// Failure is a failed paper's stage and error, written as failure.txt
	// beside what it has; empty for a finished paper.
	Failure string `json:",omitempty"`
}

// failureFile holds why an exported paper failed.
const failureFile = "failure.txt"

// ExportPaper copies the workspace to the results folder and returns it.
func (a *Activities) ExportPaper(ctx context.Context, in ExportInput) (string, error) {
	s, err := a.paperScope(ctx, in.Paper, false)
	if err != nil {
		return "", err
	}
	folder := path.Base(in.Paper.Key)
	if in.OutDir == "" || folder == "." || folder == ".." || strings.ContainsRune(folder, filepath.Separator) {
		return "", badInput("export: bad results location %q / %q", in.OutDir, folder)
	}
	dst := filepath.Join(in.OutDir, in.Paper.Template, folder)
	// Reviewers whose review failed left their own ledgers: every call counts.
	if err := foldLedgers(s.dir, filepath.Join("reviews", "*", "member_*.calls.jsonl")); err != nil {
		return "", fmt.Errorf("fold the reviewers' call ledgers: %w", err)
	}
	if err := store.CopyDir(s.dir, dst); err != nil {
		return "", fmt.Errorf("export to %s: %w", dst, err)
	}
	if err := exportExtras(dst); err != nil {
		return "", fmt.Errorf("export to %s: %w", dst, err)
	}
	if in.Failure == "" {
		// A resumed paper that now finished is no longer a failure.
		_ = os.Remove(filepath.Join(dst, failureFile))
		return dst, nil
	}
	msg := fmt.Sprintf("This paper failed: %s\n\nIts folder holds what it had when it failed. Fix the cause, then: starter resume %s\n", in.Failure, "paper/"+in.Paper.Template+"/"+in.Paper.Name)
	if err := store.WriteFile(filepath.Join(dst, failureFile), []byte(msg)); err != nil {
		return "", fmt.Errorf("export to %s: %w", dst, err)
	}
	return dst, nil
}

// exportExtras adds what the reference layout has besides the workspace:
// ideas.json (the paper's idea, as a one-element list) and the coder's and
// writer's conversations as one readable transcript.
func exportExtras(dst string) error {
	var idea paper.Idea
	if err := readJSON(filepath.Join(dst, "idea.json"), &idea); err == nil {
		if err := writeJSON(filepath.Join(dst, "ideas.json"), []paper.Idea{idea}); err != nil {
			return err
		}
	}
	var b strings.Builder
	for _, name := range []string{ConvCoder, ConvWriter} {
		var conv conversation
		if err := readJSON(filepath.Join(dst, "chats", name+".json"), &conv); err != nil {
			continue
		}
		fmt.Fprintf(&b, "# %s conversation\n\n%s", name, transcript(conv.Messages))
	}
	if b.Len() == 0 {
		return nil
	}
	return store.WriteFile(filepath.Join(dst, "chat_transcript.md"), []byte(b.String()))
}
