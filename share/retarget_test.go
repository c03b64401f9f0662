package share

import (
	"errors"
	"testing"

	"foyer/store"
)

func TestRetargetKeepsTheLinkAndEndsSessions(t *testing.T) {
	f := newFixture(t)
	sh, token := f.create("+33612345678")
	sid, err := f.eng.Enter(sh.ID, -1, "", "ua", nil)
	if !errors.Is(err, ErrNoSession) || sid != "" {
		t.Fatalf("contacts-only share let a visitor in: %q %v", sid, err)
	}
	if _, err := f.eng.Retarget(sh.ID, []store.ShareRecipient{{Name: "Bo"}}, store.VisibilityAnyone); err != nil {
		t.Fatal(err)
	}
	sid, err = f.eng.Enter(sh.ID, 0, "", "ua", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !f.inside(token, sid) {
		t.Fatal("not let in by the name picked")
	}
	got, err := f.openLink(token)
	if err != nil || got.Recipients[0].Name != "Bo" || got.Visibility != store.VisibilityAnyone {
		t.Fatalf("after retarget: %+v %v", got, err)
	}
	if _, err := f.eng.Retarget(sh.ID, []store.ShareRecipient{{Name: "Bo", Mobiles: []string{"+33612345678"}}}, store.VisibilityContacts); err != nil {
		t.Fatal(err)
	}
	if f.inside(token, sid) {
		t.Fatal("session outlived the change of recipients")
	}
	if _, err := f.eng.Retarget(sh.ID, nil, store.VisibilityAnyone); err == nil {
		t.Fatal("no recipient accepted")
	}
	f.eng.Expire(sh.ID, store.ShareEvent{Recipient: -1})
	if _, err := f.eng.Retarget(sh.ID, []store.ShareRecipient{{Name: "Bo"}}, store.VisibilityAnyone); !errors.Is(err, ErrEnded) {
		t.Fatalf("retarget of an ended share: %v", err)
	}
}
