package editblock

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// Fuzz targets. Without -fuzz they run over the seeds below (and any files
// in testdata/fuzz/<Target>) as ordinary, fast unit tests:
//
//	go test -run='^$' -fuzz=FuzzParse -fuzztime=60s ./internal/editblock
//	go test -run='^$' -fuzz=FuzzApplyRoundTrip -fuzztime=60s ./internal/editblock
//	go test -run='^$' -fuzz=FuzzReplyApply -fuzztime=60s ./internal/editblock

// parseSeeds are realistic and malformed replies.
var parseSeeds = []string{
	"",
	"\n",
	"No changes are needed.",
	"experiment.py\n```python\n<<<<<<< SEARCH\nlr = 0.1\n=======\nlr = 0.01\n>>>>>>> REPLACE\n```\n",
	"I'll fix it.\n\n```python\nplot.py\n<<<<<<< SEARCH\nplt.show()\n=======\nplt.savefig('a.png')\n>>>>>>> REPLACE\n```\nDone.",
	"**experiment.py**\n```python\n<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE\n<<<<<<< SEARCH\nc\n=======\nd\n>>>>>>> REPLACE\n```\n",
	"`notes.txt`:\n```\n<<<<<<< SEARCH\n=======\nRun 1\n>>>>>>> REPLACE\n```\n",
	"# latex/template.tex\n````latex\n<<<<<<< SEARCH\n\\title{A}\n=======\n\\title{B}\n>>>>>>> REPLACE\n````\n",
	"notes.md\n````markdown\n<<<<<<< SEARCH\n```bash\nrun\n```\n=======\n```bash\nrun --x\n```\n>>>>>>> REPLACE\n````\n",
	"notes.md\n```\n<<<<<<< SEARCH\n```\nold\n```\n=======\n```\nnew\n```\n>>>>>>> REPLACE\n```\n",
	" ```python\nfoo.txt\n```\n```python\n<<<<<<< SEARCH\none\n=======\ntwo\n>>>>>>> REPLACE\n```\n",
	"experiment.py\r\n```python\r\n<<<<<<< SEARCH\r\nold\r\n=======\r\nnew\r\n>>>>>>> REPLACE\r\n```\r\n",
	"experiment.py\n```python\n<<<<<<< SEARCH\n...\n    lr = 0.1\n...\n=======\n...\n    lr = 0.01\n...\n>>>>>>> REPLACE\n```\n",
	"a.py\n<<<<<<< SEARCH\nx\n=======\ny\n>>>>>>> REPLACE",
	"a.py\n```\n<<<<<<< SEARCH\nx\n=======\ny\n=======\n```\n",
	// Malformed.
	"<<<<<<< SEARCH\nx\n=======\ny\n>>>>>>> REPLACE\n",
	"a.py\n<<<<<<< SEARCH\nx\n",
	"a.py\n<<<<<<< SEARCH\nx\n=======\ny\n",
	"a.py\n<<<<<<< SEARCH\nx\n>>>>>>> REPLACE\n",
	">>>>>>> REPLACE\n",
	"a.py\n<<<<<<< SEARCH\nx\n=======\ny\n=======\nz\n>>>>>>> REPLACE\n",
	"a.py\n<<<<<<< SEARCH\n<<<<<<< SEARCH\n=======\n>>>>>>> REPLACE\n",
	"```\n```\n```\n```\n<<<<<<< SEARCH\n=======\n>>>>>>> REPLACE\n",
	"...\n```...\n<<<<<<< SEARCH\n=======\n>>>>>>> REPLACE\n",
	"./\n<<<<<<< SEARCH\n=======\n>>>>>>> REPLACE\n",
	"**`a.py`**:\n```\x00\n<<<<<<< SEARCH\n\xff\n=======\n\r\n>>>>>>> REPLACE",
	"```python a.py\n<<<<< SEARCH\n=====\n>>>>>>>>> REPLACE\n```",
}

