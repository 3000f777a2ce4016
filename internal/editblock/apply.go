package editblock

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"unicode"
)

// Result is the outcome of Apply.
type Result struct {
	// Applied lists the blocks that were applied, in order.
	Applied []Block
	// Failed lists the blocks that could not be applied, in order.
	Failed []Failure
	// Changed lists the files (cleaned, slash-separated, relative to the
	// root) whose content was changed or that were created, in the order
	// they were first edited.
	Changed []string
}

// Failure describes a block that could not be applied.
type Failure struct {
	// Block is the block that failed.
	Block Block
	// Reason says why, in words the model can act on.
	Reason string
	// Closest holds the lines of the file most similar to the SEARCH
	// section (a window of the same number of lines), or "" if nothing in
	// the file is reasonably similar.
	Closest string
	// AlreadyPresent is true when the REPLACE lines already occur in the
	// file, which suggests the edit was made before.
	AlreadyPresent bool
}

// OK reports whether at least one block was applied and none failed.
func (r Result) OK() bool {
	return len(r.Failed) == 0 && len(r.Applied) > 0
}

// fileState is the in-memory state of one file touched by Apply.
type fileState struct {
	rel     string      // cleaned slash path relative to root, for Changed
	real    string      // absolute path with symlinks resolved; written to
	orig    string      // content on disk before Apply
	content string      // content after the blocks applied so far
	exists  bool        // the file existed before Apply
	created bool        // a block created the file
	mode    fs.FileMode // permission bits to keep
}

// Apply applies blocks, in order, to the files under the directory root.
// Later blocks see the edits of earlier ones.
//
// allowed lists the relative paths that may be edited or created; nil means
// any path inside root. Every block path is cleaned and must be relative,
// must stay inside root (no "..", no absolute path, no symbolic link that
// resolves outside root) and must be allowed (when it leads through a
// symbolic link inside root, the link's target must be allowed as well);
// otherwise the block is a Failure.
//
// For each block the SEARCH lines are located, trying in order:
//  1. an exact match of the line sequence (first occurrence);
//  2. the same lines shifted by one uniform leading-indentation offset, in
//     which case the REPLACE lines are re-indented by the same offset;
//  3. the above, without leading (and then also trailing) blank SEARCH lines;
//  4. the above, ignoring trailing whitespace on each line;
//  5. the above, after removing a first line that names the file and then a
//     code fence wrapped around all the SEARCH lines (and the same from the
//     REPLACE lines), which some models put inside the block (aider strips
//     these always; here the verbatim lines win, so fenced content of a
//     Markdown file or docstring is edited as written);
//  6. "..." elision: when SEARCH and REPLACE contain the same number of lines
//     that are exactly "..." (ignoring surrounding whitespace), both are split
//     at those lines and each SEARCH piece, which must occur exactly once, is
//     replaced by the corresponding REPLACE piece. A "..." at the start or end
//     of both sections just marks elided context. Unlike aider, which then
//     appends the REPLACE piece to the end of the file, a piece with empty
//     SEARCH lines and non-empty REPLACE lines is a failure: where to put the
//     lines is ambiguous.
//
// An empty SEARCH creates the file when it does not exist and appends the
// REPLACE text otherwise (unless the file already consists of exactly that
// text, in which case the block is a no-op). Appending to a file without a
// final newline first ends its last line.
//
// Line endings: lines an edit does not touch keep their terminators byte for
// byte; new lines get the file's dominant terminator (CRLF in a CRLF file,
// whatever the reply used). A file without a final newline still has none
// after an edit of its last line.
//
// A block whose SEARCH is not found becomes a Failure carrying the closest
// lines of the file and whether the REPLACE text is already present.
//
// Each changed file is written once, at the end, atomically (temporary file
// in the same directory, then rename) with its permission bits preserved;
// new files get mode 0644 and missing parent directories are created.
//
// The error is non-nil only for I/O failures (unreadable root or file,
// failed write); matching problems are reported in Result.Failed. When an
// error is returned, the Result describes the work done up to that point.
func Apply(root string, blocks []Block, allowed []string) (Result, error) {
	var res Result

	absRoot, err := filepath.Abs(root)
	if err != nil {
		return res, fmt.Errorf("editblock: resolving root %q: %w", root, err)
	}
	realRoot, err := filepath.EvalSymlinks(absRoot)
	if err != nil {
		return res, fmt.Errorf("editblock: resolving root %q: %w", root, err)
	}
	if info, err := os.Stat(realRoot); err != nil {
		return res, fmt.Errorf("editblock: root %q: %w", root, err)
	} else if !info.IsDir() {
		return res, fmt.Errorf("editblock: root %q is not a directory", root)
	}

	var allowSet map[string]bool
	var allowNames []string
	if allowed != nil {
		allowSet = make(map[string]bool, len(allowed))
		for _, a := range allowed {
			c := filepath.ToSlash(filepath.Clean(filepath.FromSlash(strings.TrimSpace(a))))
			if !allowSet[c] {
				allowSet[c] = true
				allowNames = append(allowNames, c)
			}
		}
		sort.Strings(allowNames)
	}

	files := map[string]*fileState{}
	var order []*fileState

	for i, b := range blocks {
		if b.Index == 0 {
			b.Index = i + 1
		}
		fail := func(reason string) {
			res.Failed = append(res.Failed, Failure{Block: b, Reason: reason})
		}

		rel, real, reason, err := resolvePath(realRoot, b.Path, allowSet, allowNames)
		if err != nil {
			return res, err
		}
		if reason != "" {
			fail(reason)
			continue
		}

		st := files[real]
		if st == nil {
			st, reason, err = loadFile(real, rel)
			if err != nil {
				return res, err
			}
			if reason != "" {
				fail(reason)
				continue
			}
			files[real] = st
			order = append(order, st)
		}

		out, f := applyBlock(st, b)
		if f != nil {
			res.Failed = append(res.Failed, *f)
			continue
		}
		st.content = out
		res.Applied = append(res.Applied, b)
	}

	for _, st := range order {
		if !st.created && st.content == st.orig {
			continue
		}
		if err := writeAtomic(st.real, []byte(st.content), st.mode); err != nil {
			return res, err
		}
		res.Changed = append(res.Changed, st.rel)
	}
	return res, nil
}

