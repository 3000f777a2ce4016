package editblock

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

const fence = "```"

func TestParse(t *testing.T) {
	tests := []struct {
		name  string
		reply string
		want  []Block
	}{
		{
			name: "filename before fence",
			reply: "I will change the learning rate.\n\nexperiment.py\n" + fence + "python\n" +
				"<<<<<<< SEARCH\nlr = 0.1\n=======\nlr = 0.01\n>>>>>>> REPLACE\n" + fence + "\n",
			want: []Block{{Path: "experiment.py", Search: "lr = 0.1\n", Replace: "lr = 0.01\n", Index: 1}},
		},
		{
			name: "filename inside fence",
			reply: fence + "python\nplot.py\n" +
				"<<<<<<< SEARCH\nplt.show()\n=======\nplt.savefig('a.png')\n>>>>>>> REPLACE\n" + fence,
			want: []Block{{Path: "plot.py", Search: "plt.show()\n", Replace: "plt.savefig('a.png')\n", Index: 1}},
		},
		{
			name: "filename inside bare fence",
			reply: fence + "\nnotes.txt\n" +
				"<<<<<<< SEARCH\nold\n=======\nnew\n>>>>>>> REPLACE\n" + fence,
			want: []Block{{Path: "notes.txt", Search: "old\n", Replace: "new\n", Index: 1}},
		},
		{
			name: "multiple blocks same file in one fence",
			reply: "experiment.py\n" + fence + "python\n" +
				"<<<<<<< SEARCH\na = 1\n=======\na = 2\n>>>>>>> REPLACE\n" +
				"<<<<<<< SEARCH\nb = 1\n=======\nb = 2\n>>>>>>> REPLACE\n" + fence + "\n",
			want: []Block{
				{Path: "experiment.py", Search: "a = 1\n", Replace: "a = 2\n", Index: 1},
				{Path: "experiment.py", Search: "b = 1\n", Replace: "b = 2\n", Index: 2},
			},
		},
		{
			name: "inherited filename in a later fence without name",
			reply: "experiment.py\n" + fence + "python\n" +
				"<<<<<<< SEARCH\na = 1\n=======\na = 2\n>>>>>>> REPLACE\n" + fence + "\n\n" +
				"Now the second change:\n\n" + fence + "python\n" +
				"<<<<<<< SEARCH\nb = 1\n=======\nb = 2\n>>>>>>> REPLACE\n" + fence + "\n",
			want: []Block{
				{Path: "experiment.py", Search: "a = 1\n", Replace: "a = 2\n", Index: 1},
				{Path: "experiment.py", Search: "b = 1\n", Replace: "b = 2\n", Index: 2},
			},
		},
		{
			name: "single word prose line is not a filename",
			reply: "experiment.py\n" + fence + "python\n" +
				"<<<<<<< SEARCH\na = 1\n=======\na = 2\n>>>>>>> REPLACE\n" + fence + "\n" +
				"Next:\n" + fence + "python\n" +
				"<<<<<<< SEARCH\nb = 1\n=======\nb = 2\n>>>>>>> REPLACE\n" + fence + "\n",
			want: []Block{
				{Path: "experiment.py", Search: "a = 1\n", Replace: "a = 2\n", Index: 1},
				{Path: "experiment.py", Search: "b = 1\n", Replace: "b = 2\n", Index: 2},
			},
		},
		{
			name: "several files with decorated names and fence languages",
			reply: "**experiment.py**\n" + fence + "python\n" +
				"<<<<<<< SEARCH\nx\n=======\ny\n>>>>>>> REPLACE\n" + fence + "\n" +
				"`latex/template.tex`:\n" + fence + "latex\n" +
				"<<<<<<< SEARCH\n\\title{A}\n=======\n\\title{B}\n>>>>>>> REPLACE\n" + fence + "\n" +
				"notes.txt:\n" + fence + "text\n" +
				"<<<<<<< SEARCH\n=======\nRun 1: ok\n>>>>>>> REPLACE\n" + fence + "\n" +
				"### plot.py\n" + fence + "\n" +
				"<<<<<<< SEARCH\np\n=======\nq\n>>>>>>> REPLACE\n" + fence + "\n",
			want: []Block{
				{Path: "experiment.py", Search: "x\n", Replace: "y\n", Index: 1},
				{Path: "latex/template.tex", Search: "\\title{A}\n", Replace: "\\title{B}\n", Index: 2},
				{Path: "notes.txt", Search: "", Replace: "Run 1: ok\n", Index: 3},
				{Path: "plot.py", Search: "p\n", Replace: "q\n", Index: 4},
			},
		},
		{
			name: "marker lengths 5 and 9 with trailing spaces",
			reply: "experiment.py\n" + fence + "python\n" +
				"<<<<< SEARCH  \nold\n=====   \nnew\n>>>>>>>>> REPLACE\t\n" + fence + "\n",
			want: []Block{{Path: "experiment.py", Search: "old\n", Replace: "new\n", Index: 1}},
		},
		{
			name: "empty replace deletes and blank lines are kept",
			reply: "experiment.py\n" + fence + "python\n" +
				"<<<<<<< SEARCH\n\nold\n\n=======\n>>>>>>> REPLACE\n" + fence + "\n",
			want: []Block{{Path: "experiment.py", Search: "\nold\n\n", Replace: "", Index: 1}},
		},
		{
			name: "CRLF reply",
			reply: "experiment.py\r\n" + fence + "python\r\n" +
				"<<<<<<< SEARCH\r\nold\r\n=======\r\nnew\r\n>>>>>>> REPLACE\r\n" + fence + "\r\n",
			want: []Block{{Path: "experiment.py", Search: "old\n", Replace: "new\n", Index: 1}},
		},
		{
			name: "filename in fence info string",
			reply: fence + "python experiment.py\n" +
				"<<<<<<< SEARCH\nold\n=======\nnew\n>>>>>>> REPLACE\n" + fence + "\n",
			want: []Block{{Path: "experiment.py", Search: "old\n", Replace: "new\n", Index: 1}},
		},
		{
			name:  "no blocks",
			reply: "I think the experiment is fine as it is.\n" + fence + "python\nprint('hi')\n" + fence + "\n",
			want:  nil,
		},
		{
			name:  "empty reply",
			reply: "",
			want:  nil,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(tc.reply)
			if err != nil {
				t.Fatalf("Parse error: %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Parse mismatch\n got: %#v\nwant: %#v", got, tc.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	good := "experiment.py\n" + fence + "python\n<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE\n" + fence + "\n"
	tests := []struct {
		name      string
		reply     string
		wantBlock int
		wantLine  int
		wantMsg   []string
		wantGood  int // well-formed blocks returned before the error
	}{
		{
			name:      "search without divider at end of reply",
			reply:     "experiment.py\n" + fence + "python\n<<<<<<< SEARCH\na = 1\n" + fence + "\n",
			wantBlock: 1, wantLine: 3,
			wantMsg: []string{"=======", "divider"},
		},
		{
			name:      "search without divider before next block",
			reply:     "experiment.py\n" + fence + "python\n<<<<<<< SEARCH\na = 1\n>>>>>>> REPLACE\n" + fence + "\n",
			wantBlock: 1, wantLine: 5,
			wantMsg: []string{"not followed by a ======= divider"},
		},
		{
			name:      "missing replace marker in second block",
			reply:     good + "plot.py\n" + fence + "python\n<<<<<<< SEARCH\na\n=======\nb\n" + fence + "\n",
			wantBlock: 2, wantLine: 11,
			wantMsg:  []string{"missing its closing >>>>>>> REPLACE"},
			wantGood: 1,
		},
		{
			name: "new search before replace marker",
			reply: "plot.py\n" + fence + "\n<<<<<<< SEARCH\na\n=======\nb\n" +
				"<<<<<<< SEARCH\nc\n=======\nd\n>>>>>>> REPLACE\n" + fence + "\n",
			wantBlock: 1, wantLine: 7,
			wantMsg: []string{"missing its closing >>>>>>> REPLACE"},
		},
		{
			name:      "missing filename",
			reply:     "Here is the change.\n" + fence + "python\n<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE\n" + fence + "\n",
			wantBlock: 1, wantLine: 3,
			wantMsg: []string{"no file name", "alone on the line"},
		},
		{
			name:      "replace without search",
			reply:     good + "plot.py\n" + fence + "python\na\n=======\nb\n>>>>>>> REPLACE\n" + fence + "\n",
			wantBlock: 2, wantLine: 14,
			wantMsg:  []string{"without a preceding <<<<<<< SEARCH"},
			wantGood: 1,
		},
		{
			name:      "two dividers",
			reply:     "plot.py\n" + fence + "\n<<<<<<< SEARCH\na\n=======\nb\n=======\nc\n>>>>>>> REPLACE\n" + fence + "\n",
			wantBlock: 1, wantLine: 7,
			wantMsg: []string{"more than one ======="},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			blocks, err := Parse(tc.reply)
			if err == nil {
				t.Fatalf("expected an error, got blocks %#v", blocks)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error is %T, want *ParseError", err)
			}
			if pe.Block != tc.wantBlock {
				t.Errorf("Block = %d, want %d", pe.Block, tc.wantBlock)
			}
			if pe.Line != tc.wantLine {
				t.Errorf("Line = %d, want %d", pe.Line, tc.wantLine)
			}
			msg := err.Error()
			if !strings.Contains(msg, "block "+strconv.Itoa(tc.wantBlock)) {
				t.Errorf("message %q does not name block %d", msg, tc.wantBlock)
			}
			for _, w := range tc.wantMsg {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q does not contain %q", msg, w)
				}
			}
			if len(blocks) != tc.wantGood {
				t.Errorf("got %d good blocks before the error, want %d", len(blocks), tc.wantGood)
			}
		})
	}
}

// writeFiles creates the given files under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func readFile(t *testing.T, dir, name string) (string, bool) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
	if errors.Is(err, os.ErrNotExist) {
		return "", false
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(data), true
}

func indices(bs []Block) []int {
	var out []int
	for _, b := range bs {
		out = append(out, b.Index)
	}
	return out
}

const expPy = `import numpy as np

def train(model, data):
    lr = 0.1
    for epoch in range(10):
        loss = model.step(data, lr)
        print(f"epoch {epoch} loss {loss}")
    return model

def evaluate(model, data):
    return model.score(data)
`

func TestApply(t *testing.T) {
	type failWant struct {
		index          int
		reason         string // substring of Reason
		closest        string // substring of Closest ("" = must be empty)
		alreadyPresent bool
	}
	tests := []struct {
		name        string
		files       map[string]string
		blocks      []Block
		allowed     []string
		wantFiles   map[string]string // expected contents after Apply
		wantMissing []string          // files that must not exist
		wantApplied []int
		wantFailed  []failWant
		wantChanged []string
	}{
		{
			name:  "exact match",
			files: map[string]string{"experiment.py": expPy},
			blocks: []Block{{Path: "experiment.py", Index: 1,
				Search:  "    lr = 0.1\n",
				Replace: "    lr = 0.01\n"}},
			wantFiles:   map[string]string{"experiment.py": strings.Replace(expPy, "lr = 0.1\n", "lr = 0.01\n", 1)},
			wantApplied: []int{1},
			wantChanged: []string{"experiment.py"},
		},
		{
			name:  "exact match replaces only the first occurrence",
			files: map[string]string{"notes.txt": "a\nx\nb\nx\n"},
			blocks: []Block{{Path: "notes.txt", Index: 1,
				Search: "x\n", Replace: "y\n"}},
			wantFiles:   map[string]string{"notes.txt": "a\ny\nb\nx\n"},
			wantApplied: []int{1},
			wantChanged: []string{"notes.txt"},
		},
		{
			name:  "deletion with empty replace",
			files: map[string]string{"experiment.py": expPy},
			blocks: []Block{{Path: "experiment.py", Index: 1,
				Search: "        print(f\"epoch {epoch} loss {loss}\")\n", Replace: ""}},
			wantFiles:   map[string]string{"experiment.py": strings.Replace(expPy, "        print(f\"epoch {epoch} loss {loss}\")\n", "", 1)},
			wantApplied: []int{1},
			wantChanged: []string{"experiment.py"},
		},
		{
			name:  "search under-indented: replace is re-indented",
			files: map[string]string{"experiment.py": expPy},
			blocks: []Block{{Path: "experiment.py", Index: 1,
				Search:  "for epoch in range(10):\n    loss = model.step(data, lr)\n",
				Replace: "for epoch in range(20):\n    loss = model.step(data, lr)\n\n    if loss < 0.1:\n        break\n"}},
			wantFiles: map[string]string{"experiment.py": strings.Replace(expPy,
				"    for epoch in range(10):\n        loss = model.step(data, lr)\n",
				"    for epoch in range(20):\n        loss = model.step(data, lr)\n\n        if loss < 0.1:\n            break\n", 1)},
			wantApplied: []int{1},
			wantChanged: []string{"experiment.py"},
		},
		{
			name:  "search over-indented: replace is de-indented",
			files: map[string]string{"experiment.py": expPy},
			blocks: []Block{{Path: "experiment.py", Index: 1,
				Search:  "        def evaluate(model, data):\n            return model.score(data)\n",
				Replace: "        def evaluate(model, data):\n            # held-out score\n            return model.score(data)\n"}},
			wantFiles: map[string]string{"experiment.py": strings.Replace(expPy,
				"def evaluate(model, data):\n    return model.score(data)\n",
				"def evaluate(model, data):\n    # held-out score\n    return model.score(data)\n", 1)},
			wantApplied: []int{1},
			wantChanged: []string{"experiment.py"},
		},
		{
			name:  "indentation offset must be uniform",
			files: map[string]string{"experiment.py": expPy},
			blocks: []Block{{Path: "experiment.py", Index: 1,
				Search:  "for epoch in range(10):\n  loss = model.step(data, lr)\n",
				Replace: "for epoch in range(20):\n  loss = model.step(data, lr)\n"}},
			wantFiles:  map[string]string{"experiment.py": expPy},
			wantFailed: []failWant{{index: 1, reason: "does not match", closest: "    for epoch in range(10):\n        loss = model.step(data, lr)\n"}},
		},
		{
			name:  "leading blank search line that is not in the file",
			files: map[string]string{"plot.py": "import matplotlib\nplt.title('a')\nplt.show()\n"},
			blocks: []Block{{Path: "plot.py", Index: 1,
				Search:  "\nplt.title('a')\nplt.show()\n",
				Replace: "\nplt.title('b')\nplt.savefig('out.png')\n"}},
			wantFiles:   map[string]string{"plot.py": "import matplotlib\nplt.title('b')\nplt.savefig('out.png')\n"},
			wantApplied: []int{1},
			wantChanged: []string{"plot.py"},
		},
		{
			name:  "trailing whitespace differences are ignored",
			files: map[string]string{"notes.txt": "# Notes  \nRun 1: baseline \t\nRun 2: tbd\n"},
			blocks: []Block{{Path: "notes.txt", Index: 1,
				Search:  "Run 1: baseline\nRun 2: tbd\n",
				Replace: "Run 1: baseline\nRun 2: lr=0.01, acc=0.91\n"}},
			wantFiles:   map[string]string{"notes.txt": "# Notes  \nRun 1: baseline\nRun 2: lr=0.01, acc=0.91\n"},
			wantApplied: []int{1},
			wantChanged: []string{"notes.txt"},
		},
		{
			name:  "elision with ... pieces",
			files: map[string]string{"experiment.py": expPy},
			blocks: []Block{{Path: "experiment.py", Index: 1,
				Search:  "def train(model, data):\n    lr = 0.1\n...\n    return model\n",
				Replace: "def train(model, data, lr=0.1):\n...\n    return model, loss\n"}},
			wantFiles: map[string]string{"experiment.py": strings.Replace(strings.Replace(expPy,
				"def train(model, data):\n    lr = 0.1\n", "def train(model, data, lr=0.1):\n", 1),
				"    return model\n", "    return model, loss\n", 1)},
			wantApplied: []int{1},
			wantChanged: []string{"experiment.py"},
		},
		{
			name:  "elision piece matching twice fails",
			files: map[string]string{"experiment.py": "x = 1\nprint(x)\ny = 2\nprint(x)\n"},
			blocks: []Block{{Path: "experiment.py", Index: 1,
				Search:  "x = 1\n   ...\nprint(x)\n",
				Replace: "x = 3\n   ...\nprint(x)\n"}},
			wantFiles:  map[string]string{"experiment.py": "x = 1\nprint(x)\ny = 2\nprint(x)\n"},
			wantFailed: []failWant{{index: 1, reason: "matches 2 places", closest: "print(x)\n"}},
		},
		{
			name:  "later block sees earlier edit",
			files: map[string]string{"experiment.py": expPy},
			blocks: []Block{
				{Path: "experiment.py", Index: 1, Search: "    lr = 0.1\n", Replace: "    lr = 0.05\n"},
				{Path: "experiment.py", Index: 2, Search: "    lr = 0.05\n", Replace: "    lr = 0.02\n"},
			},
			wantFiles:   map[string]string{"experiment.py": strings.Replace(expPy, "lr = 0.1\n", "lr = 0.02\n", 1)},
			wantApplied: []int{1, 2},
			wantChanged: []string{"experiment.py"},
		},
		{
			name:  "no match reports closest lines",
			files: map[string]string{"experiment.py": expPy},
			blocks: []Block{{Path: "experiment.py", Index: 1,
				Search:  "    for epoch in range(100):\n        loss = model.step(data, lr)\n",
				Replace: "    for epoch in range(5):\n        loss = model.step(data, lr)\n"}},
			wantFiles: map[string]string{"experiment.py": expPy},
			wantFailed: []failWant{{index: 1, reason: "does not match any lines in experiment.py",
				closest: "    for epoch in range(10):\n        loss = model.step(data, lr)\n"}},
		},
		{
			name:  "no match with replace already present",
			files: map[string]string{"experiment.py": strings.Replace(expPy, "lr = 0.1", "lr = 0.01", 1)},
			blocks: []Block{{Path: "experiment.py", Index: 1,
				Search:  "    lr = 0.1\n",
				Replace: "    lr = 0.01\n"}},
			wantFiles: map[string]string{"experiment.py": strings.Replace(expPy, "lr = 0.1", "lr = 0.01", 1)},
			wantFailed: []failWant{{index: 1, reason: "does not match",
				closest: "    lr = 0.01\n", alreadyPresent: true}},
		},
		{
			name:  "no similar lines gives no closest",
			files: map[string]string{"experiment.py": expPy},
			blocks: []Block{{Path: "experiment.py", Index: 1,
				Search:  "\\begin{document}\n\\maketitle\n",
				Replace: "\\begin{document}\n"}},
			wantFiles:  map[string]string{"experiment.py": expPy},
			wantFailed: []failWant{{index: 1, reason: "does not match", closest: ""}},
		},
		{
			name:  "failed block does not stop later blocks",
			files: map[string]string{"experiment.py": expPy, "notes.txt": "n\n"},
			blocks: []Block{
				{Path: "experiment.py", Index: 1, Search: "nothing like this\n", Replace: "x\n"},
				{Path: "notes.txt", Index: 2, Search: "n\n", Replace: "m\n"},
			},
			wantFiles:   map[string]string{"experiment.py": expPy, "notes.txt": "m\n"},
			wantApplied: []int{2},
			wantFailed:  []failWant{{index: 1, reason: "does not match"}},
			wantChanged: []string{"notes.txt"},
		},
		{
			name:  "create file with empty search, in a new directory",
			files: map[string]string{},
			blocks: []Block{{Path: "latex/sections/intro.tex", Index: 1,
				Search: "", Replace: "\\section{Introduction}\n"}},
			wantFiles:   map[string]string{"latex/sections/intro.tex": "\\section{Introduction}\n"},
			wantApplied: []int{1},
			wantChanged: []string{"latex/sections/intro.tex"},
		},
		{
			name:  "create then edit in the same reply",
			files: map[string]string{},
			blocks: []Block{
				{Path: "run.py", Index: 1, Search: "", Replace: "a = 1\nb = 2\n"},
				{Path: "./run.py", Index: 2, Search: "b = 2\n", Replace: "b = 3\n"},
			},
			wantFiles:   map[string]string{"run.py": "a = 1\nb = 3\n"},
			wantApplied: []int{1, 2},
			wantChanged: []string{"run.py"},
		},
		{
			name:  "empty search appends to an existing file",
			files: map[string]string{"notes.txt": "Run 1: ok"},
			blocks: []Block{{Path: "notes.txt", Index: 1,
				Search: "\n", Replace: "Run 2: better\n"}},
			wantFiles:   map[string]string{"notes.txt": "Run 1: ok\nRun 2: better\n"},
			wantApplied: []int{1},
			wantChanged: []string{"notes.txt"},
		},
		{
			name:  "resending a file's whole content with empty search is a no-op",
			files: map[string]string{"notes.txt": "Run 1: ok\n"},
			blocks: []Block{{Path: "notes.txt", Index: 1,
				Search: "", Replace: "Run 1: ok\n"}},
			wantFiles:   map[string]string{"notes.txt": "Run 1: ok\n"},
			wantApplied: []int{1},
		},
		{
			name:  "non-empty search on a missing file",
			files: map[string]string{},
			blocks: []Block{{Path: "plot.py", Index: 1,
				Search: "plt.show()\n", Replace: "plt.savefig('x.png')\n"}},
			wantMissing: []string{"plot.py"},
			wantFailed:  []failWant{{index: 1, reason: "plot.py does not exist"}},
		},
		{
			name:  "CRLF file keeps its line endings",
			files: map[string]string{"notes.txt": "a\r\nb\r\nc\r\n"},
			blocks: []Block{{Path: "notes.txt", Index: 1,
				Search: "b\n", Replace: "B\nB2\n"}},
			wantFiles:   map[string]string{"notes.txt": "a\r\nB\r\nB2\r\nc\r\n"},
			wantApplied: []int{1},
			wantChanged: []string{"notes.txt"},
		},
		{
			name:  "file without final newline",
			files: map[string]string{"notes.txt": "a\nb"},
			blocks: []Block{{Path: "notes.txt", Index: 1,
				Search: "b\n", Replace: "c\n"}},
			wantFiles:   map[string]string{"notes.txt": "a\nc"},
			wantApplied: []int{1},
			wantChanged: []string{"notes.txt"},
		},
		{
			name:  "parent path escape",
			files: map[string]string{"experiment.py": expPy},
			blocks: []Block{{Path: "../x", Index: 1, Search: "", Replace: "pwned\n"},
				{Path: "latex/../../y", Index: 2, Search: "", Replace: "pwned\n"}},
			wantFailed: []failWant{{index: 1, reason: "outside the workspace"}, {index: 2, reason: "outside the workspace"}},
		},
		{
			name:  "absolute path",
			files: map[string]string{"experiment.py": expPy},
			blocks: []Block{{Path: "/etc/passwd", Index: 1,
				Search: "root\n", Replace: "evil\n"}},
			wantFailed: []failWant{{index: 1, reason: "absolute path"}},
		},
		{
			name:  "file not in allowed list",
			files: map[string]string{"experiment.py": expPy, "secret.txt": "s\n"},
			blocks: []Block{{Path: "secret.txt", Index: 1,
				Search: "s\n", Replace: "t\n"}},
			allowed:    []string{"experiment.py", "latex/template.tex"},
			wantFiles:  map[string]string{"secret.txt": "s\n"},
			wantFailed: []failWant{{index: 1, reason: "not one of the files you may edit; the editable files are: experiment.py, latex/template.tex"}},
		},
		{
			name:  "allowed paths are cleaned",
			files: map[string]string{"latex/template.tex": "\\title{A}\n"},
			blocks: []Block{{Path: "latex//template.tex", Index: 1,
				Search: "\\title{A}\n", Replace: "\\title{B}\n"}},
			allowed:     []string{"./latex/template.tex"},
			wantFiles:   map[string]string{"latex/template.tex": "\\title{B}\n"},
			wantApplied: []int{1},
			wantChanged: []string{"latex/template.tex"},
		},
		{
			name:  "empty non-nil allowed list allows nothing",
			files: map[string]string{"notes.txt": "a\n"},
			blocks: []Block{{Path: "notes.txt", Index: 1,
				Search: "a\n", Replace: "b\n"}},
			allowed:    []string{},
			wantFiles:  map[string]string{"notes.txt": "a\n"},
			wantFailed: []failWant{{index: 1, reason: "not one of the files you may edit"}},
		},
		{
			name:  "directory is not a file",
			files: map[string]string{"latex/template.tex": "x\n"},
			blocks: []Block{{Path: "latex", Index: 1,
				Search: "x\n", Replace: "y\n"}},
			wantFailed: []failWant{{index: 1, reason: "is a directory"}},
		},
		{
			name:  "zero Index is filled in from position",
			files: map[string]string{"notes.txt": "a\n"},
			blocks: []Block{
				{Path: "notes.txt", Search: "a\n", Replace: "b\n"},
				{Path: "notes.txt", Search: "zzz\n", Replace: "c\n"},
			},
			wantFiles:   map[string]string{"notes.txt": "b\n"},
			wantApplied: []int{1},
			wantFailed:  []failWant{{index: 2, reason: "SEARCH section of block 2 does not match"}},
			wantChanged: []string{"notes.txt"},
		},
	}

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := filepath.Join(t.TempDir(), "ws")
			if err := os.Mkdir(root, 0o755); err != nil {
				t.Fatal(err)
			}
			writeFiles(t, root, tc.files)

			res, err := Apply(root, tc.blocks, tc.allowed)
			if err != nil {
				t.Fatalf("Apply error: %v", err)
			}
			if got := indices(res.Applied); !reflect.DeepEqual(got, tc.wantApplied) {
				t.Errorf("applied = %v, want %v", got, tc.wantApplied)
			}
			if len(res.Failed) != len(tc.wantFailed) {
				t.Fatalf("failed = %+v, want %d failures", res.Failed, len(tc.wantFailed))
			}
			for i, w := range tc.wantFailed {
				f := res.Failed[i]
				if f.Block.Index != w.index {
					t.Errorf("failure %d: block index %d, want %d", i, f.Block.Index, w.index)
				}
				if !strings.Contains(f.Reason, w.reason) {
					t.Errorf("failure %d: reason %q does not contain %q", i, f.Reason, w.reason)
				}
				if w.closest == "" && f.Closest != "" {
					t.Errorf("failure %d: closest = %q, want none", i, f.Closest)
				}
				if w.closest != "" && !strings.Contains(f.Closest, w.closest) {
					t.Errorf("failure %d: closest %q does not contain %q", i, f.Closest, w.closest)
				}
				if f.AlreadyPresent != w.alreadyPresent {
					t.Errorf("failure %d: AlreadyPresent = %v, want %v", i, f.AlreadyPresent, w.alreadyPresent)
				}
			}
			if !reflect.DeepEqual(res.Changed, tc.wantChanged) {
				t.Errorf("changed = %v, want %v", res.Changed, tc.wantChanged)
			}
			for name, want := range tc.wantFiles {
				got, ok := readFile(t, root, name)
				if !ok {
					t.Errorf("%s missing", name)
					continue
				}
				if got != want {
					t.Errorf("%s content:\n%q\nwant:\n%q", name, got, want)
				}
			}
			for _, name := range tc.wantMissing {
				if _, ok := readFile(t, root, name); ok {
					t.Errorf("%s exists, want it absent", name)
				}
			}
			// Nothing may be written outside root, and no temp files left.
			entries, err := os.ReadDir(filepath.Dir(root))
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != 1 {
				t.Errorf("files appeared beside the workspace: %v", entries)
			}
			_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
				if err == nil && strings.Contains(d.Name(), ".tmp-") {
					t.Errorf("temporary file left behind: %s", p)
				}
				return nil
			})
			if tc.wantFailed == nil && !res.OK() {
				t.Errorf("OK() = false with no failures")
			}
			if tc.wantFailed != nil && res.OK() {
				t.Errorf("OK() = true with failures")
			}
		})
	}
}