func FuzzParse(f *testing.F) {
	for _, s := range parseSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, reply string) {
		blocks, err := Parse(reply)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error is %T, want *ParseError", err)
			}
			if pe.Block != len(blocks)+1 {
				t.Errorf("ParseError.Block = %d after %d good blocks", pe.Block, len(blocks))
			}
			if n := strings.Count(reply, "\n") + 1; pe.Line < 1 || pe.Line > n {
				t.Errorf("ParseError.Line = %d, reply has %d lines", pe.Line, n)
			}
			if pe.Msg == "" {
				t.Error("empty ParseError message")
			}
		}
		for i, b := range blocks {
			if strings.TrimSpace(b.Path) == "" {
				t.Fatalf("block %d has no file name: %#v", i+1, b)
			}
			if b.Index != i+1 {
				t.Errorf("block %d has Index %d", i+1, b.Index)
			}
			for _, s := range []string{b.Search, b.Replace} {
				if s != "" && !strings.HasSuffix(s, "\n") {
					t.Errorf("block %d section %q is not newline-terminated", i+1, s)
				}
			}
			if strings.Contains(b.Search, "\r\n") || strings.Contains(b.Replace, "\r\n") {
				t.Errorf("block %d keeps CRLF", i+1)
			}
		}
		// A reply means the same with CRLF line endings.
		if !strings.Contains(reply, "\r") {
			crlf, cerr := Parse(strings.ReplaceAll(reply, "\n", "\r\n"))
			if !reflect.DeepEqual(crlf, blocks) || !reflect.DeepEqual(cerr, err) {
				t.Errorf("CRLF reply parses differently:\n LF: %#v %v\nCRLF: %#v %v", blocks, err, crlf, cerr)
			}
		}
	})
}

// isMarker reports whether a line would be taken as a block marker.
func isMarker(l string) bool {
	return searchMarker.MatchString(l) || dividerMarker.MatchString(l) || replaceMarker.MatchString(l)
}

// formatBlock writes a well-formed reply with one block, as a model would.
func formatBlock(path, search, replace string) string {
	return "Here is the change.\n\n" + path + "\n```\n<<<<<<< SEARCH\n" + search + "=======\n" + replace + ">>>>>>> REPLACE\n```\n\nDone.\n"
}

// FuzzApplyRoundTrip checks the exact-match property: for a file made of
// arbitrary lines, a SEARCH made of some of its lines and an arbitrary
// REPLACE, Parse+Apply of the formatted block gives the same file as
// replacing the first line-aligned occurrence of SEARCH, which is
// strings.Replace(original, search, replace, 1) when the first occurrence is
// line-aligned; and the same holds, in CRLF form, for the file with CRLF
// line endings.
func FuzzApplyRoundTrip(f *testing.F) {
	f.Add(expPy, uint8(3), uint8(1), "    lr = 0.01\n")
	f.Add("a\nx\nb\nx\n", uint8(1), uint8(1), "y\n")
	f.Add("xa\na\n", uint8(1), uint8(1), "b\n")
	f.Add("a\nb", uint8(0), uint8(1), "c")
	f.Add("  def f():\n      pass\n\n", uint8(0), uint8(2), "")
	f.Add("# Notes\n```\nrun\n```\n", uint8(1), uint8(3), "```\nrun 2\n```\n")
	f.Add("x = 1\n...\ny = 2\n", uint8(0), uint8(3), "x = 3\n...\ny = 4\n")
	f.Add("\n\nlead\n", uint8(0), uint8(3), "\nnew\n")
	f.Add("é\u2028ü\n\t\n", uint8(0), uint8(2), "ß\n")
	f.Fuzz(func(t *testing.T, content string, start, count uint8, replace string) {
		if strings.ContainsAny(content+replace, "\r\x00") || !utf8.ValidString(content+replace) {
			return // line endings and binary files have their own tests
		}
		lines := strings.SplitAfter(content, "\n")
		if lines[len(lines)-1] == "" {
			lines = lines[:len(lines)-1]
		}
		if len(lines) == 0 {
			return
		}
		s := int(start) % len(lines)
		n := 1 + int(count)%(len(lines)-s)
		search := strings.Join(lines[s:s+n], "")
		if !strings.HasSuffix(search, "\n") || strings.TrimSpace(search) == "" {
			return // the block form always ends lines; blank SEARCH appends
		}
		if replace != "" && !strings.HasSuffix(replace, "\n") {
			replace += "\n"
		}
		for _, l := range strings.Split(search+replace, "\n") {
			if isMarker(l) {
				return // cannot be written inside a block
			}
		}

		// The first line-aligned occurrence.
		at := -1
		for i := 0; i <= len(content)-len(search); i++ {
			if (i == 0 || content[i-1] == '\n') && strings.HasPrefix(content[i:], search) {
				at = i
				break
			}
		}
		if at < 0 {
			t.Fatalf("search %q not found in %q", search, content)
		}
		want := content[:at] + replace + content[at+len(search):]
		if strings.Index(content, search) == at {
			if r := strings.Replace(content, search, replace, 1); r != want {
				t.Fatalf("internal: %q != %q", r, want)
			}
		}

		blocks, err := Parse(formatBlock("f.txt", search, replace))
		if err != nil {
			t.Fatalf("Parse: %v", err)
		}
		wantBlocks := []Block{{Path: "f.txt", Search: search, Replace: replace, Index: 1}}
		if !reflect.DeepEqual(blocks, wantBlocks) {
			t.Fatalf("Parse = %#v, want %#v", blocks, wantBlocks)
		}
		// The same edit on the file with CRLF line endings gives the CRLF
		// form of the result.
		crlf := func(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }
		for _, c := range []struct{ content, want string }{{content, want}, {crlf(content), crlf(want)}} {
			root := t.TempDir()
			if err := os.WriteFile(filepath.Join(root, "f.txt"), []byte(c.content), 0o644); err != nil {
				t.Fatal(err)
			}
			res, err := Apply(root, blocks, []string{"f.txt"})
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if !res.OK() {
				t.Fatalf("not applied:\n%s", res.Feedback())
			}
			got, err := os.ReadFile(filepath.Join(root, "f.txt"))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != c.want {
				t.Fatalf("content %q\nsearch %q\nreplace %q\ngot  %q\nwant %q", c.content, search, replace, got, c.want)
			}
		}
	})
}

