package latex

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// DefaultTimeout is the per-command time limit used when Compiler.Timeout is 0.
const DefaultTimeout = 30 * time.Second

// Compiler runs the pdflatex/bibtex tool chain. The zero value is ready to
// use.
type Compiler struct {
	// Timeout bounds each command (each pdflatex pass and bibtex run
	// separately); the whole process group is killed when it expires.
	// 0 means DefaultTimeout.
	Timeout time.Duration
	// PDFLatex and BibTeX are the binaries to run, looked up on PATH unless
	// they contain a path separator. Empty means "pdflatex" and "bibtex".
	PDFLatex, BibTeX string
}

func (c Compiler) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return DefaultTimeout
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// lookBinary resolves a binary, with an installation hint in the error.
func lookBinary(name, pkg string) (string, error) {
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("latex: %s not found on PATH: install %s", name, pkg)
	}
	return p, nil
}

// texEnv makes TeX write unwrapped log lines and wide error contexts, which
// keeps ParseLog's job simple and gives the LLM whole source lines.
var texEnv = []string{"max_print_line=10000", "error_line=254", "half_error_line=238"}

// errTimeout is returned by run when the command exceeded its time limit.
var errTimeout = errors.New("timed out")

// run executes name args in dir with a timeout, killing the whole process
// group when the timeout expires or ctx is cancelled. It returns the combined
// output and the exit code. A non-zero exit is not an error; err is set only
// when the command could not run, timed out (errTimeout) or ctx ended.
func run(ctx context.Context, timeout time.Duration, dir string, env []string, name string, args ...string) (string, int, error) {
	tctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(tctx, name, args...)
	cmd.Dir = dir
	if len(env) > 0 {
		cmd.Env = append(os.Environ(), env...)
	}
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	cmd.Stdin = nil // /dev/null: never wait for terminal input
	setProcessGroup(cmd)
	cmd.WaitDelay = 2 * time.Second
	err := cmd.Run()
	if ctx.Err() != nil {
		return out.String(), -1, ctx.Err()
	}
	if tctx.Err() != nil {
		return out.String(), -1, errTimeout
	}
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return out.String(), ee.ExitCode(), nil
		}
		return out.String(), -1, err
	}
	return out.String(), 0, nil
}

// staleExts are the auxiliary outputs removed before the first pass.
var staleExts = []string{".aux", ".bbl", ".blg", ".log", ".pdf", ".out", ".toc", ".lof", ".lot", ".fls", ".synctex.gz"}

const logTailLines = 40