func TestApplySymlinks(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symlinks need privileges on windows")
	}
	base := t.TempDir()
	root := filepath.Join(base, "ws")
	outside := filepath.Join(base, "outside")
	for _, d := range []string{root, outside, filepath.Join(root, "src")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeFiles(t, outside, map[string]string{"secret.txt": "secret\n"})
	writeFiles(t, root, map[string]string{"src/real.py": "a = 1\n"})
	links := map[string]string{
		"leak.txt":  filepath.Join(outside, "secret.txt"),  // file link out
		"outdir":    outside,                               // dir link out
		"dangling":  filepath.Join(outside, "nope.txt"),    // broken link
		"inside.py": filepath.Join(root, "src", "real.py"), // link within root
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}

	blocks := []Block{
		{Path: "leak.txt", Index: 1, Search: "secret\n", Replace: "changed\n"},
		{Path: "outdir/secret.txt", Index: 2, Search: "secret\n", Replace: "changed\n"},
		{Path: "outdir/new.txt", Index: 3, Search: "", Replace: "new\n"},
		{Path: "dangling", Index: 4, Search: "", Replace: "x\n"},
		{Path: "inside.py", Index: 5, Search: "a = 1\n", Replace: "a = 2\n"},
	}
	res, err := Apply(root, blocks, nil)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if got := indices(res.Applied); !reflect.DeepEqual(got, []int{5}) {
		t.Errorf("applied = %v, want [5]", got)
	}
	wantReasons := map[int]string{1: "outside the workspace", 2: "outside the workspace", 3: "outside the workspace", 4: "cannot be resolved"}
	if len(res.Failed) != len(wantReasons) {
		t.Fatalf("failed = %+v", res.Failed)
	}
	for _, f := range res.Failed {
		if !strings.Contains(f.Reason, wantReasons[f.Block.Index]) {
			t.Errorf("block %d reason %q, want it to contain %q", f.Block.Index, f.Reason, wantReasons[f.Block.Index])
		}
	}
	if got, _ := readFile(t, outside, "secret.txt"); got != "secret\n" {
		t.Errorf("outside file modified: %q", got)
	}
	if _, ok := readFile(t, outside, "new.txt"); ok {
		t.Errorf("file created outside the workspace")
	}
	if _, ok := readFile(t, outside, "nope.txt"); ok {
		t.Errorf("dangling link target created outside the workspace")
	}
	// The in-root link is written through, and stays a link.
	if got, _ := readFile(t, root, "src/real.py"); got != "a = 2\n" {
		t.Errorf("link target content %q, want %q", got, "a = 2\n")
	}
	if fi, err := os.Lstat(filepath.Join(root, "inside.py")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("inside.py is no longer a symlink (err %v)", err)
	}
}