// FuzzReplyApply applies whatever blocks an arbitrary reply holds to an arbitrary
// file: Apply must not panic, must not fail with an I/O error, and must not
// write outside the workspace.
func FuzzReplyApply(f *testing.F) {
	f.Add(expPy, parseSeeds[3])
	f.Add(expPy, parseSeeds[12])
	f.Add(expPy, "experiment.py\n```\n<<<<<<< SEARCH\nfor epoch in range(10):\n  loss = model.step(data, lr)\n=======\nx\n>>>>>>> REPLACE\n```\n")
	f.Add("a\r\nb\r\nc", "f.txt\n<<<<<<< SEARCH\nb\n=======\nB\n>>>>>>> REPLACE\n")
	f.Add("x = 1\nprint(x)\ny = 2\nprint(x)\n", "f.txt\n<<<<<<< SEARCH\nx = 1\n   ...\nprint(x)\n=======\nx = 3\n   ...\nprint(x)\n>>>>>>> REPLACE\n")
	f.Add("# n\n```\nrun\n```\n", "f.txt\n<<<<<<< SEARCH\nf.txt\n```\nrun\n```\n=======\n```\nrun 2\n```\n>>>>>>> REPLACE\n")
	f.Add("a\n", "../f.txt\n<<<<<<< SEARCH\n=======\nx\n>>>>>>> REPLACE\nsub/dir/g.txt\n<<<<<<< SEARCH\n=======\ny\n>>>>>>> REPLACE\nf.txt/h.txt\n<<<<<<< SEARCH\n=======\nz\n>>>>>>> REPLACE\n")
	f.Fuzz(func(t *testing.T, content, reply string) {
		blocks, _ := Parse(reply)
		base := t.TempDir()
		root := filepath.Join(base, "ws")
		if err := os.Mkdir(root, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, "f.txt"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		res, err := Apply(root, blocks, nil)
		if err != nil {
			t.Fatalf("Apply: %v", err)
		}
		if len(res.Applied)+len(res.Failed) != len(blocks) {
			t.Fatalf("%d applied + %d failed != %d blocks", len(res.Applied), len(res.Failed), len(blocks))
		}
		for _, fl := range res.Failed {
			if fl.Reason == "" {
				t.Errorf("failure of block %d has no reason", fl.Block.Index)
			}
		}
		_ = res.Feedback()
		if entries, err := os.ReadDir(base); err != nil || len(entries) != 1 {
			t.Fatalf("files appeared beside the workspace: %v %v", entries, err)
		}
	})
}
