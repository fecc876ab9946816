package workspace

import (
	"bufio"
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestModules runs `go test ./...` in every other module named by the go.work at the repository's root,
// with this run's -race, -short, -count and what is left of its -timeout. Outside a checkout (the module read from a module
// cache, where there is no go.work) it skips.
func TestModules(t *testing.T) {
	root, err := filepath.Abs("../..")
	require.NoError(t, err)
	work, err := os.ReadFile(filepath.Join(root, "go.work"))
	if err != nil {
		t.Skip("no go.work above the module: not a checkout of the repository")
	}
	if os.Getenv("SCIM_WORKSPACE_NESTED") != "" {
		t.Skip("already inside a workspace run")
	}
	modules := uses(string(work))
	require.NotEmpty(t, modules, "go.work uses no module besides the root")
	for _, m := range modules {
		t.Run(m, func(t *testing.T) {
			args := append([]string{"test"}, passedFlags(t)...)
			cmd := exec.Command("go", append(args, "./...")...)
			cmd.Dir = filepath.Join(root, m)
			cmd.Env = append(os.Environ(), "SCIM_WORKSPACE_NESTED=1")
			out, err := cmd.CombinedOutput()
			for _, line := range strings.Split(string(bytes.TrimSpace(out)), "\n") {
				if strings.HasPrefix(line, "ok ") || strings.HasPrefix(line, "FAIL") || strings.HasPrefix(line, "?") {
					t.Log(line)
				}
			}
			if err != nil {
				t.Fatalf("go %s ./... in %s: %v\n%s", strings.Join(args, " "), m, err, out)
			}
		})
	}
}

// uses returns the directories of go.work's use directives other than the root itself.
func uses(work string) []string {
	var dirs []string
	inBlock := false
	sc := bufio.NewScanner(strings.NewReader(work))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if i := strings.Index(line, "//"); i >= 0 {
			line = strings.TrimSpace(line[:i])
		}
		switch {
		case line == "use (":
			inBlock = true
			continue
		case inBlock && line == ")":
			inBlock = false
			continue
		case strings.HasPrefix(line, "use "):
			line = strings.TrimSpace(strings.TrimPrefix(line, "use"))
		case !inBlock:
			continue
		}
		if line != "" && line != "." && line != "./" {
			dirs = append(dirs, line)
		}
	}
	return dirs
}

// passedFlags repeats the flags of this test run that must also hold for the nested ones.
func passedFlags(t *testing.T) []string {
	var args []string
	if raceEnabled {
		args = append(args, "-race")
	}
	if testing.Short() {
		args = append(args, "-short")
	}
	if countSet() {
		args = append(args, "-count="+flag.Lookup("test.count").Value.String())
	}
	if d, ok := t.Deadline(); ok {
		// Leave this test a minute to report; the nested run gets the rest of the budget.
		if left := time.Until(d) - time.Minute; left > 0 {
			args = append(args, "-timeout="+left.Round(time.Second).String())
		}
	}
	return args
}

// countSet reports whether -count was given explicitly (so -count=1 reaches the nested run and defeats its cache).
func countSet() bool {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "test.count" })
	return set
}
