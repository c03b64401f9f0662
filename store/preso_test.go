package store

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
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
	if err := s.RecordBeacon(Beacon{Token: "tok-A", ShareID: 6, SlideID: 1, Millis: 10, At: start}); !errors.Is(err, ErrNotLive) {
		t.Fatalf("beacon through another share: %v", err)
	}
	if err := s.RecordBeacon(Beacon{Token: "nope", ShareID: 5, SlideID: 1, Millis: 10, At: start}); !errors.Is(err, ErrNotLive) {
		t.Fatalf("unknown viewing: %v", err)
	}
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			if err := s.RecordBeacon(Beacon{Token: "tok-A", ShareID: 5, SlideID: uint64(i%3 + 1), Millis: 1000, At: start.Add(time.Duration(i) * time.Second)}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	times, _ := s.SlideTimes(v.ID)
	if len(times) != 200 {
		t.Fatalf("%d beacons stored", len(times))
	}
	if vs, _ := s.ShareViewings(5); len(vs) != 1 || !vs[0].LastAt.Equal(start.Add(199*time.Second)) {
		t.Fatalf("viewings: %+v", vs)
	}
	last := start.Add(199 * time.Second)
	if due, _ := s.EndedViewings(last); len(due) != 0 {
		t.Fatalf("ended before its last beacon: %d", len(due))
	}
	due, _ := s.EndedViewings(last.Add(time.Minute))
	if len(due) != 1 {
		t.Fatalf("ended viewings: %d", len(due))
	}
	if err := s.MarkViewingNotified(v.ID, due[0].LastAt); err != nil {
		t.Fatal(err)
	}
	if due, _ := s.EndedViewings(last.Add(time.Hour)); len(due) != 0 {
		t.Fatal("reported twice")
	}
	// The viewer comes back later: the viewing is reported again when it ends.
	s.RecordBeacon(Beacon{Token: "tok-A", ShareID: 5, SlideID: 1, Millis: 5, At: last.Add(time.Hour)})
	if due, _ := s.EndedViewings(last.Add(2 * time.Hour)); len(due) != 1 {
		t.Fatal(fmt.Sprint("not reported after coming back: ", len(due)))
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
