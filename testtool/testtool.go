// Package testtool finds the programs some tests run beside Foyer (Pebble,
// versitygw). Without one those tests are skipped with a message saying how
// to install it, except under CI, where they must run: .ci/run installs them.
package testtool

import (
	"go/build"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Find returns the path of the program name: from the environment variable
// env, the PATH, or the bin directory go install writes to (GOBIN, or
// GOPATH/bin). install is the command that installs it.
func Find(t testing.TB, name, env, install string) string {
	t.Helper()
	if p := os.Getenv(env); p != "" {
		return p
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		gopath = build.Default.GOPATH
	}
	dirs := []string{os.Getenv("GOBIN")}
	for _, p := range filepath.SplitList(gopath) {
		dirs = append(dirs, filepath.Join(p, "bin"))
	}
	for _, dir := range dirs {
		if dir == "" {
			continue
		}
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("CI is set but %s was not found: %s (or set %s)", name, install, env)
	}
	t.Skipf("tests that need %s skipped: it was not found (%s, or set %s)", name, install, env)
	return ""
}
