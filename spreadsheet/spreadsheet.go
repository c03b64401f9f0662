// Package spreadsheet writes CSV that spreadsheets open as it is: UTF-8
// with a byte-order mark (without one, Excel reads it in the system's old
// code page and garbles accents), CRLF line ends (RFC 4180), and cells a
// spreadsheet would take for a formula disarmed.
package spreadsheet

import (
	"encoding/csv"
	"io"
	"strings"
)

// NewWriter writes the byte-order mark to w and returns a CSV writer over it.
func NewWriter(w io.Writer) (*csv.Writer, error) {
	if _, err := io.WriteString(w, "\ufeff"); err != nil {
		return nil, err
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	return cw, nil
}

// Cell keeps a spreadsheet from reading a cell as a formula: one that
// begins with =, +, -, @, a tab or a carriage return begins with an
// apostrophe instead.
func Cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
