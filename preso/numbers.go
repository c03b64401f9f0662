package preso

import (
	"errors"
	"strconv"
	"strings"

	"foyer/store"
)

// The numbers of a link: per viewing, which slides were seen and for how
// long, and every beacon line for the CSV export.

// SlideTotal is the time a viewing spent on one slide of its snapshot.
type SlideTotal struct {
	// N is the slide's place in the snapshot (1-based).
	N      int
	Title  string
	Millis int64
	// Width is the bar's length in the chart's units (0–100), the longest slide's being 100.
	Width int
}

// Totals adds up a viewing's beacons per slide, in the snapshot's order.
func Totals(slides []store.Slide, times []store.SlideTime) []SlideTotal {
	sum := map[uint64]int64{}
	for _, t := range times {
		sum[t.SlideID] += t.Millis
	}
	var out []SlideTotal
	var top int64
	for i, sl := range slides {
		out = append(out, SlideTotal{N: i + 1, Title: sl.Title, Millis: sum[sl.ID]})
		top = max(top, sum[sl.ID])
	}
	for i := range out {
		if top > 0 {
			out[i].Width = int(out[i].Millis * 100 / top)
		}
	}
	return out
}

// Declared reports whether a viewing's name is only what the visitor typed
// (not a contact they picked or a code verified): whoever reads it must not
// take it for a fact.
func Declared(v store.Viewing) bool { return v.ContactID == 0 && v.Name != "" }

// People counts the people behind a link's viewings as a person would:
// each contact once, however many viewings they had (another browser, a
// day later); each name a visitor gave once (with the email they gave, case
// and spacing aside); and each viewing of someone who gave no name as one
// person, as nothing tells two of them apart.
func People(viewings []store.Viewing) int {
	seen := map[string]bool{}
	n := 0
	for _, v := range viewings {
		key := ""
		switch {
		case v.ContactID != 0:
			key = "c" + strconv.FormatUint(v.ContactID, 10)
		case v.Name != "":
			key = "n" + personKey(v.Name, v.Email)
		default:
			n++
			continue
		}
		if !seen[key] {
			seen[key] = true
			n++
		}
	}
	return n
}

// personKey is a name a visitor gave, with their email, as a person reads
// them: case and spacing aside.
func personKey(name, email string) string {
	return strings.ToLower(strings.Join(strings.Fields(name), " ")) + "\x00" + strings.ToLower(strings.TrimSpace(email))
}

// ViewerNumbers are the numbers of one viewing.
type ViewerNumbers struct {
	store.Viewing
	Slides []SlideTotal
	// Millis is the whole time recorded.
	Millis int64
}

// Numbers returns the numbers of every viewing of link sh, oldest first,
// per slide of the snapshot the viewing last saw (its outline once the link
// ended). The whole time counts every slide, also one a Refresh link took out.
func (s *Service) Numbers(sh store.Share) ([]ViewerNumbers, error) {
	var out []ViewerNumbers
	err := s.eachViewing(sh, func(v store.Viewing, snap store.Snapshot, times []store.SlideTime) {
		vn := ViewerNumbers{Viewing: v, Slides: Totals(snap.Slides, times)}
		for _, t := range times {
			vn.Millis += t.Millis
		}
		out = append(out, vn)
	})
	return out, err
}

// eachViewing calls fn with every viewing of link sh, oldest first, with its
// snapshot (a zero one if it is gone, each read once) and its beacons.
func (s *Service) eachViewing(sh store.Share, fn func(store.Viewing, store.Snapshot, []store.SlideTime)) error {
	viewings, err := s.st.ShareViewings(sh.ID)
	if err != nil {
		return err
	}
	snaps := map[uint64]store.Snapshot{}
	for _, v := range viewings {
		snap, ok := snaps[v.SnapshotID]
		if !ok {
			if snap, err = s.st.Snapshot(v.SnapshotID); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			snaps[v.SnapshotID] = snap
		}
		times, err := s.st.SlideTimes(v.ID)
		if err != nil {
			return err
		}
		fn(v, snap, times)
	}
	return nil
}

// BeaconLine is one stored beacon of a link, for the CSV export.
type BeaconLine struct {
	Viewing store.Viewing
	// N and Title are the slide's place and title in the snapshot (0 and ""
	// for a slide it does not hold).
	N     int
	Title string
	store.SlideTime
}

// BeaconLines returns every beacon of link sh, viewing by viewing.
func (s *Service) BeaconLines(sh store.Share) ([]BeaconLine, error) {
	var out []BeaconLine
	err := s.eachViewing(sh, func(v store.Viewing, snap store.Snapshot, times []store.SlideTime) {
		titles, numbers := map[uint64]string{}, map[uint64]int{}
		for i, sl := range snap.Slides {
			titles[sl.ID], numbers[sl.ID] = sl.Title, i+1
		}
		for _, t := range times {
			out = append(out, BeaconLine{Viewing: v, N: numbers[t.SlideID], Title: titles[t.SlideID], SlideTime: t})
		}
	})
	return out, err
}
