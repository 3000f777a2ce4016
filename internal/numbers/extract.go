package numbers

import (
	"bytes"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Reading the numbers of a LaTeX paper. The text is first "masked": a copy
// of the same length in which everything that is not prose is blanked out
// (comments, reference and citation keys, graphics options, column specs,
// spacing commands, colour specs, TikZ pictures), so offsets, and hence
// line numbers, stay those of the original. Regions (abstract, Results
// section, tabulars) are found on the masked text, then every number in a
// region is read with its form: decimals, percent, ratio, ± and so on.

// stated is a number as read from the text, before matching.
type stated struct {
	start, end int     // byte offsets in the text, sign and percent or ratio sign included
	value      float64 // as written (95.3 for "95.3\%")
	ulp        float64 // the unit of the last digit written: 0.001 for "0.953"
	sig        int     // significant digits written
	integer    bool    // a plain integer: no decimal point, exponent or multiplier
	grouped    bool    // written with thousands separators
	percent    bool    // "\%", "percent", "percentage points", "pp"
	ratio      bool    // "\times", "×", "x", "-fold", "times"
	pm         bool    // after "\pm" or "±": an uncertainty
	skip       bool    // not a number to check: an identifier, a length, an exponent, a reference number
}

// mask returns a copy of tex with its comments blanked (newlines kept);
// maskCommands blanks the rest once the regions are known.
func mask(tex string) []byte {
	b := []byte(tex)
	maskComments(b)
	return b
}

// blank replaces b[from:to] by spaces, keeping newlines.
func blank(b []byte, from, to int) {
	for i := from; i < to && i < len(b); i++ {
		if b[i] != '\n' {
			b[i] = ' '
		}
	}
}

// escaped reports whether b[i] follows an odd number of backslashes.
func escaped(b []byte, i int) bool {
	n := 0
	for j := i - 1; j >= 0 && b[j] == '\\'; j-- {
		n++
	}
	return n%2 == 1
}

var (
	commentEnv = regexp.MustCompile(`\\begin\s*\{comment\}[\s\S]*?(\\end\s*\{comment\}|\z)`)
	iffalse    = regexp.MustCompile(`\\iffalse\b[\s\S]*?(\\fi\b|\z)`)
)

// maskComments blanks % comments (not \%), comment environments and
// \iffalse ... \fi blocks.
func maskComments(b []byte) {
	for i := 0; i < len(b); i++ {
		if b[i] == '%' && !escaped(b, i) {
			j := i
			for j < len(b) && b[j] != '\n' {
				j++
			}
			blank(b, i, j)
			i = j
		}
	}
	for _, re := range []*regexp.Regexp{commentEnv, iffalse} {
		for _, m := range re.FindAllIndex(b, -1) {
			blank(b, m[0], m[1])
		}
	}
}

type span struct{ from, to int }

func inSpans(spans []span, p int) bool {
	for _, s := range spans {
		if p >= s.from && p < s.to {
			return true
		}
	}
	return false
}

var (
	abstractRe  = regexp.MustCompile(`\\begin\s*\{abstract\}`)
	abstractEnd = regexp.MustCompile(`\\end\s*\{abstract\}`)
	tableEnvRe  = regexp.MustCompile(`\\(begin|end)\s*\{(tabular\*?|tabularx|tabulary|longtable\*?)\}`)
	sectionRe   = regexp.MustCompile(`\\section\*?\s*(\[[^\]]*\])?\s*\{`)
	sectionEnd  = regexp.MustCompile(`\\section\b|\\end\s*\{document\}|\\bibliography\b|\\bibliographystyle\b|\\printbibliography\b|\\appendix\b`)
)

// regions finds the abstract, the Results sections (any \section whose
// title says "Result": "Results", "Results and Discussion", "Experimental
// Results"; failing that, "Experiments" or "Evaluation"; each runs to the
// next \section, \appendix, bibliography or \end{document}) and every
// tabular.
func regions(b []byte) (abstract, results, tables []span) {
	for _, m := range abstractRe.FindAllIndex(b, -1) {
		to := len(b)
		if e := abstractEnd.FindIndex(b[m[1]:]); e != nil {
			to = m[1] + e[0]
		}
		abstract = append(abstract, span{m[1], to})
	}
	// A paper without a Results section reports its results in its
	// Experiments or Evaluation section (not in its Experimental Setup).
	isResults := []func(string) bool{
		func(t string) bool { return strings.Contains(t, "result") },
		func(t string) bool {
			return (strings.Contains(t, "experiment") || strings.Contains(t, "evaluation")) && !strings.Contains(t, "setup")
		},
	}
	for _, want := range isResults {
		for _, m := range sectionRe.FindAllIndex(b, -1) {
			end, ok := group(b, m[1]-1, '{', '}')
			if !ok || !want(strings.ToLower(string(b[m[1]:end-1]))) {
				continue
			}
			to := len(b)
			if e := sectionEnd.FindIndex(b[end:]); e != nil {
				to = end + e[0]
			}
			results = append(results, span{end, to})
		}
		if len(results) > 0 {
			break
		}
	}
	var stack []struct {
		name string
		at   int
	}
	for _, m := range tableEnvRe.FindAllSubmatchIndex(b, -1) {
		kind, name := string(b[m[2]:m[3]]), string(b[m[4]:m[5]])
		if kind == "begin" {
			stack = append(stack, struct {
				name string
				at   int
			}{name, m[0]})
			continue
		}
		for k := len(stack) - 1; k >= 0; k-- {
			if stack[k].name == name {
				if k == 0 {
					tables = append(tables, span{stack[0].at, m[1]})
				}
				stack = stack[:k]
				break
			}
		}
	}
	if len(stack) > 0 { // an unclosed tabular runs to the end
		tables = append(tables, span{stack[0].at, len(b)})
	}
	return abstract, results, tables
}

// group returns the index just past the group opened by b[i] (open),
// nested groups and escaped delimiters allowed.
func group(b []byte, i int, open, close byte) (int, bool) {
	if i >= len(b) || b[i] != open {
		return i, false
	}
	depth := 0
	for j := i; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case open:
			depth++
		case close:
			depth--
			if depth == 0 {
				return j + 1, true
			}
		}
	}
	return i, false
}

