package editblock

import (
	"fmt"
	pathpkg "path"
	"path/filepath"
	"sort"
	"strings"
)

// text is a file's content split into lines (without terminators), together
// with each line's own terminator, so that lines an edit does not touch keep
// their line endings byte for byte (a mostly-LF file with a few CRLF lines
// stays that way).
type text struct {
	lines []string
	ends  []string // terminator of each line: "\n", "\r\n", or "" (last line only)
	eol   string   // terminator for new lines: the file's dominant one
}

func splitText(content string) text {
	t := text{eol: "\n"}
	crlf, lf := 0, 0
	for content != "" {
		i := strings.IndexByte(content, '\n')
		if i < 0 {
			t.lines = append(t.lines, content)
			t.ends = append(t.ends, "")
			break
		}
		line, end := content[:i], "\n"
		if strings.HasSuffix(line, "\r") {
			line, end = line[:len(line)-1], "\r\n"
			crlf++
		} else {
			lf++
		}
		t.lines = append(t.lines, line)
		t.ends = append(t.ends, end)
		content = content[i+1:]
	}
	if crlf > lf {
		t.eol = "\r\n"
	}
	return t
}

func (t text) join() string {
	var b strings.Builder
	for i, l := range t.lines {
		b.WriteString(l)
		b.WriteString(t.ends[i])
	}
	return b.String()
}

// terminated reports whether the content ends with a line terminator (or is
// empty).
func (t text) terminated() bool {
	return len(t.ends) == 0 || t.ends[len(t.ends)-1] != ""
}

// edit replaces lines [at, at+n) with repl.
type edit struct {
	at, n int
	repl  []string
}

// splice applies e. New lines get the file's dominant terminator; a file
// that did not end with a line terminator still does not when the edit
// reaches its end.
func (t *text) splice(e edit) {
	unterminatedEnd := !t.terminated() && e.at+e.n == len(t.lines)
	ends := make([]string, len(e.repl))
	for i := range ends {
		ends[i] = t.eol
	}
	t.lines = splice(t.lines, e.at, e.n, e.repl)
	t.ends = splice(t.ends, e.at, e.n, ends)
	if unterminatedEnd && len(t.ends) > 0 {
		t.ends[len(t.ends)-1] = ""
	}
}

// toLines splits a block section into lines; "" gives no lines.
func toLines(s string) []string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	if s == "" {
		return nil
	}
	s = strings.TrimSuffix(s, "\n")
	return strings.Split(s, "\n")
}

func isBlank(s string) bool { return strings.TrimSpace(s) == "" }

// eqFunc compares a file line with a SEARCH line.
type eqFunc func(fileLine, searchLine string) bool

func eqExact(a, b string) bool { return a == b }

func eqRightTrim(a, b string) bool {
	return strings.TrimRight(a, " \t") == strings.TrimRight(b, " \t")
}

// applyBlock applies one block to the file state and returns the new content,
// or a Failure.
func applyBlock(st *fileState, b Block) (string, *Failure) {
	if strings.TrimSpace(b.Search) == "" {
		return applyEmptySearch(st, b), nil
	}
	if !st.exists && !st.created {
		return "", &Failure{Block: b, Reason: fmt.Sprintf(
			"%s does not exist, so its SEARCH section cannot match; to create a new file, use a block with an empty SEARCH section and the whole file content as REPLACE", st.rel)}
	}

	t := splitText(st.content)
	search := toLines(b.Search)
	repl := toLines(b.Replace)

	// The verbatim sections first; then, like aider's strip_quoted_wrapping,
	// without a file name line and a code fence wrapped around the SEARCH
	// (and REPLACE) lines, which some models add inside the block.
	type candidate struct{ search, repl []string }
	cands := []candidate{{search, repl}}
	if s, ok := unwrap(search, b.Path); ok && !allBlank(s) {
		r, _ := unwrap(repl, b.Path)
		cands = append(cands, candidate{s, r})
	}

	for _, c := range cands {
		if e, ok := replaceFlexible(t.lines, c.search, c.repl); ok {
			t.splice(e)
			return t.join(), nil
		}
	}

	f := &Failure{Block: b}
	elisionUsed := false
	for _, c := range cands {
		edits, used, reason, piece := replaceElided(t.lines, c.search, c.repl)
		if !used {
			continue
		}
		if reason == "" {
			for _, e := range edits {
				t.splice(e)
			}
			return t.join(), nil
		}
		if !elisionUsed {
			elisionUsed = true
			f.Reason = reason
			f.Closest = closestLines(t.lines, piece)
		}
	}
	if !elisionUsed {
		f.Reason = fmt.Sprintf("the SEARCH section of block %d does not match any lines in %s", b.Index, st.rel)
		f.Closest = closestLines(t.lines, search)
	}
	f.AlreadyPresent = replacePresent(t.lines, repl)
	return "", f
}