func TestApplyPreservesMode(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("unix permissions")
	}
	root := t.TempDir()
	p := filepath.Join(root, "run.sh")
	if err := os.WriteFile(p, []byte("echo a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, 0o751); err != nil {
		t.Fatal(err)
	}
	res, err := Apply(root, []Block{
		{Path: "run.sh", Index: 1, Search: "echo a\n", Replace: "echo b\n"},
		{Path: "new.txt", Index: 2, Search: "", Replace: "n\n"},
	}, nil)
	if err != nil || !res.OK() {
		t.Fatalf("Apply: %v %+v", err, res)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o751 {
		t.Errorf("mode = %v, want 0751", fi.Mode().Perm())
	}
	fi, err = os.Stat(filepath.Join(root, "new.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("new file mode = %v, want 0644", fi.Mode().Perm())
	}
	if got, _ := readFile(t, root, "run.sh"); got != "echo b\n" {
		t.Errorf("content %q", got)
	}
}

func TestApplyBadRoot(t *testing.T) {
	_, err := Apply(filepath.Join(t.TempDir(), "missing"), []Block{{Path: "a.txt", Replace: "x\n"}}, nil)
	if err == nil {
		t.Fatal("expected an error for a missing root")
	}
}

func TestParseThenApply(t *testing.T) {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{"experiment.py": expPy, "notes.txt": "# Notes\n"})
	reply := "Let me lower the learning rate and log it.\n\n" +
		"experiment.py\n" + fence + "python\n" +
		"<<<<<<< SEARCH\n    lr = 0.1\n=======\n    lr = 0.01\n>>>>>>> REPLACE\n" + fence + "\n\n" +
		fence + "python\n" +
		"<<<<<<< SEARCH\nthis line does not exist\n=======\nprint('x')\n>>>>>>> REPLACE\n" + fence + "\n\n" +
		"notes.txt\n" + fence + "text\n" +
		"<<<<<<< SEARCH\n=======\nRun 1: lr=0.01\n>>>>>>> REPLACE\n" + fence + "\n"
	blocks, err := Parse(reply)
	if err != nil {
		t.Fatal(err)
	}
	if len(blocks) != 3 || blocks[1].Path != "experiment.py" {
		t.Fatalf("blocks = %#v", blocks)
	}
	res, err := Apply(root, blocks, []string{"experiment.py", "notes.txt", "plot.py"})
	if err != nil {
		t.Fatal(err)
	}
	if got := indices(res.Applied); !reflect.DeepEqual(got, []int{1, 3}) {
		t.Errorf("applied = %v", got)
	}
	if len(res.Failed) != 1 || res.Failed[0].Block.Index != 2 {
		t.Fatalf("failed = %+v", res.Failed)
	}
	if !reflect.DeepEqual(res.Changed, []string{"experiment.py", "notes.txt"}) {
		t.Errorf("changed = %v", res.Changed)
	}
	if got, _ := readFile(t, root, "notes.txt"); got != "# Notes\nRun 1: lr=0.01\n" {
		t.Errorf("notes.txt = %q", got)
	}
	if got, _ := readFile(t, root, "experiment.py"); !strings.Contains(got, "    lr = 0.01\n") {
		t.Errorf("experiment.py not edited: %q", got)
	}
	if res.OK() {
		t.Error("OK() = true with a failure")
	}
	fb := res.Feedback()
	for _, want := range []string{"Block 2 (experiment.py) failed", "blocks 1 and 3) were applied successfully"} {
		if !strings.Contains(fb, want) {
			t.Errorf("feedback lacks %q:\n%s", want, fb)
		}
	}
}

func TestFeedback(t *testing.T) {
	b1 := Block{Path: "experiment.py", Index: 1, Search: "lr = 0.1\n", Replace: "lr = 0.01\n"}
	b2 := Block{Path: "plot.py", Index: 2, Search: "plt.show()\n", Replace: "plt.savefig('a.png')\n"}
	b3 := Block{Path: "notes.txt", Index: 3, Search: "x\n", Replace: "y\n"}
	b4 := Block{Path: "latex/template.tex", Index: 4, Search: "a\n", Replace: "b\n"}

	tests := []struct {
		name    string
		res     Result
		want    []string
		notWant []string
	}{
		{
			name: "nothing failed",
			res:  Result{Applied: []Block{b1}},
		},
		{
			name: "one failure with closest lines and already present",
			res: Result{
				Applied: []Block{b1, b3, b4},
				Failed: []Failure{{Block: b2, Reason: "the SEARCH section of block 2 does not match any lines in plot.py",
					Closest: "plt.show(block=False)\n", AlreadyPresent: true}},
			},
			want: []string{
				"1 of your 4 SEARCH/REPLACE blocks could not be applied.",
				"Block 2 (plot.py) failed",
				"does not match any lines in plot.py",
				"Did you mean to match some of these actual lines from plot.py?\n\n```\nplt.show(block=False)\n```\n",
				"REPLACE lines of block 2 are already present in plot.py",
				"The other blocks (blocks 1, 3 and 4) were applied successfully; do not send them again.",
			},
		},
		{
			name: "two failures, none applied, no closest",
			res: Result{
				Failed: []Failure{
					{Block: b1, Reason: "reason one"},
					{Block: b2, Reason: "reason two"},
				},
			},
			want: []string{
				"2 of your 2 SEARCH/REPLACE blocks could not be applied.",
				"Block 1 (experiment.py) failed\nreason one\n",
				"Block 2 (plot.py) failed\nreason two\n",
				"None of the blocks were applied.",
				"only the failed blocks",
			},
			notWant: []string{"Did you mean", "already present", "applied successfully"},
		},
		{
			name: "one applied block",
			res: Result{
				Applied: []Block{b3},
				Failed:  []Failure{{Block: b1, Reason: "r"}},
			},
			want: []string{"The other block (block 3) was applied successfully; do not send it again."},
		},
		{
			name: "closest lines containing a fence get a longer fence",
			res: Result{
				Failed: []Failure{{Block: b3, Reason: "r", Closest: "```python\nx = 1\n```\n"}},
			},
			want: []string{"````\n```python\nx = 1\n```\n````\n"},
		},
	}
	const reminder = "Remember: the SEARCH section must exactly match existing lines in the file, character for character, including all whitespace, indentation, comments and docstrings.\n"
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fb := tc.res.Feedback()
			if len(tc.res.Failed) == 0 {
				if fb != "" {
					t.Fatalf("Feedback() = %q, want empty", fb)
				}
				return
			}
			for _, w := range tc.want {
				if !strings.Contains(fb, w) {
					t.Errorf("feedback lacks %q:\n%s", w, fb)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(fb, w) {
					t.Errorf("feedback unexpectedly contains %q:\n%s", w, fb)
				}
			}
			if !strings.HasSuffix(fb, reminder) {
				t.Errorf("feedback does not end with the reminder:\n%s", fb)
			}
		})
	}
}

func TestOK(t *testing.T) {
	b := Block{Path: "a.py", Index: 1}
	tests := []struct {
		name string
		res  Result
		want bool
	}{
		{"empty", Result{}, false},
		{"all applied", Result{Applied: []Block{b}}, true},
		{"one failed", Result{Applied: []Block{b}, Failed: []Failure{{Block: b}}}, false},
		{"only failed", Result{Failed: []Failure{{Block: b}}}, false},
	}
	for _, tc := range tests {
		if got := tc.res.OK(); got != tc.want {
			t.Errorf("%s: OK() = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestClosestPicksMostSimilarWindow(t *testing.T) {
	lines := toLines(expPy)
	search := []string{"def evaluate(model, dataset):", "    return model.score(dataset)"}
	got := closestLines(lines, search)
	want := "def evaluate(model, data):\n    return model.score(data)\n"
	if got != want {
		t.Errorf("closest = %q, want %q", got, want)
	}
	// A search longer than the file yields the whole file.
	if got := closestLines([]string{"a = 1"}, []string{"a = 1", "b = 2"}); got != "a = 1\n" {
		t.Errorf("closest for short file = %q", got)
	}
}
