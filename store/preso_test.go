package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func TestPresoIndexesFollowContacts(t *testing.T) {
	s := openTest(t)
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	p := Preso{Title: "Plan", OwnerID: 1, ContactIDs: []uint64{7, 8}, CreatedAt: now}
	p.AddSlide(Slide{Kind: SlideContent, Title: "One"})
	if err := s.CreatePreso(&p, 1); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.ClientPresos(8); len(got) != 1 || got[0].ID != p.ID {
		t.Fatalf("client 8: %+v", got)
	}
	if _, err := s.UpdatePreso(p.ID, now, func(p *Preso) ([]PresoEvent, error) {
		p.ContactIDs = []uint64{7}
		return []PresoEvent{{At: now, Kind: "handed_over", StaffID: 1, OtherID: 2}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.ClientPresos(8); len(got) != 0 {
		t.Fatalf("client 8 after removal: %+v", got)
	}
	if got, _ := s.ClientPresos(7); len(got) != 1 {
		t.Fatalf("client 7: %+v", got)
	}
	// A refused change saves nothing.
	if _, err := s.UpdatePreso(p.ID, now, func(p *Preso) ([]PresoEvent, error) {
		p.Title = "lost"
		return nil, ErrStale
	}); !errors.Is(err, ErrStale) {
		t.Fatal(err)
	}
	if got, _ := s.Preso(p.ID); got.Title != "Plan" {
		t.Fatalf("title after a refused change: %q", got.Title)
	}
	act, _ := s.PresoActivity(p.ID)
	if len(act) != 2 || act[0].Kind != "handed_over" || act[1].Kind != "created" {
		t.Fatalf("activity: %+v", act)
	}
}

func TestSnapshotFreezesIncludedSlides(t *testing.T) {
	s := openTest(t)
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	p := Preso{Title: "Plan", OwnerID: 1, CreatedAt: now}
	p.AddSlide(Slide{Title: "In"})
	p.AddSlide(Slide{Title: "Out", Excluded: true})
	if err := s.CreatePreso(&p, 1); err != nil {
		t.Fatal(err)
	}
	a, err := s.SaveSnapshot(p.ID, now)
	if err != nil {
		t.Fatal(err)
	}
	s.UpdatePreso(p.ID, now, func(p *Preso) ([]PresoEvent, error) { p.Slides[0].Title = "Changed"; return nil, nil })
	b, _ := s.SaveSnapshot(p.ID, now)
	got, _ := s.Snapshot(a.ID)
	if len(got.Slides) != 1 || got.Slides[0].Title != "In" || got.SHA256 == "" || got.SHA256 == b.SHA256 {
		t.Fatalf("snapshots: %+v / %+v", got, b)
	}
}

func TestBeaconsAreBatchedAndBoundToTheirShare(t *testing.T) {
	s := openTest(t)
	start := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	v := Viewing{ShareID: 5, PresoID: 1, Name: "Mia", Verification: "none", StartedAt: start}
	if err := s.StartViewing(&v, "tok-A"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordBeacon(Beacon{Token: "tok-A", ShareID: 6, SlideID: 1, Millis: 10, At: start}); !errors.Is(err, ErrNotLive) {
		t.Fatalf("beacon through another share: %v", err)
	}
	if _, err := s.RecordBeacon(Beacon{Token: "nope", ShareID: 5, SlideID: 1, Millis: 10, At: start}); !errors.Is(err, ErrNotLive) {
		t.Fatalf("unknown viewing: %v", err)
	}
	// 200 beacons of a second each, arriving together 200 s into the viewing.
	last := start.Add(200 * time.Second)
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			if _, err := s.RecordBeacon(Beacon{Token: "tok-A", ShareID: 5, SlideID: uint64(i%3 + 1), Millis: 1000, At: last}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	times, _ := s.SlideTimes(v.ID)
	if len(times) != 200 {
		t.Fatalf("%d beacons stored", len(times))
	}
	if vs, _ := s.ShareViewings(5); len(vs) != 1 || !vs[0].LastAt.Equal(last) || vs[0].CreditedMillis != 200_000 {
		t.Fatalf("viewings: %+v", vs)
	}
	if due, _ := s.EndedViewings(last); len(due) != 0 {
		t.Fatalf("ended before its last beacon: %d", len(due))
	}
	due, _ := s.EndedViewings(last.Add(time.Minute))
	if len(due) != 1 {
		t.Fatalf("ended viewings: %d", len(due))
	}
	if err := s.MarkViewingNotified(v.ID); err != nil {
		t.Fatal(err)
	}
	if due, _ := s.EndedViewings(last.Add(time.Hour)); len(due) != 0 {
		t.Fatal("reported twice")
	}
	// The viewer comes back later: the time counts, but the viewing had its report.
	if ms, err := s.RecordBeacon(Beacon{Token: "tok-A", ShareID: 5, SlideID: 1, Millis: 5000, At: last.Add(time.Hour)}); ms != 5000 || err != nil {
		t.Fatalf("beacon after the report: %d %v", ms, err)
	}
	if due, _ := s.EndedViewings(last.Add(2 * time.Hour)); len(due) != 0 {
		t.Fatal(fmt.Sprint("reported again after coming back: ", len(due)))
	}
}

// A viewing's time cannot run faster than the clock: beacons sent in a burst,
// or from two tabs, count for the time that passed (plus BeaconSlack).
func TestBeaconsCannotOutrunTheClock(t *testing.T) {
	s := openTest(t)
	start := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	v := Viewing{ShareID: 5, PresoID: 1, Verification: "none", StartedAt: start}
	if err := s.StartViewing(&v, "tok-A"); err != nil {
		t.Fatal(err)
	}
	// 30 beacons of an hour each within the first second.
	for i := range 30 {
		at := start.Add(time.Duration(i+1) * time.Second / 30)
		if _, err := s.RecordBeacon(Beacon{Token: "tok-A", ShareID: 5, SlideID: 1, Millis: 3_600_000, At: at}); err != nil {
			t.Fatal(err)
		}
	}
	total := func() (ms int64) {
		times, _ := s.SlideTimes(v.ID)
		for _, t := range times {
			ms += t.Millis
		}
		return ms
	}
	if got := total(); got < 1000 || got > (time.Second+BeaconSlack).Milliseconds() {
		t.Fatalf("30 beacons in a second credited %d ms", got)
	}
	// A minute later, two tabs each say they were open 50 s: 60 s passed.
	before := total()
	at := start.Add(61 * time.Second)
	for range 2 {
		if _, err := s.RecordBeacon(Beacon{Token: "tok-A", ShareID: 5, SlideID: 1, Millis: 50_000, At: at}); err != nil {
			t.Fatal(err)
		}
	}
	if got := total(); got > (61*time.Second + BeaconSlack).Milliseconds() {
		t.Fatalf("two tabs credited %d ms over 61 s (%d before)", got, before)
	}
	// A viewing stored before the total was kept is bounded by its lines.
	old := Viewing{ShareID: 5, PresoID: 1, Verification: "none", StartedAt: start}
	if err := s.StartViewing(&old, "tok-B"); err != nil {
		t.Fatal(err)
	}
	s.db.Update(func(tx *bolt.Tx) error {
		b, _ := tx.Bucket(bucketSlideTimes).CreateBucketIfNotExists(itob(old.ID))
		raw, _ := json.Marshal(SlideTime{SlideID: 1, Millis: 60_000, At: start.Add(time.Minute)})
		return b.Put(itob(1), raw)
	})
	if ms, _ := s.RecordBeacon(Beacon{Token: "tok-B", ShareID: 5, SlideID: 1, Millis: 50_000, At: start.Add(61 * time.Second)}); ms > 3000 {
		t.Fatalf("old viewing credited %d ms more", ms)
	}
	// An honest beacon after a pause gets all its time.
	if ms, _ := s.RecordBeacon(Beacon{Token: "tok-A", ShareID: 5, SlideID: 1, Millis: 30_000, At: at.Add(31 * time.Second)}); ms != 30_000 {
		t.Fatalf("honest beacon credited %d ms", ms)
	}
}

// Deleting a preso removes it, its index entries, snapshots and the images
// only it used; an image another preso also uses stays.
func TestDeletePresoKeepsImagesInUse(t *testing.T) {
	s := openTest(t)
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	shared, _ := s.PutSlideImage([]byte("shared image"))
	own, _ := s.PutSlideImage([]byte("own image"))
	p := Preso{Title: "Plan", OwnerID: 1, ContactIDs: []uint64{7}, CreatedAt: now}
	p.AddSlide(Slide{Kind: SlideContent, Title: "One", Image: shared, ImageType: "image/png"})
	p.AddSlide(Slide{Kind: SlideContent, Title: "Two", Image: own, ImageType: "image/png"})
	other := Preso{Title: "Other", OwnerID: 1, CreatedAt: now}
	other.AddSlide(Slide{Kind: SlideContent, Title: "Same picture", Image: shared, ImageType: "image/png"})
	if err := s.CreatePreso(&p, 1); err != nil {
		t.Fatal(err)
	}
	if err := s.CreatePreso(&other, 1); err != nil {
		t.Fatal(err)
	}
	snap, err := s.SaveSnapshot(p.ID, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DeletePreso(p.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Preso(p.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("preso: %v", err)
	}
	if _, err := s.Snapshot(snap.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("snapshot: %v", err)
	}
	if got, _ := s.ClientPresos(7); len(got) != 0 {
		t.Fatalf("client index: %+v", got)
	}
	if _, err := s.SlideImage(own); !errors.Is(err, ErrNotFound) {
		t.Fatalf("own image: %v", err)
	}
	if _, err := s.SlideImage(shared); err != nil {
		t.Fatalf("shared image: %v", err)
	}
	if act, _ := s.PresoActivity(p.ID); len(act) != 0 {
		t.Fatalf("activity: %+v", act)
	}
	if err := s.DeletePreso(p.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("twice: %v", err)
	}
}