func tailLines(s string, n int) string {
	s = strings.TrimRight(s, "\n")
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Compile builds texFile (a file name relative to latexDir, e.g.
// "template.tex") into a PDF and copies it to outPDF (any path; its folder is
// created if needed).
//
// It checks that pdflatex and bibtex are installed, removes stale outputs
// (.aux, .bbl, .blg, .log, .pdf, ...) and the .bib files written by the
// document's filecontents blocks (filecontents never overwrites an existing
// file, so a stale copy would hide edits), then runs in latexDir:
//
//	pdflatex -interaction=nonstopmode -file-line-error <texFile>
//	bibtex <base>        (only when the .aux has a \bibdata line)
//	pdflatex -interaction=nonstopmode -file-line-error <texFile>
//	pdflatex -interaction=nonstopmode -file-line-error <texFile>
//
// each under Timeout. If a pass times out, or the first pass produces no PDF
// (a fatal error), or after the final pass there is no PDF or the log has "!"
// errors, it returns a *CompileError naming the failing stage with the parsed
// errors and the source lines they refer to. A PDF that pdflatex wrote
// despite errors after the first pass is still copied to outPDF (the
// CompileError's PDFProduced says so). BibTeX errors (not warnings) do not
// stop the build; when they are the only problem the PDF is copied too and
// the *CompileError has Stage "bibtex". Other failures (missing binaries,
// unreadable files, cancelled ctx) are returned as plain errors.
func (c Compiler) Compile(ctx context.Context, latexDir, texFile, outPDF string) error {
	pdflatex, err := lookBinary(orDefault(c.PDFLatex, "pdflatex"), "texlive-latex-base")
	if err != nil {
		return err
	}
	bibtex, err := lookBinary(orDefault(c.BibTeX, "bibtex"), "texlive-binaries (bibtex)")
	if err != nil {
		return err
	}
	latexDir, err = filepath.Abs(latexDir)
	if err != nil {
		return err
	}
	if filepath.IsAbs(texFile) {
		if texFile, err = filepath.Rel(latexDir, texFile); err != nil {
			return err
		}
	}
	srcBytes, err := os.ReadFile(filepath.Join(latexDir, texFile))
	if err != nil {
		return fmt.Errorf("latex: %w", err)
	}
	src := string(srcBytes)
	texName := filepath.Base(texFile)
	base := strings.TrimSuffix(texFile, filepath.Ext(texFile))
	pathOf := func(ext string) string { return filepath.Join(latexDir, base+ext) }

	for _, ext := range staleExts {
		if err := os.Remove(pathOf(ext)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("latex: removing stale output: %w", err)
		}
	}
	for _, b := range findFilecontents(src) {
		if filepath.IsLocal(b.name) && strings.EqualFold(filepath.Ext(b.name), ".bib") {
			if err := os.Remove(filepath.Join(latexDir, b.name)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("latex: removing stale %s: %w", b.name, err)
			}
		}
	}

	newErr := func(stage string, errs []LogError, tail string) *CompileError {
		return &CompileError{Stage: stage, Errors: errs, LogTail: tail, texName: texName, source: strings.Split(src, "\n")}
	}
	readLog := func() string {
		b, _ := os.ReadFile(pathOf(".log"))
		return string(b)
	}
	exists := func(p string) bool {
		fi, err := os.Stat(p)
		return err == nil && fi.Mode().IsRegular() && fi.Size() > 0
	}
	timeout := c.timeout()
	latexPass := func(stage string) (*CompileError, error) {
		out, _, err := run(ctx, timeout, latexDir, texEnv, pdflatex, "-interaction=nonstopmode", "-file-line-error", texFile)
		if errors.Is(err, errTimeout) {
			log := readLog()
			errs := parseLog(log)
			msgs := []LogError{{Message: fmt.Sprintf("pdflatex was killed after %s: the document probably loops forever "+
				"(e.g. a recursive macro) or waits for input", timeout)}}
			for _, e := range errs {
				msgs = append(msgs, e.LogError)
			}
			tail := log
			if tail == "" {
				tail = out
			}
			return newErr(stage, msgs, tailLines(tail, logTailLines)), nil
		}
		if err != nil {
			return nil, fmt.Errorf("latex: running pdflatex: %w", err)
		}
		return nil, nil
	}
	// finalCheck inspects the log and PDF after a pass.
	finalCheck := func(stage string, pre []LogError) *CompileError {
		log := readLog()
		entries := parseLog(log)
		bad := !exists(pathOf(".pdf"))
		errs := append([]LogError(nil), pre...)
		for _, e := range entries {
			bad = bad || e.fatal
			errs = append(errs, e.LogError)
		}
		if !bad {
			return nil
		}
		return newErr(stage, errs, tailLines(log, logTailLines))
	}

	// Pass 1.
	if ce, err := latexPass("pdflatex (pass 1)"); err != nil || ce != nil {
		return errOrCompile(ce, err)
	}
	if !exists(pathOf(".pdf")) {
		if ce := finalCheck("pdflatex (pass 1)", nil); ce != nil {
			return ce
		}
	}

	// BibTeX, when the document has a bibliography.
	var bibErrs []LogError
	bibTail := ""
	if aux, _ := os.ReadFile(pathOf(".aux")); bytes.Contains(aux, []byte(`\bibdata`)) {
		out, code, err := run(ctx, timeout, latexDir, nil, bibtex, filepath.Base(base))
		switch {
		case errors.Is(err, errTimeout):
			bibErrs = append(bibErrs, LogError{Message: fmt.Sprintf("bibtex was killed after %s", timeout)})
		case err != nil:
			return fmt.Errorf("latex: running bibtex: %w", err)
		default:
			genBib := func(name string) string {
				b, _ := os.ReadFile(filepath.Join(latexDir, name))
				return string(b)
			}
			bibErrs = parseBibtex(out, src, texName, genBib)
			if len(bibErrs) == 0 && code >= 2 && !strings.Contains(out, `I found no \citation commands`) {
				bibErrs = append(bibErrs, LogError{Message: fmt.Sprintf("bibtex exited with status %d", code)})
			}
		}
		bibTail = tailLines(out, logTailLines)
	}

	// keepPDF copies a PDF that pdflatex wrote despite errors (nonstopmode
	// goes on past most of them): a PDF with problems is still a paper.
	keepPDF := func(ce *CompileError) error {
		if exists(pathOf(".pdf")) {
			if err := copyFile(pathOf(".pdf"), outPDF); err != nil {
				return err
			}
			ce.pdfWritten = true
		}
		return ce
	}

	// Passes 2 and 3.
	for _, stage := range []string{"pdflatex (pass 2)", "pdflatex (pass 3)"} {
		if ce, err := latexPass(stage); err != nil || ce != nil {
			if err != nil {
				return err
			}
			ce.Errors = append(bibErrs, ce.Errors...)
			return keepPDF(ce)
		}
	}
	if ce := finalCheck("pdflatex (pass 3)", bibErrs); ce != nil {
		return keepPDF(ce)
	}

	if err := copyFile(pathOf(".pdf"), outPDF); err != nil {
		return err
	}
	if len(bibErrs) > 0 {
		ce := newErr("bibtex", bibErrs, bibTail)
		// Undefined citations are the visible consequence of BibTeX errors.
		for _, e := range parseLog(readLog()) {
			ce.Errors = append(ce.Errors, e.LogError)
		}
		ce.pdfWritten = true
		return ce
	}
	return nil
}

func errOrCompile(ce *CompileError, err error) error {
	if err != nil {
		return err
	}
	return ce
}

// copyFile copies src to dst atomically (via a temporary file in dst's
// folder). Copying a file onto itself is a no-op.
func copyFile(src, dst string) error {
	if dst == "" {
		return errors.New("latex: empty output PDF path")
	}
	as, _ := filepath.Abs(src)
	ad, _ := filepath.Abs(dst)
	if as == ad {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(ad), 0o755); err != nil {
		return fmt.Errorf("latex: %w", err)
	}
	in, err := os.Open(src)
	if err != nil {
		return fmt.Errorf("latex: %w", err)
	}
	defer in.Close()
	tmp, err := os.CreateTemp(filepath.Dir(ad), ".pdf-*")
	if err != nil {
		return fmt.Errorf("latex: %w", err)
	}
	if _, err := io.Copy(tmp, in); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return fmt.Errorf("latex: copying PDF: %w", err)
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("latex: %w", err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("latex: %w", err)
	}
	if err := os.Rename(tmp.Name(), ad); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("latex: %w", err)
	}
	return nil
}

// Chktex runs `chktex -q -n2 -n24 -n13 -n1 <file>` on texPath (from the
// file's folder) and returns its warnings, one element per warning: the
// "Warning N in file line L: message" header followed, on the next lines, by
// the offending source line and chktex's ^ marker line. chktex exits non-zero
// when it finds warnings; that is not an error. A missing chktex binary or
// input file is an error.
func Chktex(ctx context.Context, texPath string) ([]string, error) {
	bin, err := lookBinary("chktex", "chktex")
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(texPath); err != nil {
		return nil, fmt.Errorf("latex: chktex: %w", err)
	}
	dir, file := filepath.Split(texPath)
	if dir == "" {
		dir = "."
	}
	cmd := exec.CommandContext(ctx, bin, "-q", "-n2", "-n24", "-n13", "-n1", file)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return nil, fmt.Errorf("latex: running chktex: %w", err)
	}
	var warnings []string
	for _, l := range splitLogLines(stdout.String()) {
		if isChktexHeader(l) || len(warnings) == 0 {
			if strings.TrimSpace(l) != "" {
				warnings = append(warnings, strings.TrimRight(l, " "))
			}
			continue
		}
		if strings.TrimSpace(l) == "" {
			continue
		}
		warnings[len(warnings)-1] += "\n" + strings.TrimRight(l, " ")
	}
	if len(warnings) == 0 && err != nil && stderr.Len() > 0 {
		return nil, fmt.Errorf("latex: chktex: %s", strings.TrimSpace(stderr.String()))
	}
	return warnings, nil
}