// maskedArgs says which arguments of a command hold no prose: 'o' an
// optional [..], 'p' an optional (..), 'm' a mandatory {..} (or a single
// token). The command and these arguments are blanked; arguments after
// them (the text of \multicolumn, \textcolor, \resizebox) are kept.
var maskedArgs = map[string]string{
	"ref": "m", "cref": "m", "Cref": "m", "eqref": "m", "autoref": "m", "pageref": "m", "nameref": "m",
	"vref": "m", "cpageref": "m", "Autoref": "m", "crefrange": "mm", "Crefrange": "mm", "label": "m",
	"cite": "oom", "citep": "oom", "citet": "oom", "citealp": "oom", "citealt": "oom", "citeauthor": "oom",
	"citeyear": "oom", "citeyearpar": "oom", "Citep": "oom", "Citet": "oom", "nocite": "m", "parencite": "oom",
	"textcite": "oom", "autocite": "oom", "footcite": "oom",
	"includegraphics": "om", "input": "m", "include": "m", "def": "mm", "bibliography": "m", "bibliographystyle": "m",
	"url": "m", "href": "m", "hyperref": "o", "graphicspath": "m", "usepackage": "om", "documentclass": "om",
	"vspace": "m", "hspace": "m", "setlength": "mm", "addtolength": "mm", "setcounter": "mm", "addtocounter": "mm",
	"resizebox": "mm", "scalebox": "mo", "rule": "omm", "raisebox": "moo", "makebox": "oo", "framebox": "oo",
	"parbox": "ooom", "fontsize": "mm", "linespread": "m", "adjustbox": "m",
	"cellcolor": "om", "rowcolor": "om", "columncolor": "om", "textcolor": "om", "color": "om",
	"colorbox": "om", "fcolorbox": "omm", "definecolor": "mmm", "rowcolors": "mmm",
	"newcommand": "moom", "renewcommand": "moom", "providecommand": "moom", "newlength": "m",
	"addlinespace": "o", "toprule": "o", "midrule": "o", "bottomrule": "o", "cmidrule": "opm",
	"cline": "m", "specialrule": "mmm", "multicolumn": "mm", "multirow": "omom", "extracolsep": "m",
	"captionsetup": "om", "hypersetup": "m", "ding": "m", "symbol": "m", "num": "o", "SI": "o", "qty": "o",
}

