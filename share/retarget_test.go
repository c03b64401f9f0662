package share

import (
	"errors"
	"testing"

	"foyer/store"
)

// Retarget (Refresh link) keeps the link and whoever is in: a recipient who
// is still one keeps their place and their session while the number their
// code went to is still theirs; one left out loses access; a code waiting
// for someone still there stays good.
func TestRetargetKeepsPlacesAndWhoIsIn(t *testing.T) {
	f := newFixture(t)
	sh := f.twoMobiles("+33622222432")
	token := mustLink(t, f.eng, sh)
	claire := sh.Recipients[0]
	if _, err := f.eng.IssueCode(sh.ID, Targets(sh, 0)[0], DefaultCodeTTL, "ua", f.compose); err != nil {
		t.Fatal(err)
	}
	in, err := f.eng.CheckCode(sh.ID, 0, f.codes[0], "ua", nil)
	if err != nil || in.Result != CodeOK {
		t.Fatalf("Claire's code: %+v %v", in, err)
	}
	f.clk.t = f.clk.t.Add(ResendEvery)
	if _, err := f.eng.IssueCode(sh.ID, Targets(sh, 1)[0], DefaultCodeTTL, "ua", f.compose); err != nil {
		t.Fatal(err)
	}
	// Dan joins, listed first; Bob's name is spelled anew.
	bob := sh.Recipients[1]
	bob.Name = "Bob B."
	dan := store.ShareRecipient{Name: "Dan", Mobiles: []string{"+33633333555"}, ClientID: 5}
	got, err := f.eng.Retarget(sh.ID, []store.ShareRecipient{dan, bob, claire}, store.VisibilityContacts)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Recipients) != 3 || got.Recipients[0].ClientID != 1 || got.Recipients[1].Name != "Bob B." || got.Recipients[2].ClientID != 5 {
		t.Fatalf("recipients after the change: %+v", got.Recipients)
	}
	if !f.inside(token, in.Session) {
		t.Fatal("Claire was put out by a change that kept her")
	}
	if c, err := f.eng.CheckCode(sh.ID, 1, f.codes[1], "ua", nil); err != nil || c.Result != CodeOK {
		t.Fatalf("Bob's code waiting through the change: %+v %v", c, err)
	}
	// Claire's number changes: her session, opened by a code sent to the
	// old one, no longer opens; she is not refused, she proves it again.
	claire.Mobiles = []string{"+33699999000"}
	if _, err := f.eng.Retarget(sh.ID, []store.ShareRecipient{claire, bob, dan}, store.VisibilityContacts); err != nil {
		t.Fatal(err)
	}
	v, err := f.eng.Admit(token, func(uint64) string { return in.Session })
	if err != nil || v.Admitted() || v.Refused {
		t.Fatalf("Claire's session after her number changed: %+v %v", v, err)
	}
	// Claire is left out: she keeps her place, and may not come in.
	got, err = f.eng.Retarget(sh.ID, []store.ShareRecipient{bob, dan}, store.VisibilityContacts)
	if err != nil || len(got.Recipients) != 3 || !got.Recipients[0].Removed || got.Recipients[1].Removed {
		t.Fatalf("Claire left out: %+v %v", got.Recipients, err)
	}
	if len(Targets(got, 0)) != 0 {
		t.Fatal("a code can still go to someone left out")
	}
	if v, _ := f.eng.Admit(token, nil); v.Audience.Admits(0) || !v.Audience.Admits(1) {
		t.Fatalf("audience after Claire was left out: %+v", v.Audience)
	}
	// Back again, at her place.
	if got, _ := f.eng.Retarget(sh.ID, []store.ShareRecipient{claire, bob, dan}, store.VisibilityContacts); got.Recipients[0].Removed || len(got.Recipients) != 3 {
		t.Fatalf("Claire back: %+v", got.Recipients)
	}
	if _, err := f.eng.Retarget(sh.ID, nil, store.VisibilityAnyone); err == nil {
		t.Fatal("no recipient accepted")
	}
	f.eng.Expire(sh.ID, store.ShareEvent{Recipient: -1})
	if _, err := f.eng.Retarget(sh.ID, []store.ShareRecipient{bob}, store.VisibilityAnyone); !errors.Is(err, ErrEnded) {
		t.Fatalf("retarget of an ended share: %v", err)
	}
}

// A link that starts asking for a code ends every session: who came in by
// a name proves it with a code from then on.
func TestRetargetToContactsOnlyEndsSessions(t *testing.T) {
	f := newFixture(t)
	sh, token, err := f.eng.Create(Draft{Kind: store.SharePreso, Visibility: store.VisibilityAnyone, Snapshot: []uint64{1},
		Recipients: []store.ShareRecipient{{Name: "Bo", ClientID: 4}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	sid, err := f.eng.Enter(sh.ID, 0, "", "ua", nil)
	if err != nil || !f.inside(token, sid) {
		t.Fatalf("not let in by the name picked: %v", err)
	}
	if _, err := f.eng.Retarget(sh.ID, sh.Recipients, store.VisibilityAnyone); err != nil || !f.inside(token, sid) {
		t.Fatalf("put out by a change that keeps the link open to anyone: %v", err)
	}
	bo := store.ShareRecipient{Name: "Bo", ClientID: 4, Mobiles: []string{"+33612345678"}}
	if _, err := f.eng.Retarget(sh.ID, []store.ShareRecipient{bo}, store.VisibilityContacts); err != nil {
		t.Fatal(err)
	}
	if f.inside(token, sid) {
		t.Fatal("a session by name outlived the change to contacts only")
	}
	if _, err := f.eng.Enter(sh.ID, 0, "", "ua", nil); !errors.Is(err, ErrNoSession) {
		t.Fatalf("entered a contacts-only share without a code: %v", err)
	}
}