// resolvePath validates a block path and returns its cleaned relative form
// and the real (symlink-resolved) absolute path to edit. A non-empty reason
// means the path is refused; err is reserved for I/O failures.
func resolvePath(root, p string, allowSet map[string]bool, allowNames []string) (rel, real, reason string, err error) {
	p = strings.TrimSpace(p)
	if p == "" {
		return "", "", "the block has no file name; put the file path alone on the line before the opening fence", nil
	}
	if strings.IndexFunc(p, unicode.IsControl) >= 0 {
		return "", "", fmt.Sprintf("%q is not a valid file name: it contains control characters", p), nil
	}
	if filepath.IsAbs(p) || strings.HasPrefix(p, "/") || strings.HasPrefix(p, `\`) || filepath.VolumeName(p) != "" {
		return "", "", fmt.Sprintf("%s is an absolute path; only paths relative to the workspace (like experiment.py) may be edited", p), nil
	}
	c := filepath.Clean(filepath.FromSlash(p))
	if c == "." {
		return "", "", fmt.Sprintf("%q does not name a file", p), nil
	}
	if c == ".." || strings.HasPrefix(c, ".."+string(filepath.Separator)) {
		return "", "", fmt.Sprintf("%s points outside the workspace (it climbs out with ..); only files inside the workspace may be edited", p), nil
	}
	rel = filepath.ToSlash(c)
	if allowSet != nil && !allowSet[rel] {
		msg := fmt.Sprintf("%s is not one of the files you may edit", rel)
		if len(allowNames) > 0 {
			msg += "; the editable files are: " + strings.Join(allowNames, ", ")
		}
		return "", "", msg, nil
	}

	// Find the deepest existing ancestor (or the path itself), resolve its
	// symbolic links and check that it stays inside root.
	abs := filepath.Join(root, c)
	existing := abs
	for {
		_, lerr := os.Lstat(existing)
		if lerr == nil {
			break
		}
		if errors.Is(lerr, syscall.ENOTDIR) {
			return "", "", fmt.Sprintf("%s cannot be used: one of its parent directories is a regular file", rel), nil
		}
		if errors.Is(lerr, syscall.ENAMETOOLONG) {
			return "", "", fmt.Sprintf("%s cannot be used: the name is too long", rel), nil
		}
		if !errors.Is(lerr, fs.ErrNotExist) {
			return "", "", "", fmt.Errorf("editblock: checking %s: %w", rel, lerr)
		}
		parent := filepath.Dir(existing)
		if parent == existing {
			break
		}
		existing = parent
	}
	resolved, everr := filepath.EvalSymlinks(existing)
	if everr != nil {
		return "", "", fmt.Sprintf("%s is (or is inside) a symbolic link that cannot be resolved", rel), nil
	}
	if !inside(root, resolved) {
		return "", "", fmt.Sprintf("%s resolves through a symbolic link to a location outside the workspace; it may not be edited", rel), nil
	}
	rest, rerr := filepath.Rel(existing, abs)
	if rerr != nil {
		return "", "", "", fmt.Errorf("editblock: resolving %s: %w", rel, rerr)
	}
	real = filepath.Join(resolved, rest)
	if real == root {
		return "", "", fmt.Sprintf("%q does not name a file", p), nil
	}
	// Through a symbolic link inside root, the file actually written must be
	// allowed too.
	if allowSet != nil && real != abs {
		target, terr := filepath.Rel(root, real)
		if terr != nil {
			return "", "", "", fmt.Errorf("editblock: resolving %s: %w", rel, terr)
		}
		if target = filepath.ToSlash(target); !allowSet[target] {
			return "", "", fmt.Sprintf("%s is a symbolic link to %s, which is not one of the files you may edit", rel, target), nil
		}
	}
	return rel, real, "", nil
}

// inside reports whether path p is root or below it.
func inside(root, p string) bool {
	r, err := filepath.Rel(root, p)
	if err != nil {
		return false
	}
	return r != ".." && !strings.HasPrefix(r, ".."+string(filepath.Separator)) && !filepath.IsAbs(r)
}

// loadFile reads a file's current state. A missing file is not an error.
func loadFile(real, rel string) (*fileState, string, error) {
	st := &fileState{rel: rel, real: real, mode: 0o644}
	info, err := os.Stat(real)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return st, "", nil
		}
		if errors.Is(err, syscall.ENOTDIR) {
			return nil, fmt.Sprintf("%s cannot be used: one of its parent directories is a regular file", rel), nil
		}
		return nil, "", fmt.Errorf("editblock: %s: %w", rel, err)
	}
	if info.IsDir() {
		return nil, fmt.Sprintf("%s is a directory, not a file", rel), nil
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Sprintf("%s is not a regular file", rel), nil
	}
	data, err := os.ReadFile(real)
	if err != nil {
		return nil, "", fmt.Errorf("editblock: reading %s: %w", rel, err)
	}
	if bytes.IndexByte(data, 0) >= 0 {
		return nil, fmt.Sprintf("%s looks like a binary file and cannot be edited with SEARCH/REPLACE blocks", rel), nil
	}
	st.exists = true
	st.mode = info.Mode().Perm()
	st.orig = string(data)
	st.content = st.orig
	return st, "", nil
}

// writeAtomic replaces path with data by writing a temporary file in the same
// directory and renaming it over path.
func writeAtomic(path string, data []byte, mode fs.FileMode) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("editblock: creating directory for %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("editblock: writing %s: %w", path, err)
	}
	name := tmp.Name()
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(name)
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return fmt.Errorf("editblock: writing %s: %w", path, err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("editblock: writing %s: %w", path, err)
	}
	if err = tmp.Chmod(mode); err != nil {
		return fmt.Errorf("editblock: setting mode of %s: %w", path, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("editblock: writing %s: %w", path, err)
	}
	if err = os.Rename(name, path); err != nil {
		return fmt.Errorf("editblock: replacing %s: %w", path, err)
	}
	return nil
}
