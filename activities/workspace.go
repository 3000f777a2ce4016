package activities

import (
	"context"
	"errors"
	"fmt"
	"path"

	"go.temporal.io/sdk/activity"

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

// openPaper returns the paper's folder on this worker, brought up to date
// from the remote store. isNew allows a workspace that is stored nowhere yet
// (PreparePaper).
func (a *Activities) openPaper(ctx context.Context, p PaperRef, isNew bool) (string, error) {
	dir, err := a.paperDir(p)
	if err != nil {
		return "", err
	}
	return dir, a.pull(ctx, "papers/"+p.Key, dir, isNew, true)
}

// savePaper mirrors the paper's folder to the remote store. A failed push
// fails an otherwise successful activity (retryable: the work is redone or
// found done); after a failure it is only logged, the first error wins.
func (a *Activities) savePaper(ctx context.Context, p PaperRef, dir string, err *error) {
	a.push(ctx, "papers/"+p.Key, dir, true, err)
}

// openCampaign and saveCampaign do the same for a campaign's folder (its
// ideas and their conversations); a new campaign has nothing stored yet.
func (a *Activities) openCampaign(ctx context.Context, key string) (string, error) {
	dir, err := a.Store.CampaignDir(key)
	if err != nil {
		return "", badInput("%v", err)
	}
	return dir, a.pull(ctx, "campaigns/"+key, dir, true, true)
}

func (a *Activities) saveCampaign(ctx context.Context, key, dir string, err *error) {
	a.push(ctx, "campaigns/"+key, dir, true, err)
}

// openIdeaStore and saveIdeaStore sync a template's idea store. Campaigns
// share it and only ever add to it, so nothing is mirrored: a push never
// deletes an idea another campaign stored meanwhile.
func (a *Activities) openIdeaStore(ctx context.Context, template string) (string, error) {
	dir, err := a.Store.IdeaDir(template)
	if err != nil {
		return "", badInput("%v", err)
	}
	return dir, a.pull(ctx, "ideas/"+template, dir, true, false)
}

func (a *Activities) saveIdeaStore(ctx context.Context, template, dir string, err *error) {
	a.push(ctx, "ideas/"+template, dir, false, err)
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

func (a *Activities) push(ctx context.Context, key, dir string, mirror bool, err *error) {
	if a.Remote == nil || !store.Exists(dir) {
		return
	}
	push := a.Remote.Push
	if mirror {
		push = a.Remote.PushMirror
	}
	_, perr := push(ctx, key, dir)
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
