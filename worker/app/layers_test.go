package app_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLayers keeps the dependencies pointing one way: starter and worker →
// worker/app → workflows → activities → internal. Nothing under internal/
// knows a workflow or an activity, activities know no workflow, and
// workflows know nothing of the composition root.
func TestLayers(t *testing.T) {
	const mod = "github.com/aiscientist/aiscientist/"
	rules := []struct {
		pkgs      string
		forbidden []string
	}{
		{"./internal/...", []string{"workflows", "activities", "worker/app", "starter", "worker"}},
		{"./activities/...", []string{"workflows", "worker/app"}},
		{"./workflows/...", []string{"worker/app"}},
	}
	for _, r := range rules {
		out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}: {{join .Deps \" \"}}", "../../"+strings.TrimPrefix(r.pkgs, "./")).CombinedOutput()
		if err != nil {
			t.Fatalf("go list %s: %v\n%s", r.pkgs, err, out)
		}
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		if len(lines) == 0 || lines[0] == "" {
			t.Fatalf("go list %s listed nothing", r.pkgs)
		}
		for _, line := range lines {
			pkg, deps, _ := strings.Cut(line, ": ")
			for _, d := range strings.Fields(deps) {
				for _, f := range r.forbidden {
					if d == mod+f || strings.HasPrefix(d, mod+f+"/") && f != "worker" {
						t.Errorf("%s imports %s (directly or not): dependencies must point starter/worker → worker/app → workflows → activities → internal", pkg, d)
					}
				}
			}
		}
	}
}
