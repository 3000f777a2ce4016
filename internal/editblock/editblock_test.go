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

// bt turns ´ into a backtick, so that replies with fences can be written as
// raw strings.
func bt(s string) string { return strings.ReplaceAll(s, "´", "`") }

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
			// Found by FuzzParse: line endings converted twice.
			name:  "CR CR LF reply",
			reply: "experiment.py\r\r\n<<<<<<< SEARCH\r\r\nold\r\r\n=======\r\r\n\r\r\n>>>>>>> REPLACE\r\r\n",
			want:  []Block{{Path: "experiment.py", Search: "old\n", Replace: "\n", Index: 1}},
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
		// Replies as models write them. bt turns ´ into a backtick.
		{
			name: "realistic reply: prose before, between and after, several files",
			reply: bt(`I'll make three changes: lower the learning rate, save the plot, and
record the run in the notes.

1. In experiment.py, lower the learning rate:

experiment.py
´´´python
<<<<<<< SEARCH
    lr = 0.1
=======
    lr = 0.01
>>>>>>> REPLACE
´´´

2. Save the figure instead of showing it:

plot.py
´´´python
<<<<<<< SEARCH
plt.show()
=======
plt.savefig("loss.png")
>>>>>>> REPLACE
´´´

3. And the notes:

notes.txt
´´´
<<<<<<< SEARCH
=======
Run 1: lr=0.01
>>>>>>> REPLACE
´´´

After these changes, run ´python experiment.py --out_dir=run_1´.
`),
			want: []Block{
				{Path: "experiment.py", Search: "    lr = 0.1\n", Replace: "    lr = 0.01\n", Index: 1},
				{Path: "plot.py", Search: "plt.show()\n", Replace: "plt.savefig(\"loss.png\")\n", Index: 2},
				{Path: "notes.txt", Search: "", Replace: "Run 1: lr=0.01\n", Index: 3},
			},
		},
		{
			name: "four-backtick fence around content with a fenced code sample",
			reply: bt(`Update the usage section:

README.md
´´´´markdown
<<<<<<< SEARCH
## Usage
´´´bash
python experiment.py
´´´
=======
## Usage
´´´bash
python experiment.py --out_dir run_1
´´´
>>>>>>> REPLACE
´´´´

Then edit the plot:

plot.py
´´´´python
<<<<<<< SEARCH
a
=======
b
>>>>>>> REPLACE
´´´´
`),
			want: []Block{
				{Path: "README.md", Index: 1,
					Search:  bt("## Usage\n´´´bash\npython experiment.py\n´´´\n"),
					Replace: bt("## Usage\n´´´bash\npython experiment.py --out_dir run_1\n´´´\n")},
				{Path: "plot.py", Search: "a\n", Replace: "b\n", Index: 2},
			},
		},
		{
			// The outer fence "closes" early in Markdown terms, but blocks are
			// delimited by their markers, so the inner ``` lines are content
			// (as in aider), and the next block still finds its file name.
			name: "three-backtick fence around content with ``` lines",
			reply: bt(`notes.txt
´´´
<<<<<<< SEARCH
Example:
´´´python
print("a")
´´´
=======
Example:
´´´python
print("b")
´´´
>>>>>>> REPLACE
´´´

experiment.py
´´´python
<<<<<<< SEARCH
x = 1
=======
x = 2
>>>>>>> REPLACE
´´´
`),
			want: []Block{
				{Path: "notes.txt", Index: 1,
					Search:  bt("Example:\n´´´python\nprint(\"a\")\n´´´\n"),
					Replace: bt("Example:\n´´´python\nprint(\"b\")\n´´´\n")},
				{Path: "experiment.py", Search: "x = 1\n", Replace: "x = 2\n", Index: 2},
			},
		},
		{
			name: "python docstring containing triple backticks",
			reply: bt(`experiment.py
´´´python
<<<<<<< SEARCH
def train():
    """Train.

    ´´´
    train()
    ´´´
    """
=======
def train(seed=0):
    """Train with a seed.

    ´´´
    train(seed=1)
    ´´´
    """
>>>>>>> REPLACE
´´´
`),
			want: []Block{{Path: "experiment.py", Index: 1,
				Search:  bt("def train():\n    \"\"\"Train.\n\n    ´´´\n    train()\n    ´´´\n    \"\"\"\n"),
				Replace: bt("def train(seed=0):\n    \"\"\"Train with a seed.\n\n    ´´´\n    train(seed=1)\n    ´´´\n    \"\"\"\n")}},
		},
		{
			name: "decorated file names",
			reply: bt(`# experiment.py
´´´python
<<<<<<< SEARCH
a
=======
b
>>>>>>> REPLACE
´´´
**plot.py**
´´´python
<<<<<<< SEARCH
c
=======
d
>>>>>>> REPLACE
´´´
´notes.txt´:
´´´text
<<<<<<< SEARCH
e
=======
f
>>>>>>> REPLACE
´´´
**´latex/template.tex´**:
´´´latex
<<<<<<< SEARCH
g
=======
h
>>>>>>> REPLACE
´´´
#run.sh
´´´bash
<<<<<<< SEARCH
i
=======
j
>>>>>>> REPLACE
´´´
File: src/model.py
´´´python
<<<<<<< SEARCH
k
=======
l
>>>>>>> REPLACE
´´´
`),
			want: []Block{
				{Path: "experiment.py", Search: "a\n", Replace: "b\n", Index: 1},
				{Path: "plot.py", Search: "c\n", Replace: "d\n", Index: 2},
				{Path: "notes.txt", Search: "e\n", Replace: "f\n", Index: 3},
				{Path: "latex/template.tex", Search: "g\n", Replace: "h\n", Index: 4},
				{Path: "run.sh", Search: "i\n", Replace: "j\n", Index: 5},
				{Path: "src/model.py", Search: "k\n", Replace: "l\n", Index: 6},
			},
		},
		{
			name: "language tags on three- and four-backtick fences, and tildes",
			reply: bt(`a.py
´´´python
<<<<<<< SEARCH
1
=======
2
>>>>>>> REPLACE
´´´
b.diff
´´´´diff
<<<<<<< SEARCH
3
=======
4
>>>>>>> REPLACE
´´´´
c.tex
~~~latex
<<<<<<< SEARCH
5
=======
6
>>>>>>> REPLACE
~~~
´´´´python
d.py
<<<<<<< SEARCH
7
=======
8
>>>>>>> REPLACE
´´´´
`),
			want: []Block{
				{Path: "a.py", Search: "1\n", Replace: "2\n", Index: 1},
				{Path: "b.diff", Search: "3\n", Replace: "4\n", Index: 2},
				{Path: "c.tex", Search: "5\n", Replace: "6\n", Index: 3},
				{Path: "d.py", Search: "7\n", Replace: "8\n", Index: 4},
			},
		},
		{
			// aider's test_deepseek_coder_v2_filename_mangling.
			name: "file name in its own fence before the block's fence",
			reply: bt(`Here's the change:

 ´´´python
foo.txt
´´´
´´´python
<<<<<<< SEARCH
one
=======
two
>>>>>>> REPLACE
´´´

Hope you like it!
`),
			want: []Block{{Path: "foo.txt", Search: "one\n", Replace: "two\n", Index: 1}},
		},
		{
			// aider's test_find_original_update_blocks_mupltiple_same_file.
			name: "second block in the same fence after a ... line",
			reply: bt(`´´´text
foo.txt
<<<<<<< SEARCH
one
=======
two
>>>>>>> REPLACE

...

<<<<<<< SEARCH
three
=======
four
>>>>>>> REPLACE
´´´
`),
			want: []Block{
				{Path: "foo.txt", Search: "one\n", Replace: "two\n", Index: 1},
				{Path: "foo.txt", Search: "three\n", Replace: "four\n", Index: 2},
			},
		},
		{
			// aider's test_find_original_update_blocks_no_final_newline.
			name: "no fences, blank-line separated, no final newline",
			reply: "aider/coder.py\n<<<<<<< SEARCH\n    a()\n=======\n    b()\n>>>>>>> REPLACE\n\n" +
				"aider/coder.py\n<<<<<<< SEARCH\n    c()\n=======\n    d()\n>>>>>>> REPLACE",
			want: []Block{
				{Path: "aider/coder.py", Search: "    a()\n", Replace: "    b()\n", Index: 1},
				{Path: "aider/coder.py", Search: "    c()\n", Replace: "    d()\n", Index: 2},
			},
		},
		{
			name: "markers indented, as inside a list item",
			reply: "1. Change it:\n\n   experiment.py\n   " + fence + "python\n" +
				"   <<<<<<< SEARCH\n   lr = 0.1\n   =======\n   lr = 0.01\n   >>>>>>> REPLACE\n   " + fence + "\n",
			want: []Block{{Path: "experiment.py", Search: "   lr = 0.1\n", Replace: "   lr = 0.01\n", Index: 1}},
		},
		{
			// aider accepts ======= as the closing line of a block.
			name: "divider used as the closing line",
			reply: "experiment.py\n" + fence + "python\n<<<<<<< SEARCH\na\n=======\nb\n=======\n" + fence + "\n" +
				"plot.py\n" + fence + "python\n<<<<<<< SEARCH\nc\n=======\nd\n>>>>>>> REPLACE\n" + fence + "\n",
			want: []Block{
				{Path: "experiment.py", Search: "a\n", Replace: "b\n", Index: 1},
				{Path: "plot.py", Search: "c\n", Replace: "d\n", Index: 2},
			},
		},
		{
			name: "CRLF reply with several files and an inner fence",
			reply: strings.ReplaceAll(bt(`Changes:

notes.txt
´´´´
<<<<<<< SEARCH
´´´
old
´´´
=======
´´´
new
´´´
>>>>>>> REPLACE
´´´´

experiment.py
´´´python
<<<<<<< SEARCH
a
=======
b
>>>>>>> REPLACE
´´´
`), "\n", "\r\n"),
			want: []Block{
				{Path: "notes.txt", Search: bt("´´´\nold\n´´´\n"), Replace: bt("´´´\nnew\n´´´\n"), Index: 1},
				{Path: "experiment.py", Search: "a\n", Replace: "b\n", Index: 2},
			},
		},
		{
			name:  "elision lines are kept for Apply",
			reply: "experiment.py\n" + fence + "python\n<<<<<<< SEARCH\n...\n    lr = 0.1\n...\n=======\n...\n    lr = 0.01\n...\n>>>>>>> REPLACE\n" + fence + "\n",
			want:  []Block{{Path: "experiment.py", Search: "...\n    lr = 0.1\n...\n", Replace: "...\n    lr = 0.01\n...\n", Index: 1}},
		},
		{
			name:  "file name after a colon in the fence info string",
			reply: fence + "python:src/model.py\n<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE\n" + fence + "\n",
			want:  []Block{{Path: "src/model.py", Search: "a\n", Replace: "b\n", Index: 1}},
		},
		{
			name:  "blank line between file name and fence",
			reply: "experiment.py\n\n" + fence + "python\n<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE\n" + fence + "\n",
			want:  []Block{{Path: "experiment.py", Search: "a\n", Replace: "b\n", Index: 1}},
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
		{
			name: "missing divider in a block whose content has fences",
			reply: bt("notes.md\n´´´´markdown\n<<<<<<< SEARCH\n´´´\nx\n´´´\n" +
				"<<<<<<< SEARCH\ny\n=======\nz\n>>>>>>> REPLACE\n´´´´\n"),
			wantBlock: 1, wantLine: 7,
			wantMsg: []string{"not followed by a ======= divider"},
		},
		{
			name:      "second divider followed by a replace marker later",
			reply:     "plot.py\n" + fence + "\n<<<<<<< SEARCH\na\n=======\nb\n=======\n" + fence + "\nprose\n>>>>>>> REPLACE\n",
			wantBlock: 1, wantLine: 7,
			wantMsg: []string{"more than one ======="},
		},
		{
			name:      "prose line is not a file name for the first block",
			reply:     "Here is the updated experiment:\n" + fence + "python\n<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE\n" + fence + "\n",
			wantBlock: 1, wantLine: 3,
			wantMsg: []string{"no file name"},
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
			name:  "empty search and blank replace leave a file alone",
			files: map[string]string{"notes.txt": "Run 1: ok"},
			blocks: []Block{{Path: "notes.txt", Index: 1,
				Search: "", Replace: "\n"}},
			wantFiles:   map[string]string{"notes.txt": "Run 1: ok"},
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
		// Line endings and final newlines.
		{
			name:  "CRLF file: deletion keeps CRLF",
			files: map[string]string{"notes.txt": "a\r\nb\r\nc\r\n"},
			blocks: []Block{{Path: "notes.txt", Index: 1,
				Search: "b\r\n", Replace: ""}},
			wantFiles:   map[string]string{"notes.txt": "a\r\nc\r\n"},
			wantApplied: []int{1},
			wantChanged: []string{"notes.txt"},
		},
		{
			name:  "CRLF file without final newline, last line edited",
			files: map[string]string{"notes.txt": "a\r\nb"},
			blocks: []Block{{Path: "notes.txt", Index: 1,
				Search: "b\n", Replace: "b\nc\n"}},
			wantFiles:   map[string]string{"notes.txt": "a\r\nb\r\nc"},
			wantApplied: []int{1},
			wantChanged: []string{"notes.txt"},
		},
		{
			name:  "CRLF file: empty search appends with CRLF",
			files: map[string]string{"notes.txt": "Run 1: ok\r\n"},
			blocks: []Block{{Path: "notes.txt", Index: 1,
				Search: "", Replace: "Run 2: ok\nRun 3: ok\n"}},
			wantFiles:   map[string]string{"notes.txt": "Run 1: ok\r\nRun 2: ok\r\nRun 3: ok\r\n"},
			wantApplied: []int{1},
			wantChanged: []string{"notes.txt"},
		},
		{
			name:  "mixed line endings: untouched lines keep theirs, new lines get the dominant one",
			files: map[string]string{"notes.txt": "a\nb\r\nc\nd\n"},
			blocks: []Block{{Path: "notes.txt", Index: 1,
				Search: "c\n", Replace: "C\nC2\n"}},
			wantFiles:   map[string]string{"notes.txt": "a\nb\r\nC\nC2\nd\n"},
			wantApplied: []int{1},
			wantChanged: []string{"notes.txt"},
		},
		{
			name:  "LF file edited with a CRLF block stays LF",
			files: map[string]string{"notes.txt": "a\nb\n"},
			blocks: []Block{{Path: "notes.txt", Index: 1,
				Search: "a\r\n", Replace: "x\r\ny\r\n"}},
			wantFiles:   map[string]string{"notes.txt": "x\ny\nb\n"},
			wantApplied: []int{1},
			wantChanged: []string{"notes.txt"},
		},
		{
			name:  "file without final newline: middle edit keeps it without",
			files: map[string]string{"notes.txt": "a\nb\nc"},
			blocks: []Block{{Path: "notes.txt", Index: 1,
				Search: "a\n", Replace: "A\n"}},
			wantFiles:   map[string]string{"notes.txt": "A\nb\nc"},
			wantApplied: []int{1},
			wantChanged: []string{"notes.txt"},
		},
		{
			name:  "file without final newline: last line becomes several",
			files: map[string]string{"notes.txt": "a\nb"},
			blocks: []Block{{Path: "notes.txt", Index: 1,
				Search: "b\n", Replace: "b\nc\nd\n"}},
			wantFiles:   map[string]string{"notes.txt": "a\nb\nc\nd"},
			wantApplied: []int{1},
			wantChanged: []string{"notes.txt"},
		},
		{
			name:  "file without final newline: last line deleted",
			files: map[string]string{"notes.txt": "a\nb"},
			blocks: []Block{{Path: "notes.txt", Index: 1,
				Search: "b\n", Replace: ""}},
			wantFiles:   map[string]string{"notes.txt": "a"},
			wantApplied: []int{1},
			wantChanged: []string{"notes.txt"},
		},
		{
			name:  "file without final newline: empty search appends after a newline",
			files: map[string]string{"notes.txt": "a\r\nb"},
			blocks: []Block{{Path: "notes.txt", Index: 1,
				Search: "", Replace: "c\n"}},
			wantFiles:   map[string]string{"notes.txt": "a\r\nb\r\nc\r\n"},
			wantApplied: []int{1},
			wantChanged: []string{"notes.txt"},
		},
		// Elision.
		{
			name:  "elision with ... on both sides",
			files: map[string]string{"experiment.py": expPy},
			blocks: []Block{{Path: "experiment.py", Index: 1,
				Search:  "...\n    lr = 0.1\n...\n",
				Replace: "...\n    lr = 0.01\n...\n"}},
			wantFiles:   map[string]string{"experiment.py": strings.Replace(expPy, "lr = 0.1\n", "lr = 0.01\n", 1)},
			wantApplied: []int{1},
			wantChanged: []string{"experiment.py"},
		},
		{
			name:  "elision with indented ... lines and three pieces",
			files: map[string]string{"experiment.py": expPy},
			blocks: []Block{{Path: "experiment.py", Index: 1,
				Search:  "def train(model, data):\n    ...\n        print(f\"epoch {epoch} loss {loss}\")\n    ...\n    return model.score(data)\n",
				Replace: "def train(model, data, log=True):\n    ...\n        if log:\n            print(f\"epoch {epoch} loss {loss}\")\n    ...\n    return float(model.score(data))\n"}},
			wantFiles: map[string]string{"experiment.py": strings.NewReplacer(
				"def train(model, data):\n", "def train(model, data, log=True):\n",
				"        print(f\"epoch {epoch} loss {loss}\")\n", "        if log:\n            print(f\"epoch {epoch} loss {loss}\")\n",
				"    return model.score(data)\n", "    return float(model.score(data))\n").Replace(expPy)},
			wantApplied: []int{1},
			wantChanged: []string{"experiment.py"},
		},
		{
			name:  "elision: lines added next to an empty search piece are refused",
			files: map[string]string{"experiment.py": expPy},
			blocks: []Block{{Path: "experiment.py", Index: 1,
				Search:  "...\n    lr = 0.1\n",
				Replace: "import os\n...\n    lr = 0.1\n"}},
			wantFiles:  map[string]string{"experiment.py": expPy},
			wantFailed: []failWant{{index: 1, reason: "piece 1 of the SEARCH section", closest: "def train"}},
		},
		{
			name:  "elision: a piece that does not match exactly",
			files: map[string]string{"experiment.py": expPy},
			blocks: []Block{{Path: "experiment.py", Index: 1,
				Search:  "def train(model, data):\n...\n    return modell\n",
				Replace: "def train(model, data):\n...\n    return model, 1\n"}},
			wantFiles:  map[string]string{"experiment.py": expPy},
			wantFailed: []failWant{{index: 1, reason: "piece 2 of the SEARCH section", closest: "    return model\n"}},
		},
		{
			name:  "a ... that is real code matches literally",
			files: map[string]string{"experiment.py": "def f():\n    ...\n"},
			blocks: []Block{{Path: "experiment.py", Index: 1,
				Search: "def f():\n    ...\n", Replace: "def f():\n    return 1\n"}},
			wantFiles:   map[string]string{"experiment.py": "def f():\n    return 1\n"},
			wantApplied: []int{1},
			wantChanged: []string{"experiment.py"},
		},
		// Fenced content and fences models wrap around sections.
		{
			name:  "markdown content with fences is edited verbatim",
			files: map[string]string{"notes.md": bt("# Notes\n´´´bash\npython run.py\n´´´\nend\n")},
			blocks: []Block{{Path: "notes.md", Index: 1,
				Search:  bt("´´´bash\npython run.py\n´´´\n"),
				Replace: bt("´´´bash\npython run.py --seed 0\n´´´\n")}},
			wantFiles:   map[string]string{"notes.md": bt("# Notes\n´´´bash\npython run.py --seed 0\n´´´\nend\n")},
			wantApplied: []int{1},
			wantChanged: []string{"notes.md"},
		},
		{
			name:  "a fenced REPLACE is inserted with its fences",
			files: map[string]string{"notes.md": "# Notes\nTODO\n"},
			blocks: []Block{{Path: "notes.md", Index: 1,
				Search: "TODO\n", Replace: bt("´´´python\nprint(1)\n´´´\n")}},
			wantFiles:   map[string]string{"notes.md": bt("# Notes\n´´´python\nprint(1)\n´´´\n")},
			wantApplied: []int{1},
			wantChanged: []string{"notes.md"},
		},
		{
			name:  "fence wrapped around both sections is removed when the verbatim lines do not match",
			files: map[string]string{"experiment.py": expPy},
			blocks: []Block{{Path: "experiment.py", Index: 1,
				Search:  bt("´´´python\n    lr = 0.1\n´´´\n"),
				Replace: bt("´´´python\n    lr = 0.01\n´´´\n")}},
			wantFiles:   map[string]string{"experiment.py": strings.Replace(expPy, "lr = 0.1\n", "lr = 0.01\n", 1)},
			wantApplied: []int{1},
			wantChanged: []string{"experiment.py"},
		},
		{
			name:  "file name line and fence inside the sections are removed",
			files: map[string]string{"latex/template.tex": "\\title{A}\n\\author{B}\n"},
			blocks: []Block{{Path: "latex/template.tex", Index: 1,
				Search:  bt("template.tex\n´´´latex\n\\title{A}\n´´´\n"),
				Replace: bt("template.tex\n´´´latex\n\\title{C}\n´´´\n")}},
			wantFiles:   map[string]string{"latex/template.tex": "\\title{C}\n\\author{B}\n"},
			wantApplied: []int{1},
			wantChanged: []string{"latex/template.tex"},
		},
		// aider's whitespace cases.
		{
			name:  "aider: varied leading whitespace",
			files: map[string]string{"a.py": "\n    line1\n    line2\n        line3\n    line4\n"},
			blocks: []Block{{Path: "a.py", Index: 1,
				Search: "line2\n    line3\n", Replace: "new_line2\n    new_line3\n"}},
			wantFiles:   map[string]string{"a.py": "\n    line1\n    new_line2\n        new_line3\n    line4\n"},
			wantApplied: []int{1},
			wantChanged: []string{"a.py"},
		},
		{
			name:  "aider: just some leading whitespace missing",
			files: map[string]string{"a.py": "    line1\n    line2\n    line3\n"},
			blocks: []Block{{Path: "a.py", Index: 1,
				Search: " line1\n line2\n", Replace: " new_line1\n     new_line2\n"}},
			wantFiles:   map[string]string{"a.py": "    new_line1\n        new_line2\n    line3\n"},
			wantApplied: []int{1},
			wantChanged: []string{"a.py"},
		},
		{
			name:  "aider: missing leading whitespace and a leading blank line",
			files: map[string]string{"a.py": "    line1\n    line2\n    line3\n"},
			blocks: []Block{{Path: "a.py", Index: 1,
				Search: "\n  line1\n  line2\n", Replace: "  new_line1\n  new_line2\n"}},
			wantFiles:   map[string]string{"a.py": "    new_line1\n    new_line2\n    line3\n"},
			wantApplied: []int{1},
			wantChanged: []string{"a.py"},
		},
		{
			name:  "aider: first occurrence with missing whitespace",
			files: map[string]string{"a.py": "    line1\n    line2\n    line1\n    line3\n"},
			blocks: []Block{{Path: "a.py", Index: 1,
				Search: "line1\n", Replace: "new_line\n"}},
			wantFiles:   map[string]string{"a.py": "    new_line\n    line2\n    line1\n    line3\n"},
			wantApplied: []int{1},
			wantChanged: []string{"a.py"},
		},
		// Safety.
		{
			name:  "control characters in a path",
			files: map[string]string{"notes.txt": "a\n"},
			blocks: []Block{{Path: "notes\x00.txt", Index: 1, Search: "", Replace: "x\n"},
				{Path: "no\ntes.txt", Index: 2, Search: "", Replace: "x\n"}},
			wantFiles:  map[string]string{"notes.txt": "a\n"},
			wantFailed: []failWant{{index: 1, reason: "control characters"}, {index: 2, reason: "control characters"}},
		},
		{
			name:  "absolute path to an allowed name",
			files: map[string]string{"notes.txt": "a\n"},
			blocks: []Block{{Path: "/notes.txt", Index: 1,
				Search: "a\n", Replace: "b\n"}},
			allowed:    []string{"notes.txt"},
			wantFiles:  map[string]string{"notes.txt": "a\n"},
			wantFailed: []failWant{{index: 1, reason: "absolute path"}},
		},
		{
			name:  "path climbing out and back in is cleaned",
			files: map[string]string{"notes.txt": "a\n"},
			blocks: []Block{{Path: "latex/../notes.txt", Index: 1,
				Search: "a\n", Replace: "b\n"}},
			allowed:     []string{"notes.txt"},
			wantFiles:   map[string]string{"notes.txt": "b\n"},
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

func TestApplySymlinkToDisallowedFile(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symlinks need privileges on windows")
	}
	root := t.TempDir()
	writeFiles(t, root, map[string]string{"secret.txt": "secret\n", "experiment.py": "a = 1\n"})
	if err := os.Symlink("secret.txt", filepath.Join(root, "notes.txt")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("experiment.py", filepath.Join(root, "plot.py")); err != nil {
		t.Fatal(err)
	}
	res, err := Apply(root, []Block{
		{Path: "notes.txt", Index: 1, Search: "secret\n", Replace: "leaked\n"},
		{Path: "plot.py", Index: 2, Search: "a = 1\n", Replace: "a = 2\n"},
	}, []string{"notes.txt", "plot.py", "experiment.py"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Failed) != 1 || res.Failed[0].Block.Index != 1 ||
		!strings.Contains(res.Failed[0].Reason, "symbolic link to secret.txt, which is not one of the files you may edit") {
		t.Fatalf("failed = %+v", res.Failed)
	}
	if got, _ := readFile(t, root, "secret.txt"); got != "secret\n" {
		t.Errorf("secret.txt = %q", got)
	}
	if got, _ := readFile(t, root, "experiment.py"); got != "a = 2\n" {
		t.Errorf("experiment.py = %q (link to an allowed file must be written through)", got)
	}
}

// TestParseThenApplyRealReplies runs whole replies, as models write them,
// through Parse and Apply.
func TestParseThenApplyRealReplies(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		reply string
		want  map[string]string
	}{
		{
			name:  "CRLF reply on CRLF and LF files",
			files: map[string]string{"experiment.py": strings.ReplaceAll(expPy, "\n", "\r\n"), "notes.txt": "# Notes\n"},
			reply: strings.ReplaceAll(bt(`Sure.

experiment.py
´´´python
<<<<<<< SEARCH
    lr = 0.1
    for epoch in range(10):
=======
    lr = 0.01
    for epoch in range(20):
>>>>>>> REPLACE
´´´

notes.txt
´´´
<<<<<<< SEARCH
=======
Run 1: lr=0.01
>>>>>>> REPLACE
´´´
`), "\n", "\r\n"),
			want: map[string]string{
				"experiment.py": strings.ReplaceAll(strings.Replace(expPy,
					"    lr = 0.1\n    for epoch in range(10):\n", "    lr = 0.01\n    for epoch in range(20):\n", 1), "\n", "\r\n"),
				"notes.txt": "# Notes\nRun 1: lr=0.01\n",
			},
		},
		{
			name:  "notes with a fenced sample, three-backtick outer fence",
			files: map[string]string{"notes.txt": bt("# Runs\nCommand:\n´´´\npython experiment.py\n´´´\n")},
			reply: bt(`notes.txt
´´´
<<<<<<< SEARCH
Command:
´´´
python experiment.py
´´´
=======
Command:
´´´
python experiment.py --out_dir=run_1
´´´
Run 1: done.
>>>>>>> REPLACE
´´´
`),
			want: map[string]string{"notes.txt": bt("# Runs\nCommand:\n´´´\npython experiment.py --out_dir=run_1\n´´´\nRun 1: done.\n")},
		},
		{
			name:  "notes with a fenced sample, four-backtick outer fence",
			files: map[string]string{"notes.txt": bt("# Runs\n´´´\nrun 0\n´´´\n")},
			reply: bt(`notes.txt
´´´´text
<<<<<<< SEARCH
´´´
run 0
´´´
=======
´´´
run 0
run 1
´´´
>>>>>>> REPLACE
´´´´
`),
			want: map[string]string{"notes.txt": bt("# Runs\n´´´\nrun 0\nrun 1\n´´´\n")},
		},
		{
			name:  "file without final newline, elision on both sides",
			files: map[string]string{"plot.py": "import matplotlib\nplt.plot(x)\nplt.show()"},
			reply: "plot.py\n" + fence + "python\n<<<<<<< SEARCH\n...\nplt.show()\n=======\n...\nplt.savefig('a.png')\n>>>>>>> REPLACE\n" + fence + "\n",
			want:  map[string]string{"plot.py": "import matplotlib\nplt.plot(x)\nplt.savefig('a.png')"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			writeFiles(t, root, tc.files)
			blocks, err := Parse(tc.reply)
			if err != nil {
				t.Fatal(err)
			}
			res, err := Apply(root, blocks, []string{"experiment.py", "plot.py", "notes.txt"})
			if err != nil {
				t.Fatal(err)
			}
			if !res.OK() {
				t.Fatalf("not OK:\n%s", res.Feedback())
			}
			for name, want := range tc.want {
				if got, _ := readFile(t, root, name); got != want {
					t.Errorf("%s = %q\nwant %q", name, got, want)
				}
			}
		})
	}
}
