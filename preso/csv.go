package preso

import (
	"io"
	"strconv"
	"time"

	"foyer/spreadsheet"
	"foyer/store"
)

// CSVColumns are the columns of a link's CSV export, in order; the README
// says what each holds.
var CSVColumns = []string{"viewing", "viewer", "email", "verification", "slide", "title", "ms", "at"}

// csvTime is how a time is written in the export: RFC 3339 in the
// practice's time zone, with its offset (2026-11-25T11:00:05+01:00).
const csvTime = time.RFC3339

// WriteCSV writes the beacon lines of a link as CSV that a spreadsheet
// opens as it is, French Excel included (package spreadsheet: a byte-order
// mark, so accented names and titles survive; formulas disarmed), each time
// in the practice's zone with its offset, so none shifts by an hour. name
// gives a viewing's viewer as people read them.
func WriteCSV(w io.Writer, lines []BeaconLine, zone *time.Location, name func(store.Viewing) string) error {
	cw, err := spreadsheet.NewWriter(w)
	if err != nil {
		return err
	}
	if err := cw.Write(CSVColumns); err != nil {
		return err
	}
	for _, b := range lines {
		v := b.Viewing
		if err := cw.Write([]string{strconv.FormatUint(v.ID, 10), spreadsheet.Cell(name(v)), spreadsheet.Cell(v.Email), v.Verification,
			strconv.Itoa(b.N), spreadsheet.Cell(b.Title), strconv.FormatInt(b.Millis, 10), b.At.In(zone).Format(csvTime)}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