// envArgs says which arguments of \begin{env} hold no prose.
var envArgs = map[string]string{
	"tabular": "om", "tabular*": "mom", "tabularx": "mom", "tabulary": "mom", "longtable": "om", "longtable*": "om",
	"figure": "o", "figure*": "o", "table": "o", "table*": "o", "algorithm": "o", "minipage": "ooom",
	"subfigure": "om", "subtable": "om", "wrapfigure": "omom", "wraptable": "omom", "multicols": "m",
	"adjustbox": "m", "threeparttable": "o",
}

// maskedEnvs are blanked whole: their numbers are drawing coordinates and
// options, not claims.
var maskedEnvs = map[string]bool{"tikzpicture": true, "axis": true, "pgfpicture": true, "filecontents": true, "filecontents*": true}

// maskCommands blanks the commands of maskedArgs and envArgs with their
// non-prose arguments, and the environments of maskedEnvs.
func maskCommands(b []byte) {
	for i := 0; i < len(b); {
		if b[i] != '\\' {
			i++
			continue
		}
		j := i + 1
		for j < len(b) && isLetter(b[j]) {
			j++
		}
		if j == i+1 { // \%, \\, \_ ...
			i = j + 1
			continue
		}
		name := string(b[i+1 : j])
		if j < len(b) && b[j] == '*' {
			j++
		}
		switch name {
		case "begin", "end":
			k := skipSpace(b, j)
			e, ok := group(b, k, '{', '}')
			if !ok {
				i = j
				continue
			}
			env := strings.TrimSpace(string(b[k+1 : e-1]))
			if name == "begin" && maskedEnvs[env] {
				to := len(b)
				if m := bytes.Index(b[e:], []byte(`\end{`+env+`}`)); m >= 0 {
					to = e + m + len(`\end{`+env+`}`)
				}
				blank(b, i, to)
				i = to
				continue
			}
			if name == "begin" {
				e = consumeArgs(b, e, envArgs[env])
			}
			blank(b, i, e)
			i = e
		default:
			spec, ok := maskedArgs[name]
			if !ok {
				i = j
				continue
			}
			e := consumeArgs(b, j, spec)
			blank(b, i, e)
			i = e
		}
	}
}

// consumeArgs returns the index past the arguments described by spec
// (see maskedArgs) starting at j.
func consumeArgs(b []byte, j int, spec string) int {
	for _, a := range spec {
		k := skipSpace(b, j)
		if k >= len(b) {
			return j
		}
		switch a {
		case 'o', 'p':
			open, close := byte('['), byte(']')
			if a == 'p' {
				open, close = '(', ')'
			}
			if e, ok := group(b, k, open, close); ok {
				j = e
			}
		case 'm':
			switch {
			case b[k] == '{':
				e, ok := group(b, k, '{', '}')
				if !ok {
					return j
				}
				j = e
			case b[k] == '\\':
				e := k + 1
				for e < len(b) && isLetter(b[e]) {
					e++
				}
				if e == k+1 {
					e++
				}
				j = e
			default:
				j = k + 1
			}
		}
	}
	return j
}

func skipSpace(b []byte, j int) int {
	for j < len(b) && (b[j] == ' ' || b[j] == '\t' || b[j] == '\n' || b[j] == '\r') {
		j++
	}
	return j
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }

