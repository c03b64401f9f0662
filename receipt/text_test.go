package receipt

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image/png"
	"testing"
	"time"
)

func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"Éloïse Durand":   "Éloïse Durand",
		"Noa כהן":         "Noa ןהכ",
		"כהן 12":          "12 ןהכ",
		"שלום עולם":       "םלוע םולש",
		"Dr (כהן) x":      "Dr (ןהכ) x",
		"王 Wang":          string(missing) + " Wang",
		"Léa 🙂":           "Léa " + string(missing),
		"a\u200fb\x00c":   "abc",
		"ligne 1\nשורה 2": "ligne 1\n2 הרוש",
	} {
		if got := printable(in); got != want {
			t.Errorf("printable(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestWriteNeverFails: any text, and a logo far larger than uploads now
// allow, still make a receipt.
func TestWriteNeverFails(t *testing.T) {
	// The header of a 4096×4096 16-bit PNG: it must be refused from its
	// size alone, before any decoding.
	logo := bytes.NewBuffer([]byte("\x89PNG\r\n\x1a\n"))
	chunk := func(typ string, data []byte) {
		binary.Write(logo, binary.BigEndian, uint32(len(data)))
		crc := crc32.NewIEEE()
		crc.Write([]byte(typ))
		crc.Write(data)
		logo.WriteString(typ)
		logo.Write(data)
		binary.Write(logo, binary.BigEndian, crc.Sum32())
	}
	chunk("IHDR", []byte{0, 0, 0x10, 0, 0, 0, 0x10, 0, 16, 6, 0, 0, 0})
	chunk("IEND", nil)
	if cfg, err := png.DecodeConfig(bytes.NewReader(logo.Bytes())); err != nil || cfg.Width != 4096 {
		t.Fatalf("test logo: %+v %v", cfg, err)
	}
	r := Receipt{Lang: "fr", Title: "Reçu", Number: "Reçu nº 1", Practice: "Cabinet 王 🙂", Logo: logo.Bytes(),
		Lines: []Line{{Label: "Client", Value: "נועה כהן 🙂 王"}, {Label: "\x01", Value: "\uFFFF\U0010FFFF"}},
		Total: Line{Label: "Montant", Value: "80,00 €"}, Footer: "ok", CreatedAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	var out bytes.Buffer
	if err := Write(&out, r); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(out.Bytes(), []byte("%PDF")) {
		t.Fatal("not a PDF")
	}
}
