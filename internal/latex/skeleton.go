package latex

import (
	"regexp"
	"strings"
)

// placeholderAliases are other spellings of the section placeholders that
// templates use (the reference system's templates write INTRO HERE); each
// is rewritten to the one the write-up fills.
var placeholderAliases = map[string]string{
	"INTRO HERE":         "INTRODUCTION HERE",
	"CONCLUSION HERE":    "CONCLUSIONS HERE",
	"RELATED WORKS HERE": "RELATED WORK HERE",
	"EXPERIMENTS HERE":   "EXPERIMENTAL SETUP HERE",
	"SETUP HERE":         "EXPERIMENTAL SETUP HERE",
}

var (
	figureEnvRe     = regexp.MustCompile(`(?s)\\begin\{(figure\*?)\}.*?\\end\{(figure\*?)\}`)
	captionHereRe   = regexp.MustCompile(`\\caption\{\s*[A-Z][A-Z ,.]* HERE\s*\}`)
	exampleFigureRe = regexp.MustCompile(`(?m)^[ \t]*%[^\n]*EXAMPLE FIGURE[^\n]*\n`)
)

// NormalizeSkeleton prepares a template's LaTeX skeleton for the write-up:
// placeholder lines in other spellings become the ones the write-up fills,
// and example figures (a figure whose caption is a placeholder such as
// "PLEASE FILL IN CAPTION HERE", with its "% EXAMPLE FIGURE" comment) are
// removed, since the writer places the real figures where they belong. It
// returns the figure files the removed examples showed.
func NormalizeSkeleton(tex string) (string, []string) {
	lines := strings.Split(tex, "\n")
	for i, l := range lines {
		if to, ok := placeholderAliases[strings.TrimSpace(l)]; ok {
			lines[i] = strings.Replace(l, strings.TrimSpace(l), to, 1)
		}
	}
	tex = strings.Join(lines, "\n")
	var figures []string
	tex = figureEnvRe.ReplaceAllStringFunc(tex, func(env string) string {
		if !captionHereRe.MatchString(env) {
			return env
		}
		for _, m := range includeGraphicsRe.FindAllStringSubmatch(env, -1) {
			figures = append(figures, strings.TrimSpace(m[1]))
		}
		return ""
	})
	tex = exampleFigureRe.ReplaceAllString(tex, "")
	return tex, figures
}

// SectionPlaceholders are the lines of a skeleton the write-up fills, one
// for each part of the paper (the title is \title{TITLE HERE}).
var SectionPlaceholders = []string{"ABSTRACT HERE", "INTRODUCTION HERE", "RELATED WORK HERE", "BACKGROUND HERE",
	"METHOD HERE", "EXPERIMENTAL SETUP HERE", "RESULTS HERE", "CONCLUSIONS HERE"}

// HasBibBlock reports whether tex embeds its bibliography in a
// filecontents block writing a .bib file.
func HasBibBlock(tex string) bool {
	_, ok := mainBibBlock(tex)
	return ok
}
