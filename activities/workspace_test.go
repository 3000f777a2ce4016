package activities_test

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/aiscientist/aiscientist/activities"
	"github.com/aiscientist/aiscientist/internal/store/s3store"
)

// fakeS3 is an in-memory S3 server with one bucket, "papers".
func fakeS3(t *testing.T) *httptest.Server {
	t.Helper()
	backend := s3mem.New()
	if err := backend.CreateBucket("papers"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	return srv
}

func bucket(srv *httptest.Server, name string) *s3store.Store {
	client := s3.New(s3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
		HTTPClient:  srv.Client(), Retryer: aws.NopRetryer{},
	})
	return s3store.NewWithClient(client, s3store.Config{Bucket: name, Prefix: "ws"})
}

// withRemote keeps workspaces in the bucket; each env has its own folder.
func withRemote(r *s3store.Store) envOption {
	return func(e *env) { e.acts.Remote = r }
}

// edit changes one file of the paper the way an activity on worker e does:
// fetch, write, store.
func edit(t *testing.T, e *env, ref activities.PaperRef, rel, content string) {
	t.Helper()
	dir, err := e.acts.Store.PaperDir(ref.Key)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := e.acts.Remote.PullMirror(ctx, "papers/"+ref.Key, dir); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, rel), content)
	if _, err := e.acts.Remote.PushMirror(ctx, "papers/"+ref.Key, dir); err != nil {
		t.Fatal(err)
	}
}

// TestWorkspacesAcrossHosts: an orchestrating worker and two experiment
// hosts share nothing but a bucket. A failed run on one host leaves partial
// output; the retry on the other host starts clean, and no worker's cache
// brings the partial output back.
func TestWorkspacesAcrossHosts(t *testing.T) {
	needPython(t)
	srv := fakeS3(t)
	remote := bucket(srv, "papers")
	templates := miniTemplate(t, "")
	orch := newEnv(t, withTemplates(templates), withRemote(remote))
	host1 := newEnv(t, withTemplates(templates), withRemote(remote))
	host2 := newEnv(t, withTemplates(templates), withRemote(remote))

	ref, dir := miniPaper(t, orch, "shared_nothing")
	if ok, err := remote.Exists(context.Background(), "papers/"+ref.Key); err != nil || !ok {
		t.Fatalf("PreparePaper did not store the workspace: %v, %v", ok, err)
	}

	edit(t, orch, ref, "experiment.py", "import os\nos.makedirs('run_1', exist_ok=True)\nopen('run_1/partial.txt', 'w').write('half')\nraise SystemExit('diverged')\n")
	res := mustExecute[activities.RunResult](t, host1, host1.run.RunExperiment, activities.RunInput{Paper: ref, Run: 1, Attempt: 1, Timeout: time.Minute})
	if res.OK || !strings.Contains(res.Error, "diverged") {
		t.Fatalf("first attempt = %+v, want a failure", res)
	}

	edit(t, orch, ref, "experiment.py", writeFinalInfo)
	res = mustExecute[activities.RunResult](t, host2, host2.run.RunExperiment, activities.RunInput{Paper: ref, Run: 1, Attempt: 2, Timeout: time.Minute})
	if !res.OK {
		t.Fatalf("second attempt = %+v", res)
	}

	// host1 runs the plot next: its cache loses the partial output.
	mustExecute[activities.RunResult](t, host1, host1.run.RunPlot, activities.PlotInput{Paper: ref, Attempt: 1, Timeout: time.Minute})
	out := mustExecute[string](t, orch, orch.acts.ExportPaper, activities.ExportInput{Paper: ref, OutDir: t.TempDir()})

	h1, _ := host1.acts.Store.PaperDir(ref.Key)
	for _, d := range []string{h1, dir, out} {
		if !exists(filepath.Join(d, "run_1", "final_info.json")) || !exists(filepath.Join(d, "run_1.py")) {
			t.Errorf("%s lacks run 1's results", d)
		}
		if exists(filepath.Join(d, "run_1", "partial.txt")) {
			t.Errorf("%s still has the failed attempt's partial output", d)
		}
	}
	for _, log := range []string{"run_1_attempt_1.stderr", "run_1_attempt_2.stdout", "plot_attempt_1.stdout"} {
		if !exists(filepath.Join(out, "logs", log)) {
			t.Errorf("exported paper lacks logs/%s", log)
		}
	}
	ledger := readFile(t, filepath.Join(out, "logs", "executions.jsonl"))
	for _, want := range []string{`"event":"end","script":"experiment.py","run":1,"attempt":2`, `"metrics":{"x_plus_y":{"final_val_acc":0.99}}`, `"stderr_tail":"diverged`} {
		if !strings.Contains(ledger, want) {
			t.Errorf("executions ledger lacks %s:\n%s", want, ledger)
		}
	}
	if strings.Contains(h1, orch.root) || strings.Contains(dir, host1.root) {
		t.Fatal("the envs share a folder; the test proves nothing")
	}
}

func TestWorkspaceErrors(t *testing.T) {
	srv := fakeS3(t)
	templates := miniTemplate(t, "")

	// Stored nowhere: a clear, final error.
	e := newEnv(t, withTemplates(templates), withRemote(bucket(srv, "papers")))
	ref := activities.PaperRef{Key: "mini/never_prepared", Name: "never_prepared", Template: "mini"}
	_, err := execute[activities.RunResult](t, e, e.run.RunPlot, activities.PlotInput{Paper: ref, Attempt: 1})
	if fe := wantFinal(t, err, activities.ErrTypeBadInput); !strings.Contains(fe.Error(), "neither in s3://papers") {
		t.Errorf("missing workspace error = %v", fe)
	}

	// A workspace made before the worker used the bucket is adopted.
	local := newEnv(t, withTemplates(templates))
	ref, dir := miniPaper(t, local, "made_locally")
	local.acts.Remote = bucket(srv, "papers")
	mustExecute[activities.RunResult](t, local, local.run.RunPlot, activities.PlotInput{Paper: ref, Attempt: 1, Timeout: time.Minute})
	if ok, err := local.acts.Remote.Exists(context.Background(), "papers/"+ref.Key+"/logs"); err != nil || !ok {
		t.Errorf("the local workspace was not stored after the activity: %v, %v", ok, err)
	}
	if !exists(filepath.Join(dir, "experiment.py")) {
		t.Error("adopting the local workspace lost its files")
	}

	// A missing bucket is a configuration error: final, named.
	bad := newEnv(t, withTemplates(templates), withRemote(bucket(srv, "no-such-bucket")))
	_, err = execute[string](t, bad, bad.acts.PreparePaper, activities.PaperSetup{Paper: activities.PaperRef{Key: "mini/x", Name: "x", Template: "mini"}, Idea: testIdea})
	if fe := wantFinal(t, err, activities.ErrTypeStorage); !strings.Contains(fe.Error(), "no-such-bucket") {
		t.Errorf("missing bucket error = %v", fe)
	}
}