func isChktexHeader(l string) bool {
	for _, p := range []string{"Warning ", "Error ", "Message "} {
		if strings.HasPrefix(l, p) && strings.Contains(l, " line ") {
			return true
		}
	}
	return false
}

// PDFText runs `pdftotext -layout <pdf> -` and returns the extracted text.
func PDFText(ctx context.Context, pdfPath string) (string, error) {
	bin, err := lookBinary("pdftotext", "poppler-utils")
	if err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, bin, "-layout", pdfPath, "-")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("latex: pdftotext %s: %v: %s", pdfPath, err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// PDFPages returns the page count of a PDF, read from `pdfinfo <pdf>`.
func PDFPages(ctx context.Context, pdfPath string) (int, error) {
	bin, err := lookBinary("pdfinfo", "poppler-utils")
	if err != nil {
		return 0, err
	}
	cmd := exec.CommandContext(ctx, bin, pdfPath)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("latex: pdfinfo %s: %v: %s", pdfPath, err, strings.TrimSpace(stderr.String()))
	}
	for _, l := range strings.Split(stdout.String(), "\n") {
		if rest, ok := strings.CutPrefix(l, "Pages:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(rest))
			if err != nil {
				return 0, fmt.Errorf("latex: pdfinfo: bad page count %q", rest)
			}
			return n, nil
		}
	}
	return 0, fmt.Errorf("latex: pdfinfo %s: no Pages line in output", pdfPath)
}
