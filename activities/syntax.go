package activities

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aiscientist/aiscientist/internal/pyrun"
)

// syntaxCheckTimeout bounds one py_compile; it parses, it does not run.
const syntaxCheckTimeout = time.Minute

// checkPython compiles every edited Python file with `python -m py_compile`
// and returns the compiler's complaints for the model, or "" when all
// compile. Running code that cannot even be parsed would waste an attempt
// (and, on a GPU host, its queue slot); the model fixes it in the same turn.
func (a *Activities) checkPython(ctx context.Context, template, dir string, changed []string) (string, error) {
	var files []string
	for _, f := range changed {
		if strings.HasSuffix(f, ".py") {
			files = append(files, f)
		}
	}
	if len(files) == 0 {
		return "", nil
	}
	t, err := a.template(template)
	if err != nil {
		return "", err
	}
	py, err := a.python(ctx, t.Name, t.Dir)
	if err != nil {
		return "", err
	}
	// Byte code goes to a scratch folder, not into the paper's workspace.
	cache, err := os.MkdirTemp("", "aisci-pycompile-")
	if err != nil {
		return "", fmt.Errorf("syntax check: %w", err)
	}
	defer os.RemoveAll(cache)
	var problems []string
	for _, f := range files {
		var out strings.Builder
		r, err := pyrun.Run(ctx, pyrun.Spec{
			Python: py, Dir: dir, Args: []string{"-m", "py_compile", filepath.FromSlash(f)},
			Env: []string{"PYTHONPYCACHEPREFIX=" + cache}, Timeout: syntaxCheckTimeout, Stderr: &out, Stdout: &out,
		})
		if err != nil {
			return "", fmt.Errorf("syntax check of %s: %w", f, err)
		}
		if r.ExitCode != 0 || r.TimedOut {
			msg := strings.TrimSpace(out.String())
			if len(msg) > pyrun.TailBytes {
				msg = "..." + msg[len(msg)-pyrun.TailBytes:]
			}
			problems = append(problems, fmt.Sprintf("%s does not compile:\n%s", f, msg))
		}
	}
	return strings.Join(problems, "\n\n"), nil
}

func firstLineOf(s string) string { return strings.SplitN(s, "\n", 2)[0] }