// applyEmptySearch creates the file or appends the REPLACE text to it.
func applyEmptySearch(st *fileState, b Block) string {
	repl := strings.ReplaceAll(b.Replace, "\r\n", "\n")
	if !st.exists && !st.created {
		st.created = true
		return repl
	}
	cur := st.content
	if cur == "" {
		return repl
	}
	if strings.TrimSpace(repl) == "" {
		return cur // appending nothing leaves the file alone
	}
	// Re-sending the whole content of a file it created earlier is a no-op.
	if strings.TrimRight(strings.ReplaceAll(cur, "\r\n", "\n"), " \t\r\n") == strings.TrimRight(repl, " \t\r\n") {
		return cur
	}
	t := splitText(cur)
	if !t.terminated() {
		cur += t.eol
	}
	if t.eol != "\n" {
		repl = strings.ReplaceAll(repl, "\n", t.eol)
	}
	return cur + repl
}

func allBlank(lines []string) bool {
	for _, l := range lines {
		if !isBlank(l) {
			return false
		}
	}
	return true
}

// unwrap removes what some models wrap around a SEARCH or REPLACE section
// (aider's strip_quoted_wrapping): a first line naming the block's file, and
// then a code fence around all the remaining lines. ok reports whether
// anything was removed.
func unwrap(lines []string, path string) (out []string, ok bool) {
	out = lines
	if len(out) > 0 {
		if name, isName := cleanFilename(out[0]); isName && samePath(name, path) {
			out, ok = out[1:], true
		}
	}
	if n := len(out); n >= 2 && fenceLine.MatchString(out[0]) && fenceLine.MatchString(out[n-1]) &&
		strings.TrimSpace(strings.Trim(strings.TrimSpace(out[n-1]), "`~")) == "" {
		out, ok = out[1:n-1], true
	}
	return out, ok
}

// samePath reports whether name (from a line of a block) names the file
// path, in full or by its base name.
func samePath(name, path string) bool {
	clean := func(p string) string {
		return filepath.ToSlash(filepath.Clean(filepath.FromSlash(strings.TrimSpace(p))))
	}
	n, p := clean(name), clean(path)
	return n == p || n == pathpkg.Base(p)
}

// replaceFlexible tries strategies 1 to 4 (see Apply) and returns the edit
// to make on success.
func replaceFlexible(lines, search, repl []string) (edit, bool) {
	type variant struct{ search, repl []string }
	variants := []variant{{search, repl}}

	// Without leading blank SEARCH lines (and matching REPLACE blank lines).
	s, r := search, repl
	for len(s) > 0 && isBlank(s[0]) {
		s = s[1:]
		if len(r) > 0 && isBlank(r[0]) {
			r = r[1:]
		}
	}
	if len(s) != len(search) && len(s) > 0 {
		variants = append(variants, variant{s, r})
	}
	// ... and also without trailing ones.
	s2, r2 := s, r
	for len(s2) > 0 && isBlank(s2[len(s2)-1]) {
		s2 = s2[:len(s2)-1]
		if len(r2) > 0 && isBlank(r2[len(r2)-1]) {
			r2 = r2[:len(r2)-1]
		}
	}
	if len(s2) != len(s) && len(s2) > 0 {
		variants = append(variants, variant{s2, r2})
	}

	for _, eq := range []eqFunc{eqExact, eqRightTrim} {
		for _, v := range variants {
			if i, ok := findSeq(lines, v.search, eq); ok {
				return edit{i, len(v.search), v.repl}, true
			}
			if i, prefix, add, ok := findIndented(lines, v.search, eq); ok {
				return edit{i, len(v.search), reindent(v.repl, prefix, add)}, true
			}
		}
	}
	return edit{}, false
}

// findSeq returns the first index at which search occurs in lines.
func findSeq(lines, search []string, eq eqFunc) (int, bool) {
	n := len(search)
	if n == 0 {
		return 0, false
	}
	for i := 0; i+n <= len(lines); i++ {
		ok := true
		for j := 0; j < n; j++ {
			if !eq(lines[i+j], search[j]) {
				ok = false
				break
			}
		}
		if ok {
			return i, true
		}
	}
	return 0, false
}

// countSeq counts the (possibly overlapping) exact occurrences of search.
func countSeq(lines, search []string) (count, first int) {
	first = -1
	n := len(search)
	for i := 0; n > 0 && i+n <= len(lines); i++ {
		ok := true
		for j := 0; j < n; j++ {
			if lines[i+j] != search[j] {
				ok = false
				break
			}
		}
		if ok {
			if count == 0 {
				first = i
			}
			count++
		}
	}
	return count, first
}

