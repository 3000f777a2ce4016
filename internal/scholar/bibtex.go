package scholar

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Stable, readable BibTeX keys: the first author's family name, the year
// and the first word of the title that is not a stop word, in lower-case
// ASCII, as people write them (power2022grokking). The same paper found by
// any engine gets the same key.

var stopWords = map[string]bool{}

func init() {
	for _, w := range strings.Fields("a an the on of in for and to with from by via at is are towards toward") {
		stopWords[w] = true
	}
}

// ascii folds accents away and keeps letters and digits.
func ascii(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	folded, _, err := transform.String(t, s)
	if err != nil {
		folded = s
	}
	var b strings.Builder
	for _, r := range strings.ToLower(folded) {
		if r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// familyName is the last word of a name ("Ziming Liu" → "liu"; "Liu, Ziming" → "liu").
func familyName(name string) string {
	if i := strings.IndexByte(name, ','); i > 0 {
		return ascii(name[:i])
	}
	f := strings.Fields(name)
	if len(f) == 0 {
		return ""
	}
	return ascii(f[len(f)-1])
}

// key is the paper's citation key.
func (p Paper) key() string {
	author := "anon"
	if len(p.Authors) > 0 {
		if a := familyName(p.Authors[0]); a != "" {
			author = a
		}
	}
	year := "nd"
	if p.Year > 0 {
		year = fmt.Sprint(p.Year)
	}
	word := ""
	for _, w := range strings.Fields(p.Title) {
		if a := ascii(w); a != "" && !stopWords[a] {
			word = a
			break
		}
	}
	return author + year + word
}

var bibKeyRe = regexp.MustCompile(`^\s*@(\w+)\s*\{\s*([^,\s]*)\s*,`)

// withKey gives an engine's BibTeX entry the paper's stable key.
func withKey(entry, key string) string {
	entry = strings.TrimSpace(entry)
	if m := bibKeyRe.FindStringSubmatchIndex(entry); m != nil {
		return entry[:m[4]] + key + entry[m[5]:]
	}
	return ""
}

// bibEscape protects what BibTeX and LaTeX would misread in a field.
func bibEscape(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	r := strings.NewReplacer(`\`, `\textbackslash{}`, "{", `\{`, "}", `\}`, "&", `\&`, "%", `\%`, "$", `\$`, "#", `\#`, "_", `\_`)
	return r.Replace(s)
}

// finish fills Key and BibTeX: the engine's entry with the stable key when
// it gave a usable one, else one generated from the metadata.
func (p Paper) finish(engineBib string) Paper {
	p.Key = p.key()
	if b := withKey(engineBib, p.Key); b != "" {
		p.BibTeX = b
		return p
	}
	p.BibTeX = p.generate()
	return p
}

// generate writes an entry from the metadata: @article with a venue,
// @misc (with the arXiv eprint) without one.
func (p Paper) generate() string {
	kind := "misc"
	var fields [][2]string
	// Braced twice, so bibliography styles keep the title's capitals.
	fields = append(fields, [2]string{"title", "{{" + bibEscape(p.Title) + "}}"})
	if len(p.Authors) > 0 {
		names := make([]string, len(p.Authors))
		for i, a := range p.Authors {
			names[i] = bibEscape(a)
		}
		fields = append(fields, [2]string{"author", strings.Join(names, " and ")})
	}
	switch {
	case p.Venue != "" && !isArXivVenue(p.Venue):
		kind = "article"
		fields = append(fields, [2]string{"journal", bibEscape(p.Venue)})
	case p.ArXiv != "":
		fields = append(fields, [2]string{"howpublished", "arXiv preprint arXiv:" + p.ArXiv})
	}
	if p.Year > 0 {
		fields = append(fields, [2]string{"year", fmt.Sprint(p.Year)})
	}
	if p.ArXiv != "" {
		fields = append(fields, [2]string{"eprint", p.ArXiv}, [2]string{"archivePrefix", "arXiv"})
	}
	if p.DOI != "" {
		fields = append(fields, [2]string{"doi", bibEscape(p.DOI)})
	}
	var b strings.Builder
	fmt.Fprintf(&b, "@%s{%s,\n", kind, p.key())
	for i, f := range fields {
		sep := ","
		if i == len(fields)-1 {
			sep = ""
		}
		fmt.Fprintf(&b, "  %s = {%s}%s\n", f[0], strings.TrimSuffix(strings.TrimPrefix(f[1], "{"), "}"), sep)
	}
	b.WriteString("}")
	return b.String()
}

// isArXivVenue: a preprint server given as the venue.
func isArXivVenue(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "arxiv", "arxiv.org", "arxiv (cornell university)", "corr", "arxiv preprint":
		return true
	}
	return false
}

// normTitle is a title for de-duplication: lower-case letters and digits.
func normTitle(t string) string { return ascii(t) }

// Dedup keeps the first of papers that are the same work: the same DOI,
// arXiv id or normalised title.
func Dedup(papers []Paper) []Paper {
	seen := map[string]bool{}
	var out []Paper
	for _, p := range papers {
		ids := []string{"t:" + normTitle(p.Title)}
		if p.DOI != "" {
			ids = append(ids, "d:"+strings.ToLower(p.DOI))
		}
		if p.ArXiv != "" {
			ids = append(ids, "a:"+p.ArXiv)
		}
		dup := false
		for _, id := range ids {
			dup = dup || seen[id]
		}
		if dup {
			continue
		}
		for _, id := range ids {
			seen[id] = true
		}
		out = append(out, p)
	}
	return out
}
