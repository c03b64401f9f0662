package spreadsheet

import (
	"strings"
	"testing"
)

func TestCellDisarmsFormulas(t *testing.T) {
	for in, want := range map[string]string{"=SUM(A1)": "'=SUM(A1)", "+33": "'+33", "-1": "'-1", "@x": "'@x", "\tx": "'\tx", "Hello": "Hello", "": ""} {
		if got := Cell(in); got != want {
			t.Errorf("Cell(%q) = %q", in, got)
		}
	}
}

func TestNewWriterMarksUTF8(t *testing.T) {
	var b strings.Builder
	w, err := NewWriter(&b)
	if err != nil {
		t.Fatal(err)
	}
	_ = w.Write([]string{"Élodie", "x"})
	w.Flush()
	if got := b.String(); got != "\ufeffÉlodie,x\r\n" {
		t.Fatalf("%q", got)
	}
}