func leadingWS(s string) string {
	return s[:len(s)-len(strings.TrimLeft(s, " \t"))]
}

// findIndented finds the first window of lines that equals search except for
// one uniform leading-whitespace offset. add reports whether the file lines
// carry the extra prefix (true) or the SEARCH lines do (false). Blank SEARCH
// lines match blank file lines.
func findIndented(lines, search []string, eq eqFunc) (at int, prefix string, add, ok bool) {
	n := len(search)
	first := -1
	for j, s := range search {
		if !isBlank(s) {
			first = j
			break
		}
	}
	if first < 0 {
		return 0, "", false, false
	}
	for i := 0; i+n <= len(lines); i++ {
		f, s := lines[i+first], search[first]
		fl, sl := leadingWS(f), leadingWS(s)
		if !eq(f[len(fl):], s[len(sl):]) {
			continue
		}
		switch {
		case strings.HasPrefix(fl, sl):
			prefix, add = fl[len(sl):], true
		case strings.HasPrefix(sl, fl):
			prefix, add = sl[len(fl):], false
		default:
			continue
		}
		match := true
		for j := 0; j < n && match; j++ {
			f, s := lines[i+j], search[j]
			switch {
			case isBlank(s):
				match = isBlank(f)
			case add:
				match = eq(f, prefix+s)
			default:
				match = strings.HasPrefix(s, prefix) && eq(f, s[len(prefix):])
			}
		}
		if match {
			return i, prefix, add, true
		}
	}
	return 0, "", false, false
}

// reindent shifts non-blank lines by prefix: adding it, or removing it (or
// whatever leading whitespace a line has, when it has less than prefix).
func reindent(lines []string, prefix string, add bool) []string {
	if prefix == "" {
		return lines
	}
	out := make([]string, len(lines))
	for i, l := range lines {
		switch {
		case isBlank(l):
			out[i] = l
		case add:
			out[i] = prefix + l
		case strings.HasPrefix(l, prefix):
			out[i] = l[len(prefix):]
		default:
			out[i] = strings.TrimLeft(l, " \t")
		}
	}
	return out
}

// splice replaces lines[at:at+n] with repl, returning a new slice.
func splice[T any](lines []T, at, n int, repl []T) []T {
	out := make([]T, 0, len(lines)-n+len(repl))
	out = append(out, lines[:at]...)
	out = append(out, repl...)
	out = append(out, lines[at+n:]...)
	return out
}

func isElision(s string) bool { return strings.TrimSpace(s) == "..." }

func splitElided(lines []string) [][]string {
	var pieces [][]string
	var cur []string
	for _, l := range lines {
		if isElision(l) {
			pieces = append(pieces, cur)
			cur = nil
			continue
		}
		cur = append(cur, l)
	}
	return append(pieces, cur)
}

// replaceElided implements strategy 5 and returns the edits to make, in
// order. used reports whether the block uses "..." elision at all. On
// failure, reason explains it and piece holds the SEARCH piece that failed
// (for the closest-lines hint).
func replaceElided(lines, search, repl []string) (edits []edit, used bool, reason string, piece []string) {
	sp, rp := splitElided(search), splitElided(repl)
	if len(sp) < 2 {
		return nil, false, "", nil
	}
	if len(sp) != len(rp) {
		// Not an elision (a "..." may be real code, e.g. a Python Ellipsis).
		return nil, false, "", nil
	}
	out := lines
	for k := range sp {
		s, r := sp[k], rp[k]
		if len(s) == 0 {
			if len(r) == 0 {
				continue
			}
			return nil, true, fmt.Sprintf(
				"piece %d of the SEARCH section (between ... lines) is empty while the REPLACE piece is not, so it is unclear where to put the new lines; write out the full SEARCH lines instead of using ...", k+1), search
		}
		count, at := countSeq(out, s)
		switch {
		case count == 0:
			return nil, true, fmt.Sprintf(
				"piece %d of the SEARCH section (between ... lines) does not exactly match any lines in the file; with ... elision every piece must match exactly", k+1), s
		case count > 1:
			return nil, true, fmt.Sprintf(
				"piece %d of the SEARCH section (between ... lines) matches %d places in the file; add more surrounding lines so it matches exactly one place", k+1, count), s
		}
		out = splice(out, at, len(s), r)
		edits = append(edits, edit{at, len(s), r})
	}
	return edits, true, "", nil
}

