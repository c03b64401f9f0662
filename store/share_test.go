package store

import (
	"testing"
	"time"
)

func TestShareByTokenIsNeverStaleNorShared(t *testing.T) {
	s := openTest(t)
	sh := Share{Kind: ShareFiles, State: ShareActive, ExpiresAt: time.Now().Add(time.Hour),
		Recipients: []ShareRecipient{{Name: "Ana", Mobiles: []string{"+33612345678"}}}, Snapshot: []uint64{7}}
	if err := s.CreateShare(&sh, "tok", nil, nil); err != nil {
		t.Fatal(err)
	}
	got, err := s.ShareByToken("tok")
	if err != nil || got.ID != sh.ID || got.Recipients[0].Name != "Ana" {
		t.Fatalf("%+v %v", got, err)
	}
	// A caller changing what it got changes nothing kept.
	got.Recipients[0].Name, got.Recipients[0].Mobiles[0], got.Snapshot[0] = "Eve", "+0", 0
	again, err := s.ShareByToken("tok")
	if err != nil || again.Recipients[0].Name != "Ana" || again.Recipients[0].Mobiles[0] != "+33612345678" || again.Snapshot[0] != 7 {
		t.Fatalf("kept share changed by a caller: %+v %v", again, err)
	}
	// Every write shows at once.
	for _, st := range []ShareState{ShareLocked, ShareActive, ShareExpired} {
		if _, err := s.ChangeShare(sh.ID, func(ch *ShareChange) error { ch.Share.State = st; return nil }); err != nil {
			t.Fatal(err)
		}
		if got, err := s.ShareByToken("tok"); err != nil || got.State != st {
			t.Fatalf("after the change to %s: %s %v", st, got.State, err)
		}
	}
	if _, err := s.ShareByToken("other"); err != ErrNotFound {
		t.Fatalf("unknown token: %v", err)
	}
}

func TestClientArchivedShowsAtOnce(t *testing.T) {
	s := openTest(t)
	c := Client{FirstName: "Ana", LastName: "Martin", PractitionerID: 1}
	if err := s.CreateClient(&c); err != nil {
		t.Fatal(err)
	}
	for _, want := range []bool{false, true, false} {
		if _, err := s.UpdateClient(c.ID, func(c *Client) error { c.Archived = want; return nil }); err != nil {
			t.Fatal(err)
		}
		for range 2 { // decoded, then kept
			if got, err := s.ClientArchived(c.ID); err != nil || got != want {
				t.Fatalf("archived %v, want %v (%v)", got, want, err)
			}
		}
	}
	if _, err := s.ClientArchived(c.ID + 1); err != ErrNotFound {
		t.Fatalf("missing client: %v", err)
	}
}