// found is a number of the paper with its region.
type found struct {
	stated
	where string
}

// extract returns the numbers to check in tex, in text order: those in
// the abstract, the Results sections and the tabulars that are not skipped
// (see read, skippedValue).
func extract(tex string) []found {
	b := mask(tex)
	abstract, results, tables := regions(b)
	maskCommands(b)
	var out []found
	for _, s := range scan(b) {
		if s.skip || skippedValue(s) {
			continue
		}
		var where string
		inAbs, inRes, inTab := inSpans(abstract, s.start), inSpans(results, s.start), inSpans(tables, s.start)
		switch {
		case inAbs:
			where = "abstract"
		case inRes && inTab:
			where = "Results table"
		case inRes:
			where = "Results"
		case inTab:
			where = "table"
		default:
			continue
		}
		out = append(out, found{s, where})
	}
	return out
}

// skippedValue reports numbers that are counts, not results: integers of
// at most 10 in absolute value written without decimal point or percent
// ("3 seeds", "Figure 2", "Run 1", "2\times").
func skippedValue(s stated) bool {
	return s.integer && !s.percent && math.Abs(s.value) <= 10
}

// yearLike reports integers that may be years (1900–2099, no thousands
// separator: "since 2017"). They are checked like any number, since "2000
// steps" is a setting, but one that matches nothing is taken for a year
// and dropped rather than reported.
func yearLike(s stated) bool {
	return s.integer && !s.percent && !s.grouped && s.value >= 1900 && s.value <= 2099
}

// referenceWords precede numbers that name a part of the paper, a run or
// a software version, not a result: "Section 4.2", "Table 3", "Eq. 12",
// "run 12", "seed 42", "Python 3.10".
var referenceWords = map[string]bool{
	"section": true, "sections": true, "sec": true, "secs": true, "table": true, "tables": true, "tab": true,
	"figure": true, "figures": true, "fig": true, "figs": true, "eq": true, "eqs": true, "equation": true,
	"equations": true, "appendix": true, "appendices": true, "app": true, "algorithm": true, "alg": true,
	"line": true, "lines": true, "chapter": true, "theorem": true, "lemma": true, "proposition": true,
	"corollary": true, "definition": true, "run": true, "runs": true, "seed": true, "seeds": true,
	"hypothesis": true, "experiment": true,
	// versions of software
	"python": true, "pytorch": true, "torch": true, "cuda": true, "numpy": true, "version": true, "jax": true,
}

// lengthUnits are TeX units: "3pt", "2em", "1cm" are lengths.
var lengthUnits = map[string]bool{"pt": true, "em": true, "ex": true, "cm": true, "mm": true, "in": true,
	"bp": true, "pc": true, "sp": true, "mu": true, "dd": true, "cc": true}

// lengthCommands follow a factor that makes a length: "0.8\linewidth".
var lengthCommands = []string{`\linewidth`, `\textwidth`, `\columnwidth`, `\hsize`, `\textheight`,
	`\paperwidth`, `\paperheight`, `\baselineskip`, `\parindent`, `\tabcolsep`, `\fill`, `\dimexpr`}

const (
	unicodeMinus = "\u2212"
	unicodeTimes = "\u00d7"
	unicodePM    = "\u00b1"
)

// scan reads every number of the masked text b.
func scan(b []byte) []stated {
	var out []stated
	n := len(b)
	for i := 0; i < n; {
		c := b[i]
		switch {
		case c == '\\':
			j := i + 1
			for j < n && isLetter(b[j]) {
				j++
			}
			if j == i+1 {
				j++
			}
			i = j
		case isLetter(c):
			// A word, digits in it included: L2, run1, fp16, H100.
			for i < n && (isLetter(b[i]) || isDigit(b[i])) {
				i++
			}
		case isDigit(c) || (c == '.' && i+1 < n && isDigit(b[i+1]) && (i == 0 || strings.IndexByte(" \t\n$({&~", b[i-1]) >= 0)):
			s := read(b, i)
			out = append(out, s)
			i = s.end
		default:
			i++
		}
	}
	// "50--60\%", "1.5--2.0x": the first end of a range of percents or
	// ratios is one too.
	for k := len(out) - 2; k >= 0; k-- {
		if !rangeSep[strings.TrimSpace(string(b[out[k].end:out[k+1].start]))] {
			continue
		}
		if out[k+1].percent && !out[k].percent {
			out[k].percent = true
			out[k].integer = false
		}
		if out[k+1].ratio && !out[k].ratio && !out[k].percent {
			out[k].ratio = true
		}
	}
	return out
}

