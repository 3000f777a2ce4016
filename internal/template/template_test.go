package template

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoad(t *testing.T) {
	root := t.TempDir()
	good := filepath.Join(root, "good")
	for _, f := range Required {
		p := filepath.Join(good, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		content := "x"
		if f == "prompt.json" {
			content = `{"system": "s", "task_description": "d"}`
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(root, "partial"), 0o755); err != nil {
		t.Fatal(err)
	}
	tpl, err := Load(root, "good")
	if err != nil || tpl.Prompt.TaskDescription != "d" {
		t.Fatalf("Load(good) = %+v, %v", tpl, err)
	}
	if _, err := Load(root, "nope"); !errors.Is(err, ErrUnknown) || !strings.Contains(err.Error(), "good") {
		t.Fatalf("Load(nope) = %v, want ErrUnknown listing available templates", err)
	}
	if _, err := Load(root, "../etc"); !errors.Is(err, ErrUnknown) {
		t.Fatalf("Load(../etc) = %v", err)
	}
	if _, err := Load(root, "partial"); err == nil || !strings.Contains(err.Error(), "experiment.py") {
		t.Fatalf("Load(partial) = %v", err)
	}
}

func TestGrokkingTemplateLoads(t *testing.T) {
	tpl, err := Load("../../templates", "grokking")
	if err != nil {
		t.Fatal(err)
	}
	ideas, err := tpl.SeedIdeas()
	if err != nil || len(ideas) == 0 {
		t.Fatalf("seed ideas: %v, %v", ideas, err)
	}
	for _, i := range ideas {
		if err := i.Validate(); err != nil {
			t.Errorf("seed idea %s: %v", i.Name, err)
		}
	}
}

// TestRoots: --templates-dir folders are searched before the built-in one,
// and List names every template once.
func TestRoots(t *testing.T) {
	mk := func(root, name, task string) {
		for _, f := range Required {
			p := filepath.Join(root, name, f)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			content := "x"
			if f == "prompt.json" {
				content = `{"system": "s", "task_description": "` + task + `"}`
			}
			if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	builtin, extra := t.TempDir(), t.TempDir()
	mk(builtin, "grokking", "ours")
	mk(extra, "grokking", "theirs")
	mk(extra, "seir", "epidemics")
	roots := Roots(extra, "", builtin)
	if tpl, err := Load(roots, "grokking"); err != nil || tpl.Prompt.TaskDescription != "theirs" {
		t.Errorf("Load(grokking) = %+v, %v; want the --templates-dir one", tpl, err)
	}
	if tpl, err := Load(roots, "seir"); err != nil || tpl.Dir != filepath.Join(extra, "seir") {
		t.Errorf("Load(seir) = %+v, %v", tpl, err)
	}
	if got := strings.Join(List(roots), ","); got != "grokking,seir" {
		t.Errorf("List = %s", got)
	}
	if _, err := Load(roots, "nanoGPT"); !errors.Is(err, ErrUnknown) || !strings.Contains(err.Error(), extra) || !strings.Contains(err.Error(), "seir") {
		t.Errorf("Load(nanoGPT) = %v", err)
	}
}