// replacePresent reports whether the REPLACE lines (ignoring surrounding blank
// lines, trailing whitespace and a uniform indentation offset) already occur
// in the file.
func replacePresent(lines, repl []string) bool {
	for len(repl) > 0 && isBlank(repl[0]) {
		repl = repl[1:]
	}
	for len(repl) > 0 && isBlank(repl[len(repl)-1]) {
		repl = repl[:len(repl)-1]
	}
	if len(repl) == 0 {
		return false
	}
	if _, ok := findSeq(lines, repl, eqRightTrim); ok {
		return true
	}
	_, _, _, ok := findIndented(lines, repl, eqRightTrim)
	return ok
}

// Similarity thresholds for closestLines.
const (
	minLineSim   = 0.5 // line pairs less similar than this count as different
	minWindowSim = 0.3 // windows less similar than this are not reported
	maxFuzzyWork = 4_000_000
	maxAlignWork = 40_000_000
)

// closestLines returns the window of file lines, as long as search, that is
// most similar to search, or "" when no window is reasonably similar.
//
// Lines are compared after trimming surrounding whitespace, by a character
// bigram similarity (exact equality only, for very large inputs). A window's
// score is the best order-preserving alignment of its lines with the SEARCH
// lines (a weighted longest common subsequence), divided by the number of
// SEARCH lines.
func closestLines(lines, search []string) string {
	n := len(search)
	if n == 0 || len(lines) == 0 {
		return ""
	}
	w := n
	if w > len(lines) {
		w = len(lines)
	}

	sim := similarityMatrix(lines, search)

	align := len(lines)*n*w <= maxAlignWork
	best, bestAt := -1.0, 0
	dp := make([]float64, (n+1)*(w+1))
	for start := 0; start+w <= len(lines); start++ {
		var score float64
		if align {
			score = alignScore(sim, search, start, w, dp)
		} else {
			for j := 0; j < w; j++ {
				score += sim[j][start+j]
			}
		}
		if score > best {
			best, bestAt = score, start
		}
	}
	if best/float64(n) < minWindowSim {
		return ""
	}
	return joinLines(lines[bestAt : bestAt+w])
}

// similarityMatrix returns sim[i][j], the similarity of search line i and
// file line j, with values below minLineSim set to 0.
func similarityMatrix(lines, search []string) [][]float64 {
	fuzzy := len(lines)*len(search) <= maxFuzzyWork
	fileKeys := make([]string, len(lines))
	fileGrams := make([][]uint64, len(lines))
	for j, l := range lines {
		fileKeys[j] = strings.TrimSpace(l)
		if fuzzy {
			fileGrams[j] = bigrams(fileKeys[j])
		}
	}
	sim := make([][]float64, len(search))
	for i, s := range search {
		key := strings.TrimSpace(s)
		var grams []uint64
		if fuzzy {
			grams = bigrams(key)
		}
		row := make([]float64, len(lines))
		for j := range lines {
			var v float64
			switch {
			case key == fileKeys[j]:
				v = 1
			case fuzzy:
				v = dice(grams, fileGrams[j])
			}
			if v >= minLineSim {
				row[j] = v
			}
		}
		sim[i] = row
	}
	return sim
}

// alignScore is the weighted longest common subsequence of the search lines
// and the window lines[start:start+w]; dp is scratch space.
func alignScore(sim [][]float64, search []string, start, w int, dp []float64) float64 {
	n := len(search)
	cols := w + 1
	for j := 0; j <= w; j++ {
		dp[j] = 0
	}
	for i := 1; i <= n; i++ {
		row := sim[i-1]
		dp[i*cols] = 0
		for j := 1; j <= w; j++ {
			v := dp[(i-1)*cols+j]
			if u := dp[i*cols+j-1]; u > v {
				v = u
			}
			if s := row[start+j-1]; s > 0 {
				if d := dp[(i-1)*cols+j-1] + s; d > v {
					v = d
				}
			}
			dp[i*cols+j] = v
		}
	}
	return dp[n*cols+w]
}

// bigrams returns the sorted character bigrams of s.
func bigrams(s string) []uint64 {
	r := []rune(s)
	if len(r) < 2 {
		if len(r) == 1 {
			return []uint64{uint64(r[0])}
		}
		return nil
	}
	g := make([]uint64, len(r)-1)
	for i := 0; i+1 < len(r); i++ {
		g[i] = uint64(r[i])<<32 | uint64(r[i+1])
	}
	sort.Slice(g, func(a, b int) bool { return g[a] < g[b] })
	return g
}

// dice is the Sørensen–Dice coefficient of two sorted bigram multisets.
func dice(a, b []uint64) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	common := 0
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i] == b[j]:
			common++
			i++
			j++
		case a[i] < b[j]:
			i++
		default:
			j++
		}
	}
	return 2 * float64(common) / float64(len(a)+len(b))
}