// rangeSep joins the two ends of a range.
var rangeSep = map[string]bool{"-": true, "--": true, "\u2013": true, "to": true, "\\textendash": true, "$-$": true}

// read reads the number whose first digit (or leading decimal point) is
// at i, with its sign, form and context.
func read(b []byte, i int) stated {
	s := stated{start: i}
	n := len(b)

	// What precedes: a sign, or a sign that the number is part of an
	// identifier or an expression.
	before := byte(0)
	if i > 0 {
		before = b[i-1]
	}
	sign := 1.0
	ctx := i // where the number with its sign starts
	switch {
	case before == '-' || before == '+':
		q := byte(0)
		if i >= 2 {
			q = b[i-2]
		}
		switch {
		case isLetter(q) || q == '+' && before == '+':
			s.skip = true // GPT-4, ResNet-50, C++17
		case isDigit(q) || q == '-' || q == ')' || q == ']' || q == '}':
			// a range (0.5-0.9, 1--3) or a subtraction: the number itself
		default:
			if before == '-' {
				sign = -1
			}
			ctx = i - 1
		}
	case i >= 3 && string(b[i-3:i]) == unicodeMinus:
		sign = -1
		ctx = i - 3
	case hasAt(b, i-3, "$-$") && (i < 4 || !isLetter(b[i-4]) && !isDigit(b[i-4])):
		sign = -1 // "$-$0.5": a minus sign typeset as math
		ctx = i - 3
	case before == '.' || before == '_' || before == '^' || before == '@' || before == '#' || before == '!' || before == '\'' || before == ':' || before == '/' && i >= 2 && isLetter(b[i-2]):
		s.skip = true // x\_1, 3.2.1, a^2, colour!60, fig:3, arXiv:2201
	}
	if k := ctx - 1; k >= 0 && b[k] == '{' {
		k = skipBack(b, k-1)
		if k >= 0 && (b[k] == '^' || b[k] == '_') {
			s.skip = true // x_{12}, e^{-3}
		}
	}
	s.start = ctx

	// The digits.
	j := i
	intStart := j
	for j < n && isDigit(b[j]) {
		j++
	}
	intDigits := string(b[intStart:j])
	digits := intDigits
	// Thousands separators: 7,500  7{,}500  7\,500, groups of exactly three.
	if len(intDigits) >= 1 && len(intDigits) <= 3 && intDigits[0] != '0' {
		k := j
		groups := ""
		for {
			var sep int
			switch {
			case k < n && b[k] == ',':
				sep = 1
			case hasAt(b, k, "{,}"):
				sep = 3
			case hasAt(b, k, `\,`):
				sep = 2
			default:
				sep = 0
			}
			if sep == 0 || !threeDigits(b, k+sep) {
				break
			}
			groups += string(b[k+sep : k+sep+3])
			k += sep + 3
		}
		// "10,100,1000" is a list, not ten thousand one hundred.
		if groups != "" && !(k < n && b[k] == ',' && k+1 < n && isDigit(b[k+1])) {
			digits += groups
			j = k
			s.grouped = true
		}
	}
	frac := ""
	if j+1 < n && b[j] == '.' && isDigit(b[j+1]) {
		k := j + 1
		for k < n && isDigit(b[k]) {
			k++
		}
		frac = string(b[j+1 : k])
		j = k
	}
	exp := 0
	hasExp := false
	if j < n && (b[j] == 'e' || b[j] == 'E') {
		k := j + 1
		if k < n && (b[k] == '-' || b[k] == '+') {
			k++
		}
		if k < n && isDigit(b[k]) {
			e := k
			for e < n && isDigit(b[e]) {
				e++
			}
			if e >= n || !isLetter(b[e]) {
				exp, _ = strconv.Atoi(strings.TrimPrefix(string(b[j+1:e]), "+"))
				hasExp = true
				j = e
			}
		}
	}
	mant, _ := strconv.ParseFloat(digits+"."+frac+"0", 64)
	s.sig = sigDigits(digits, frac)
	s.integer = frac == "" && !hasExp
	s.ulp = math.Pow(10, -float64(len(frac)))
	if s.integer && len(digits) >= 4 && s.sig <= 2 {
		// 7,500 for 7,512: a round number of four digits or more is read
		// to two significant digits.
		s.ulp = math.Pow(10, float64(len(digits)-2))
	}

	// Scientific notation: 1\times10^{-3}, $1.5 \cdot 10^{-4}$, 10^{-3}.
	if !hasExp {
		k := skipFill(b, j)
		if m := timesAt(b, k); m > 0 {
			k2 := skipFill(b, k+m)
			if hasAt(b, k2, "10") && !(k2+2 < n && isDigit(b[k2+2])) {
				if e, end, ok := power(b, skipFill(b, k2+2)); ok {
					exp, hasExp, j = e, true, end
					s.integer = false
				}
			}
		}
	}
	if !hasExp && digits == "10" && frac == "" {
		if e, end, ok := power(b, j); ok {
			mant, exp, hasExp, j = 1, e, true, end
			s.integer = false
			s.sig = 1
			s.ulp = 1
		}
	}
	if !hasExp && j < n && b[j] == '^' {
		s.skip = true // 2^{10}: an expression
		j = powerEnd(b, j)
	}
	if hasExp {
		s.integer = false
		s.ulp *= math.Pow(10, float64(exp))
		if frac == "" {
			// A bare power of ten is a setting written exactly ("1e-3" is
			// 0.001, not anything from 0.0005 to 0.0015): one digit more
			// than written is read.
			s.ulp /= 10
		}
	}
	s.value = sign * mant * math.Pow(10, float64(exp))
	s.end = j

	// What follows: percent, ratio, multiplier, unit.
	if k, ok := percentAt(b, j); ok {
		s.percent = true
		s.integer = false
		s.end = k
	} else if k, ok := ratioAt(b, j); ok {
		s.ratio = true // "2\times" stays an integer: counted as small like "2 seeds"
		s.end = k
	} else if j < n && strings.IndexByte("kKMB", b[j]) >= 0 && (j+1 >= n || !isLetter(b[j+1])) && !hasExp {
		mult := map[byte]float64{'k': 1e3, 'K': 1e3, 'M': 1e6, 'B': 1e9}[b[j]]
		s.value *= mult
		s.ulp = math.Pow(10, -float64(len(frac))) * mult
		s.integer = false
		s.end = j + 1
	} else if j < n && isLetter(b[j]) {
		e := j
		for e < n && isLetter(b[e]) {
			e++
		}
		switch w := string(b[j:e]); {
		case lengthUnits[w], w == "st" || w == "nd" || w == "rd" || w == "th":
			s.skip = true // 3pt, 2em; 1st, 10th
		}
	} else if j < n && (b[j] == '_' || hasAt(b, j, `\_`)) {
		s.skip = true // an identifier: 3\_layers
	} else if j+1 < n && b[j] == '.' && isDigit(b[j+1]) {
		s.skip = true // a version or a section number: 2.1.0, 4.2.1
	} else {
		k := skipFill(b, j)
		for _, c := range lengthCommands {
			if hasAt(b, k, c) && (k+len(c) >= n || !isLetter(b[k+len(c)])) {
				s.skip = true // 0.8\linewidth
			}
		}
	}

	s.pm = pmBefore(b, ctx)
	if w := wordBefore(b, ctx); referenceWords[w] {
		s.skip = true
	}
	return s
}

