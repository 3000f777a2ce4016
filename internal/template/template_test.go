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
