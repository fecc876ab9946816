package workspace

import (
	"bufio"
	"bytes"
	"flag"
	"io/fs"
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
	require.NoError(t, readInputs(root))
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

// readInputs makes every file of the checkout and the environment the nested runs see part of this test's
// cache key. The go command caches a passing test by the files and variables the test itself opened, stat'ed or
// read (not those of its child processes): without this, after a change that breaks a nested module's test,
// `go test ./...` would answer "ok (cached)". Opening a directory records the size and modification time of each
// of its entries, so walking every directory covers every file; the root module's files are walked too, since
// the nested modules build against them.
func readInputs(root string) error {
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if inherited(name) {
			os.Getenv(name)
		}
	}
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != root && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir // .git, .cache: not inputs of the tests
		}
		return nil
	})
}

// inherited reports whether the environment variable name may change what a nested test does: the tests' own
// settings (SCIM_…, SQLSTORE_…, DATABASE_URL) and the go command's (GO…, CGO_…). Others (PWD, SHLVL, …) would only
// defeat the cache.
func inherited(name string) bool {
	for _, p := range []string{"SCIM", "SQLSTORE", "DATABASE_URL", "GO", "CGO_"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
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
