package preso

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	"foyer/store"
)

// The export opens as it is in a spreadsheet: a byte-order mark before
// UTF-8 text, times in the practice's zone with its offset (summer and
// winter), formulas disarmed; and it reads back as the lines it came from.
func TestWriteCSV(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	v := store.Viewing{ID: 7, Name: "Élodie Hérault", Email: "=cmd@example.org", Verification: "sms"}
	lines := []BeaconLine{
		{Viewing: v, N: 1, Title: "Prévoyance", SlideTime: store.SlideTime{SlideID: 3, Millis: 4200, At: time.Date(2026, 1, 15, 9, 0, 5, 0, time.UTC)}},
		{Viewing: v, N: 2, Title: "+ de détails", SlideTime: store.SlideTime{SlideID: 4, Millis: 800, At: time.Date(2026, 7, 15, 9, 0, 5, 0, time.UTC)}},
	}
	var buf bytes.Buffer
	if err := WriteCSV(&buf, lines, paris, func(v store.Viewing) string { return v.Name }); err != nil {
		t.Fatal(err)
	}
	raw := buf.String()
	if !strings.HasPrefix(raw, "\ufeffviewing,") {
		t.Fatalf("no byte-order mark: %q", raw[:12])
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(raw, "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{CSVColumns,
		{"7", "Élodie Hérault", "'=cmd@example.org", "sms", "1", "Prévoyance", "4200", "2026-01-15T10:00:05+01:00"},
		{"7", "Élodie Hérault", "'=cmd@example.org", "sms", "2", "'+ de détails", "800", "2026-07-15T11:00:05+02:00"},
	}
	if len(rows) != len(want) {
		t.Fatalf("rows %q", rows)
	}
	for i := range want {
		if strings.Join(rows[i], "|") != strings.Join(want[i], "|") {
			t.Errorf("row %d: %q, want %q", i, rows[i], want[i])
		}
	}
}
