package receipt

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// layoutText reads a PDF as pdftotext -layout lays it out, one string a line.
func layoutText(t *testing.T, pdf []byte) []string {
	t.Helper()
	bin, err := exec.LookPath("pdftotext")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("CI is set but pdftotext is missing")
		}
		t.Skip("pdftotext not found")
	}
	path := filepath.Join(t.TempDir(), "r.pdf")
	if err := os.WriteFile(path, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "-layout", "-enc", "UTF-8", path, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(string(out), "\n")
}

// A label longer than its column wraps inside it instead of running into the
// value, and a Below value (a SHA-256) has a line of its own, whole.
func TestLongLabelsWrapAndBelowValuesStandAlone(t *testing.T) {
	const sum = "d76bf3d7cac010bd1e28ba9833a78c107f6207bab4ec5c47f0beaf14ad3cecc6"
	var buf bytes.Buffer
	err := Write(&buf, Receipt{Lang: "fr", Title: "Certificat", Practice: "Cabinet", CreatedAt: time.Unix(0, 0),
		Lines: []Line{
			{Label: "Nom saisi par le signataire", Value: "Bob Smith"},
			{Label: "SHA-256 des diapositives signées", Value: sum, Below: true},
		}})
	if err != nil {
		t.Fatal(err)
	}
	lines := layoutText(t, buf.Bytes())
	var labelLine, sumLine string
	for _, l := range lines {
		if strings.Contains(l, "Bob Smith") {
			labelLine = l
		}
		if strings.Contains(l, sum[:16]) {
			sumLine = l
		}
	}
	if !strings.Contains(labelLine, "Nom saisi par le") || strings.Contains(labelLine, "signataire") {
		t.Errorf("the long label does not wrap in its column: %q\n%s", labelLine, strings.Join(lines, "\n"))
	}
	if strings.TrimSpace(sumLine) != sum {
		t.Errorf("the hash does not stand whole on its own line: %q\n%s", sumLine, strings.Join(lines, "\n"))
	}
}