// sigDigits counts significant digits: leading zeros never count,
// trailing zeros of an integer do not ("7500" has two).
func sigDigits(digits, frac string) int {
	all := strings.TrimLeft(digits+frac, "0")
	if frac == "" {
		all = strings.TrimRight(all, "0")
	}
	if all == "" {
		return 1
	}
	return len(all)
}

func hasAt(b []byte, k int, s string) bool {
	return k >= 0 && k+len(s) <= len(b) && string(b[k:k+len(s)]) == s
}

func threeDigits(b []byte, k int) bool {
	return k+3 <= len(b) && isDigit(b[k]) && isDigit(b[k+1]) && isDigit(b[k+2]) && (k+3 == len(b) || !isDigit(b[k+3]))
}

// skipFill skips what LaTeX puts between a number and its sign: spaces,
// ties, math shifts, thin spaces.
func skipFill(b []byte, k int) int {
	for k < len(b) {
		switch {
		case strings.IndexByte(" \t\n~$", b[k]) >= 0:
			k++
		case hasAt(b, k, `\,`) || hasAt(b, k, `\;`) || hasAt(b, k, `\:`) || hasAt(b, k, `\!`) || hasAt(b, k, `\ `):
			k += 2
		default:
			return k
		}
	}
	return k
}

// skipBack is skipFill backwards from k (inclusive); it returns the index
// of the first byte that is not fill, or -1.
func skipBack(b []byte, k int) int {
	for k >= 0 {
		switch {
		case strings.IndexByte(" \t\n~$", b[k]) >= 0:
			k--
		case k >= 1 && b[k-1] == '\\' && strings.IndexByte(",;:! ", b[k]) >= 0:
			k -= 2
		default:
			return k
		}
	}
	return k
}

