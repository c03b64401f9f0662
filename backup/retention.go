package backup

import (
	"errors"
	"sort"
	"time"

	"foyer/store"
)

// DefaultRetention keeps a day of hourly copies, a month of daily ones and
// a year of monthly ones.
var DefaultRetention = store.Retention{Hourly: 24, Daily: 30, Monthly: 12}

// MaxKeep is the most copies of one kind a practice may keep.
const MaxKeep = 1000

// RetentionOf is the practice's retention, or the default.
func RetentionOf(p store.Practice) store.Retention {
	if p.BackupKeep == nil {
		return DefaultRetention
	}
	return *p.BackupKeep
}

// Errors of CheckRetention, one per field.
var (
	ErrKeepRange = errors.New("backup: keep between 0 and 1000 copies")
	ErrKeepNone  = errors.New("backup: keep at least one copy")
)

// CheckRetention refuses a retention that cannot be kept: each count from
// 0 to MaxKeep, and not all 0 (the newest copy is always kept anyway, but a
// policy that says "none" says something false).
func CheckRetention(r store.Retention) error {
	for _, n := range []int{r.Hourly, r.Daily, r.Monthly} {
		if n < 0 || n > MaxKeep {
			return ErrKeepRange
		}
	}
	if r.Hourly+r.Daily+r.Monthly == 0 {
		return ErrKeepNone
	}
	return nil
}

// Keep splits copies into those to keep and those to delete: the newest
// copy of each of the last r.Hourly hours, r.Daily days and r.Monthly
// months that have one (in UTC), and always the newest copy of all.
func Keep(copies []Copy, r store.Retention) (keep, drop []Copy) {
	sorted := append([]Copy(nil), copies...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Time.After(sorted[j].Time) })
	kept := make([]bool, len(sorted))
	if len(sorted) > 0 {
		kept[0] = true
	}
	for _, rule := range []struct {
		n      int
		period func(time.Time) time.Time
	}{
		{r.Hourly, func(t time.Time) time.Time { return t.Truncate(time.Hour) }},
		{r.Daily, func(t time.Time) time.Time { y, m, d := t.Date(); return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }},
		{r.Monthly, func(t time.Time) time.Time { y, m, _ := t.Date(); return time.Date(y, m, 1, 0, 0, 0, 0, time.UTC) }},
	} {
		var last time.Time
		periods := 0
		for i, c := range sorted {
			if periods == rule.n {
				break
			}
			if p := rule.period(c.Time.UTC()); p != last {
				last, periods = p, periods+1
				kept[i] = true
			}
		}
	}
	for i, c := range sorted {
		if kept[i] {
			keep = append(keep, c)
		} else {
			drop = append(drop, c)
		}
	}
	return keep, drop
}
