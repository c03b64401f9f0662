package store

import (
	"errors"
	"testing"
	"time"
)

// One viewing signs a slide of a snapshot once; a contact verified by a code
// too, across viewings. Old records, without the contact fields, still read.
func TestAddSignatureOnce(t *testing.T) {
	s := openTest(t)
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	first := Signature{ShareID: 1, PresoID: 1, ViewingID: 1, SnapshotID: 1, SlideID: 3, Name: "Bob Smith",
		Verification: "sms", ContactID: 7, ContactName: "Claire Martin", VerifiedTo: "••• ••• 678", At: at}
	if err := s.AddSignature(&first); err != nil {
		t.Fatal(err)
	}
	again := first
	again.ID, again.Name = 0, "Claire Again"
	if err := s.AddSignature(&again); !errors.Is(err, ErrAlreadySigned) {
		t.Fatalf("same viewing: %v", err)
	}
	again.ViewingID = 2 // Claire, a new visit with a new code
	if err := s.AddSignature(&again); !errors.Is(err, ErrAlreadySigned) {
		t.Fatalf("same verified contact: %v", err)
	}
	other := Signature{ShareID: 1, PresoID: 1, ViewingID: 3, SnapshotID: 1, SlideID: 3, Name: "Claire Martin", Verification: "none", ContactID: 7, ContactName: "Claire Martin", At: at}
	if err := s.AddSignature(&other); err != nil {
		t.Fatalf("another viewing, not verified: %v", err)
	}
	sigs, _ := s.ShareSignatures(1)
	if len(sigs) != 2 || sigs[0].VerifiedTo != "••• ••• 678" || sigs[0].ContactName != "Claire Martin" {
		t.Fatalf("signatures: %+v", sigs)
	}
	if evs, _ := s.PresoActivity(1); len(evs) != 2 || evs[0].Kind != "signed" || evs[0].OtherID != other.ID {
		t.Fatalf("activity: %+v", evs)
	}
}

func TestSignatureNameDiffers(t *testing.T) {
	for _, c := range []struct {
		typed, contact string
		differs        bool
	}{
		{"  éloïse   DURAND ", "Eloise Durand", false},
		{"Jean-Pierre O’Neil", "jean pierre o'neil", false},
		{"Bob Smith", "Claire Martin", true},
		{"Claire", "Claire Martin", true},
		{"Anyone", "", false},
	} {
		if got := (Signature{Name: c.typed, ContactName: c.contact}).NameDiffers(); got != c.differs {
			t.Errorf("%q vs %q: differs %v, want %v", c.typed, c.contact, got, c.differs)
		}
	}
}