// timesAt returns the length of a multiplication sign at k, or 0.
func timesAt(b []byte, k int) int {
	for _, t := range []string{`\times`, `\cdot`, unicodeTimes} {
		if hasAt(b, k, t) && (t == unicodeTimes || k+len(t) >= len(b) || !isLetter(b[k+len(t)])) {
			return len(t)
		}
	}
	return 0
}

// power reads "^{-3}", "^-3", "^{−3}" or "^3" at k: the exponent and the
// index past it.
func power(b []byte, k int) (int, int, bool) {
	if k >= len(b) || b[k] != '^' {
		return 0, k, false
	}
	k++
	braced := k < len(b) && b[k] == '{'
	if braced {
		k = skipFill(b, k+1)
	}
	neg := false
	switch {
	case hasAt(b, k, "-"):
		neg, k = true, k+1
	case hasAt(b, k, unicodeMinus):
		neg, k = true, k+len(unicodeMinus)
	case hasAt(b, k, "+"):
		k++
	}
	e := k
	for e < len(b) && isDigit(b[e]) && (braced || e == k) {
		e++
	}
	if e == k {
		return 0, k, false
	}
	x, _ := strconv.Atoi(string(b[k:e]))
	if neg {
		x = -x
	}
	if braced {
		e = skipFill(b, e)
		if e >= len(b) || b[e] != '}' {
			return 0, k, false
		}
		e++
	}
	return x, e, true
}

// powerEnd returns the index past a superscript starting at the '^' at k.
func powerEnd(b []byte, k int) int {
	k++
	if e, ok := group(b, k, '{', '}'); ok {
		return e
	}
	if k < len(b) {
		return k + 1
	}
	return k
}

var percentWord = regexp.MustCompile(`^(?i:percentage[ ~]points?|percent|per[ ~]cent|pp\b|p\.p\.)`)

