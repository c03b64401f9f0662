// Package receipttest reads the text of a PDF receipt in tests, with
// pdftotext (poppler-utils), the way a person reading the receipt would see it.
package receipttest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Text extracts a PDF's text. Without pdftotext it skips the test, except
// under CI, where the tool must be installed.
func Text(t testing.TB, pdf []byte) string {
	t.Helper()
	bin, err := exec.LookPath("pdftotext")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("CI is set but pdftotext is missing (apt-get install poppler-utils)")
		}
		t.Skip("pdftotext not found (apt-get install poppler-utils)")
	}
	path := filepath.Join(t.TempDir(), "receipt.pdf")
	if err := os.WriteFile(path, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-enc", "UTF-8", path, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v (%d bytes)", err, len(pdf))
	}
	// pdftotext writes non-breaking spaces as plain ones.
	return strings.NewReplacer("\u00a0", " ", "\u202f", " ").Replace(string(out))
}
