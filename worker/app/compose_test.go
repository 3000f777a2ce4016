package app_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	enumspb "go.temporal.io/api/enums/v1"
	"gopkg.in/yaml.v3"

	"github.com/aiscientist/aiscientist/internal/codec"
	"github.com/aiscientist/aiscientist/workflows"
)

// The compose file cannot run here (no Docker engine), so its structure is
// checked: the services a cluster needs, pinned images at the versions this
// project builds against, the schema step instead of auto-setup, the search
// attributes the workflows upsert, and the worker's environment.
func TestComposeFile(t *testing.T) {
	b, err := os.ReadFile("../../docker-compose.temporal.yml")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Services map[string]struct {
			Image       string            `yaml:"image"`
			Build       any               `yaml:"build"`
			Environment map[string]string `yaml:"environment"`
			Command     any               `yaml:"command"`
			DependsOn   map[string]struct {
				Condition string `yaml:"condition"`
			} `yaml:"depends_on"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatalf("docker-compose.temporal.yml: %v", err)
	}
	mod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	server := regexp.MustCompile(`go\.temporal\.io/server v(\S+)`).FindSubmatch(mod)
	ui := regexp.MustCompile(`github\.com/temporalio/ui-server/v2 v(\S+)`).FindSubmatch(mod)
	if server == nil || ui == nil {
		t.Fatal("go.mod pins no Temporal server or UI server")
	}
	pinned := regexp.MustCompile(`^[a-z0-9./_-]+:[A-Za-z0-9._-]+$`)
	for _, name := range []string{"postgresql", "temporal-schema", "temporal", "temporal-setup", "temporal-admin-tools", "temporal-ui", "minio", "minio-bucket", "worker"} {
		s, ok := f.Services[name]
		switch {
		case !ok:
			t.Errorf("no service %s", name)
		case s.Build == nil && (!pinned.MatchString(s.Image) || strings.HasSuffix(s.Image, ":latest")):
			t.Errorf("service %s: image %q is not pinned to a tag", name, s.Image)
		}
	}
	for name, s := range f.Services {
		if strings.Contains(s.Image, "auto-setup") {
			t.Errorf("service %s uses the deprecated auto-setup image", name)
		}
	}
	for _, name := range []string{"temporal", "temporal-schema", "temporal-setup", "temporal-admin-tools"} {
		if tag := f.Services[name].Image[strings.LastIndex(f.Services[name].Image, ":")+1:]; tag != string(server[1]) {
			t.Errorf("service %s runs %s, go.mod builds against server %s", name, tag, server[1])
		}
	}
	if !strings.HasSuffix(f.Services["temporal-ui"].Image, ":"+string(ui[1])) {
		t.Errorf("the UI image %s is not go.mod's ui-server %s", f.Services["temporal-ui"].Image, ui[1])
	}
	if f.Services["temporal"].DependsOn["temporal-schema"].Condition != "service_completed_successfully" {
		t.Error("the server does not wait for the schema step")
	}
	schema := strings.Join(flatten(f.Services["temporal-schema"].Command), " ")
	for _, want := range []string{"temporal-sql-tool", "setup-schema", "update-schema", "postgresql/v12/temporal/versioned", "postgresql/v12/visibility/versioned"} {
		if !strings.Contains(schema, want) {
			t.Errorf("the schema step lacks %q", want)
		}
	}
	setup := strings.Join(flatten(f.Services["temporal-setup"].Command), " ")
	types := map[enumspb.IndexedValueType]string{enumspb.INDEXED_VALUE_TYPE_KEYWORD: "Keyword", enumspb.INDEXED_VALUE_TYPE_DOUBLE: "Double", enumspb.INDEXED_VALUE_TYPE_INT: "Int"}
	for name, typ := range workflows.SearchAttributes() {
		keyword := strings.Contains(setup, "for sa in") && strings.Contains(setup, " "+name+" ") || strings.Contains(setup, " "+name+";")
		direct := strings.Contains(setup, "--name "+name+" --type "+types[typ])
		if !(direct || keyword && typ == enumspb.INDEXED_VALUE_TYPE_KEYWORD) {
			t.Errorf("the setup step does not create search attribute %s (%s)", name, types[typ])
		}
	}
	env := f.Services["worker"].Environment
	for _, k := range []string{"TEMPORAL_ADDRESS", "AISCI_S3_BUCKET", "AISCI_S3_ENDPOINT", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", codec.KeyEnv, "OPENAI_API_KEY", "S2_API_KEY", "AISCI_METRICS_ADDR"} {
		if _, ok := env[k]; !ok {
			t.Errorf("the worker service does not set %s", k)
		}
	}
	if env["TEMPORAL_ADDRESS"] != "temporal:7233" || env["AISCI_S3_ENDPOINT"] != "http://minio:9000" {
		t.Errorf("the worker reaches %q and %q", env["TEMPORAL_ADDRESS"], env["AISCI_S3_ENDPOINT"])
	}

	df, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	froms := regexp.MustCompile(`(?m)^FROM (\S+)`).FindAllSubmatch(df, -1)
	if len(froms) < 2 {
		t.Fatal("the Dockerfile has no build and runtime stages")
	}
	for _, m := range froms {
		if img := string(m[1]); !pinned.MatchString(img) || strings.HasSuffix(img, ":latest") {
			t.Errorf("Dockerfile: base image %s is not pinned", img)
		}
	}
	for _, want := range []string{"bubblewrap", "poppler-utils", "chktex", "texlive-latex-extra", "go build", "ENTRYPOINT [\"/usr/local/bin/worker\""} {
		if !strings.Contains(string(df), want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
}

func flatten(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return nil
}