// percentAt reports a percent sign after a number ending at j: "\%",
// "~\%", "\,\%", "}\%" (after \textbf{95.3}), "{\percent}" (\SI),
// "percent", "percentage points", "pp"; and the index past it.
func percentAt(b []byte, j int) (int, bool) {
	k := j
	for k < len(b) {
		if strings.IndexByte("}{", b[k]) >= 0 {
			k++
			continue
		}
		if hasAt(b, k, `\si{`) { // 95.3~\si{\percent}
			k += len(`\si`)
			continue
		}
		if hasAt(b, k, `\unit{`) {
			k += len(`\unit`)
			continue
		}
		if k2 := skipFill(b, k); k2 > k {
			k = k2
			continue
		}
		break
	}
	switch {
	case hasAt(b, k, `\%`):
		return k + 2, true
	case hasAt(b, k, `\percent`) && (k+8 >= len(b) || !isLetter(b[k+8])):
		e := k + 8
		if e < len(b) && b[e] == '}' {
			e++
		}
		return e, true
	case hasAt(b, k, "%") || hasAt(b, k, "\uff05"):
		return k + 1, true
	}
	if m := percentWord.Find(b[k:]); m != nil && (k+len(m) >= len(b) || !isLetter(b[k+len(m)])) {
		return k + len(m), true
	}
	return j, false
}

var ratioWord = regexp.MustCompile(`^(?i:-?fold\b|times\b)`)

// ratioAt reports a ratio sign after a number ending at j: "\times",
// "$\times$", "×", "x" (attached: "3.2x"), "-fold", " times"; a
// multiplication sign followed by a number is a product, not a ratio.
func ratioAt(b []byte, j int) (int, bool) {
	if j < len(b) && (b[j] == 'x' || b[j] == 'X') && (j+1 >= len(b) || !isLetter(b[j+1]) && !isDigit(b[j+1])) {
		return j + 1, true
	}
	k := j
	for k < len(b) && b[k] == '}' {
		k++
	}
	k = skipFill(b, k)
	if m := timesAt(b, k); m > 0 {
		after := skipFill(b, k+m)
		for after < len(b) && b[after] == '{' {
			after++
		}
		if after < len(b) && (isDigit(b[after]) || b[after] == '.' && after+1 < len(b) && isDigit(b[after+1]) || hasAt(b, after, `\num`)) {
			return j, false
		}
		return k + m, true
	}
	if m := ratioWord.Find(b[k:]); m != nil && (k > j || m[0] == '-') {
		return k + len(m), true
	}
	return j, false
}

// pmBefore reports whether the number starting at i follows "\pm", "\mp",
// "±" or "+/-".
func pmBefore(b []byte, i int) bool {
	k := skipBack(b, i-1)
	for k >= 0 && b[k] == '{' {
		k = skipBack(b, k-1)
	}
	if k < 0 {
		return false
	}
	head := b[:k+1]
	for _, sign := range []string{`\pm`, `\mp`, unicodePM, "+/-", `\textpm`} {
		if bytes.HasSuffix(head, []byte(sign)) {
			return true
		}
	}
	return false
}

// wordBefore is the lower-case word just before the number at i ("Fig. 3"
// gives "fig"), or "".
func wordBefore(b []byte, i int) string {
	k := skipBack(b, i-1)
	for k >= 0 && b[k] == '{' {
		k = skipBack(b, k-1)
	}
	if k >= 0 && b[k] == '.' {
		k--
	}
	e := k + 1
	for k >= 0 && isLetter(b[k]) {
		k--
	}
	if k >= 0 && b[k] == '\\' {
		return "" // a command, not a word
	}
	return strings.ToLower(string(b[k+1 : e]))
}

// lineStarts returns the offsets at which lines of s start.
func lineStarts(s string) []int {
	starts := []int{0}
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			starts = append(starts, i+1)
		}
	}
	return starts
}

// lineOf is the 1-based line of offset p.
func lineOf(starts []int, p int) int {
	return sort.Search(len(starts), func(k int) bool { return starts[k] > p })
}

// parseStated reads the first number of a text as written (Number.Text).
func parseStated(text string) (stated, bool) {
	ss := scan([]byte(text))
	if len(ss) == 0 {
		return stated{}, false
	}
	return ss[0], true
}
