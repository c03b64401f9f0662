package preso

import (
	"testing"
	"time"

	"foyer/share"
	"foyer/store"
)

// The trail of a signature holds the link's staff events and its signer's
// way in, in order up to the signature; other people's events on the same
// link, and what came after, stay out.
func TestTrailKeepsTheSignerAlone(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	ff := "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
	vw := store.Viewing{ID: 7, ContactID: 11, Name: "Mia Martin", Verification: "sms", VerifiedTo: "••• ••• 678",
		Browser: "Firefox 128 · Linux", IP: "203.0.113.9", StartedAt: at(10)}
	events := []store.ShareEvent{
		{At: at(0), Type: share.EventSent, Recipient: -1, StaffID: 1},
		{At: at(1), Type: share.EventCodeSent, Recipient: 1, Detail: "sms ••• ••• 432"},    // Bob's code
		{At: at(2), Type: share.EventVerified, Recipient: 1, UserAgent: ff, Viewing: 6},    // Bob in
		{At: at(3), Type: share.EventOpened, Recipient: -1, UserAgent: "curl/8"},           // another browser
		{At: at(4), Type: share.EventOpened, Recipient: -1, UserAgent: ff},                 // Mia's browser
		{At: at(5), Type: share.EventCodeSent, Recipient: 0, Detail: "sms ••• ••• 678"},    // Mia's code
		{At: at(6), Type: share.EventCodeWrong, Recipient: 0, UserAgent: ff},               // a wrong one for her
		{At: at(7), Type: share.EventCodeWrong, Recipient: 1, UserAgent: ff},               // for Bob
		{At: at(10), Type: share.EventVerified, Recipient: 0, UserAgent: ff, Viewing: 7},   // Mia in
		{At: at(30), Type: share.EventExtended, Recipient: -1, StaffID: 1},                 // after the signature
		{At: at(31), Type: share.EventIdentified, Recipient: 0, UserAgent: ff, Viewing: 9}, // a later viewing
	}
	snap := store.Snapshot{ID: 3, Slides: []store.Slide{{ID: 1, Title: "Hello"}, {ID: 2, Title: "Sign", Kind: store.SlideSigning}}}
	times := []store.SlideTime{{SlideID: 1, Millis: 65000, At: at(12)}, {SlideID: 2, Millis: 5000, At: at(25)}}
	sig := store.Signature{ViewingID: 7, Browser: vw.Browser, IP: vw.IP, At: at(20)}
	staff := func(id uint64) string { return map[uint64]string{1: "Olive Owner"}[id] }

	got := Trail(sig, vw, snap, events, times, staff)
	want := []struct {
		kind StepKind
		at   int
	}{{StepLinkCreated, 0}, {StepOpened, 4}, {StepCodeSent, 5}, {StepCodeWrong, 6}, {StepVerified, 10}, {StepViewing, 10},
		{StepSlide, 12}, {StepConsent, 20}, {StepSigned, 20}}
	if len(got) != len(want) {
		t.Fatalf("trail:\n%+v", got)
	}
	for i, w := range want {
		if got[i].Kind != w.kind || !got[i].At.Equal(at(w.at)) {
			t.Errorf("step %d: %s at %s, want %s at minute %d", i, got[i].Kind, got[i].At, w.kind, w.at)
		}
	}
	if got[0].Staff != "Olive Owner" || got[2].To != "••• ••• 678" || got[2].Channel != "sms" || got[6].Slide != 1 || got[6].Title != "Hello" ||
		got[4].Browser != "Firefox 128 · Linux" || got[5].IP != "203.0.113.9" {
		t.Errorf("details: %+v", got)
	}
}

// A viewing recorded before entry events named it is matched by its time
// and kind; a name given by a visitor is said as given.
func TestTrailOfAnOlderViewing(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	vw := store.Viewing{ID: 4, Name: "Zoé", Verification: "none", StartedAt: t0}
	events := []store.ShareEvent{
		{At: t0.Add(-time.Hour), Type: share.EventIdentified, Recipient: -1, Detail: "Someone else"},
		{At: t0.Add(-time.Second), Type: share.EventIdentified, Recipient: -1, Detail: "Zoé <z@example.org>"},
	}
	got := Trail(store.Signature{ViewingID: 4, At: t0.Add(time.Minute)}, vw, store.Snapshot{}, events, nil, func(uint64) string { return "" })
	if len(got) != 4 || got[0].Kind != StepDeclared || got[0].Name != "Zoé <z@example.org>" {
		t.Fatalf("trail: %+v", got)
	}
}
