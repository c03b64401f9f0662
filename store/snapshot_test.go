package store

import (
	"errors"
	"testing"
	"time"
)

// An outlined snapshot keeps what the numbers name (slide IDs, kinds,
// titles) and loses what it showed; an image no preso or other snapshot
// shows leaves the store with it.
func TestOutlineAndDeleteSnapshot(t *testing.T) {
	s := openTest(t)
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	old, err := s.PutSlideImage([]byte("old image"))
	if err != nil {
		t.Fatal(err)
	}
	kept, _ := s.PutSlideImage([]byte("kept image"))
	p := Preso{Title: "Plan", OwnerID: 1, CreatedAt: now}
	p.AddSlide(Slide{Kind: SlideContent, Title: "One", Body: "secret text", Image: old, ImageType: "image/png"})
	p.AddSlide(Slide{Kind: SlideSigning, Title: "Sign", Image: kept, ImageType: "image/png"})
	if err := s.CreatePreso(&p, 1); err != nil {
		t.Fatal(err)
	}
	first, _ := s.SaveSnapshot(p.ID, now)
	// The first slide's image is replaced: the old one is the first snapshot's alone.
	if _, err := s.UpdatePreso(p.ID, now, func(p *Preso) ([]PresoEvent, error) { p.Slides[0].Image = ""; return nil, nil }); err != nil {
		t.Fatal(err)
	}
	second, _ := s.SaveSnapshot(p.ID, now)
	if err := s.OutlineSnapshot(first.ID); err != nil {
		t.Fatal(err)
	}
	got, err := s.Snapshot(first.ID)
	if err != nil || !got.Outline || got.Title != "Plan" || got.SHA256 != first.SHA256 || len(got.Slides) != 2 ||
		got.Slides[0] != (Slide{ID: 1, Kind: SlideContent, Title: "One"}) || got.Slides[1] != (Slide{ID: 2, Kind: SlideSigning, Title: "Sign"}) {
		t.Fatalf("outline: %+v %v", got, err)
	}
	if _, err := s.SlideImage(old); !errors.Is(err, ErrNotFound) {
		t.Fatalf("the image only the outlined snapshot showed: %v", err)
	}
	if _, err := s.SlideImage(kept); err != nil {
		t.Fatalf("an image the preso still shows: %v", err)
	}
	if err := s.OutlineSnapshot(first.ID); err != nil {
		t.Fatalf("outline twice: %v", err)
	}
	if err := s.DeleteSnapshot(second.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Snapshot(second.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted snapshot: %v", err)
	}
	if _, err := s.SlideImage(kept); err != nil {
		t.Fatalf("an image the preso still shows, after a snapshot's deletion: %v", err)
	}
	if err := s.DeleteSnapshot(second.ID); err != nil {
		t.Fatalf("delete twice: %v", err)
	}
}
