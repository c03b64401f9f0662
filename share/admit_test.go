package share

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"foyer/store"
)

// client stores a client record and returns its ID.
func (f *fixture) client(name string) uint64 {
	f.t.Helper()
	c := &store.Client{FirstName: name, Lang: "en"}
	if err := f.st.CreateClient(c); err != nil {
		f.t.Fatal(err)
	}
	return c.ID
}

// mobile gives client record id the one mobile number, which receives codes.
func (f *fixture) mobile(id uint64, number string) {
	f.t.Helper()
	if _, err := f.st.UpdateClient(id, func(c *store.Client) error {
		c.Phones = []store.Phone{{Type: store.PhoneMobile, Number: number, Mobile: true}}
		return nil
	}); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) archive(id uint64, archived bool) {
	f.t.Helper()
	if _, err := f.st.ArchiveClient(id, archived); err != nil {
		f.t.Fatal(err)
	}
}

// twoContacts makes a preso-kind share open to anyone, for two client
// records, whose kind lets in each recipient whose record is not archived
// (as presos do, with their contacts besides).
func (f *fixture) twoContacts() (store.Share, string, [2]uint64) {
	f.t.Helper()
	ids := [2]uint64{f.client("Claire"), f.client("Bob")}
	f.eng.OnAudience(store.SharePreso, func(sh store.Share, r store.LinkTx) (Audience, error) {
		a := Audience{Allowed: make([]bool, len(sh.Recipients))}
		for i, rc := range sh.Recipients {
			ok, err := notArchived(r, rc.ClientID)
			if err != nil {
				return a, err
			}
			a.Allowed[i] = ok
		}
		return a, nil
	})
	sh, token, err := f.eng.Create(Draft{Kind: store.SharePreso, SubjectID: 9, Visibility: store.VisibilityAnyone, Snapshot: []uint64{1},
		Recipients: []store.ShareRecipient{{Name: "Claire", ClientID: ids[0]}, {Name: "Bob", ClientID: ids[1]}}}, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	return sh, token, ids
}

func (f *fixture) admit(token, sid string) Visit {
	f.t.Helper()
	v, err := f.eng.Admit(token, func(uint64) string { return sid })
	if err != nil {
		f.t.Fatal(err)
	}
	return v
}

// Admission is per recipient: the first recipient's record archived shuts
// them out, on their session already open as at the door, and nobody else.
func TestAdmitPerRecipient(t *testing.T) {
	f := newFixture(t)
	sh, token, ids := f.twoContacts()
	claire, err := f.eng.Enter(sh.ID, 0, "", "ua", nil)
	if err != nil {
		t.Fatal(err)
	}
	bob, err := f.eng.Enter(sh.ID, 1, "", "ua", nil)
	if err != nil {
		t.Fatal(err)
	}
	anon, err := f.eng.Enter(sh.ID, -1, "", "ua", nil)
	if err != nil {
		t.Fatal(err)
	}
	f.archive(ids[0], true)
	if v := f.admit(token, claire); v.Admitted() || !v.Refused || v.Err != nil {
		t.Fatalf("Claire, archived: admitted %v refused %v err %v", v.Admitted(), v.Refused, v.Err)
	}
	if v := f.admit(token, bob); !v.Admitted() || v.Session.Recipient != 1 {
		t.Fatalf("Bob: %+v", v)
	}
	if v := f.admit(token, anon); !v.Admitted() {
		t.Fatal("the anonymous visitor lost access with Claire")
	}
	if v := f.admit(token, ""); v.Err != nil || v.Audience.Admits(0) || !v.Audience.Admits(1) || !v.Audience.Admits(-1) {
		t.Fatalf("audience: %+v %v", v.Audience, v.Err)
	}
	if _, err := f.eng.Enter(sh.ID, 0, "", "ua", nil); !errors.Is(err, ErrRefused) {
		t.Fatalf("Claire came in again: %v", err)
	}
	// Restored, her session opens again (it was refused, not ended).
	f.archive(ids[0], false)
	if v := f.admit(token, claire); !v.Admitted() {
		t.Fatal("Claire, restored, is still refused")
	}
	// Everyone the link was made for gone: it opens for nobody, not even anonymously.
	f.archive(ids[0], true)
	f.archive(ids[1], true)
	v := f.admit(token, anon)
	if !errors.Is(v.Err, ErrEnded) || v.Admitted() {
		t.Fatalf("every recipient archived: %v admitted %v", v.Err, v.Admitted())
	}
	if _, err := f.eng.Enter(sh.ID, -1, "", "ua", nil); !errors.Is(err, ErrRefused) {
		t.Fatalf("entered a link open to nobody: %v", err)
	}
}

// A documents link closes when the client record it was shared from is
// archived, also for someone else it went to; a missing record closes nothing.
func TestFilesAudience(t *testing.T) {
	f := newFixture(t) // documents have FilesAudience from New
	client := f.client("Ana")
	sh, token, err := f.eng.Create(Draft{Kind: store.ShareFiles, ClientID: client, Snapshot: []uint64{1},
		Recipients: []store.ShareRecipient{{Name: "Maître Roux", Email: "roux@example.org"}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	sid, err := f.eng.Enter(sh.ID, 0, "", "ua", nil)
	if !errors.Is(err, ErrNoSession) {
		t.Fatalf("entered a contacts-only link without a code: %q %v", sid, err)
	}
	if v := f.admit(token, ""); v.Err != nil || !v.Audience.Admits(0) {
		t.Fatalf("live: %+v %v", v.Audience, v.Err)
	}
	f.archive(client, true)
	if v := f.admit(token, ""); !errors.Is(v.Err, ErrEnded) {
		t.Fatalf("client archived: %v", v.Err)
	}
	f.archive(client, false)
	_, gone, err := f.eng.Create(Draft{Kind: store.ShareFiles, ClientID: 999, Recipients: []store.ShareRecipient{{Name: "X", ClientID: 998}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if v := f.admit(gone, ""); v.Err != nil {
		t.Fatalf("missing records: %v", v.Err)
	}
}

// A request that only reads writes nothing; its idle clock moves at most
// once a minute, and an idle session is gone.
func TestAdmitReadsOnceAndTouchesRarely(t *testing.T) {
	f := newFixture(t)
	sh, token, _ := f.twoContacts()
	sid, err := f.eng.Enter(sh.ID, 1, "", "ua", nil)
	if err != nil {
		t.Fatal(err)
	}
	before := f.st.TxCounts()
	v := f.admit(token, sid)
	if got := f.st.TxCounts().Sub(before); got.Reads != 1 || got.Writes != 0 || !v.Admitted() || v.Renewed {
		t.Fatalf("a request of a live session: %+v, admitted %v renewed %v", got, v.Admitted(), v.Renewed)
	}
	f.clk.t = f.clk.t.Add(touchEvery + time.Second)
	if v := f.admit(token, sid); !v.Renewed {
		t.Fatal("the idle clock did not move after a minute")
	}
	if v := f.admit(token, sid); v.Renewed {
		t.Fatal("the idle clock moved twice within a minute")
	}
	f.clk.t = f.clk.t.Add(SessionIdle)
	if v := f.admit(token, sid); v.Admitted() {
		t.Fatal("an idle session let in")
	}
	if _, err := f.st.ShareSession(sid); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the idle session is still stored: %v", err)
	}
	if _, err := f.eng.Admit("nope", nil); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown token: %v", err)
	}
}

// Ending a share, locking it or changing who may come in ends every session
// on it at once, without a scan of the sessions: they carry its epoch.
func TestSessionsEndWithTheShare(t *testing.T) {
	f := newFixture(t)
	sh, token := f.create("+33612345678")
	if err := f.issue(sh); err != nil {
		t.Fatal(err)
	}
	c, _ := f.eng.CheckCode(sh.ID, 0, f.codes[0], "ua", nil)
	if !f.inside(token, c.Session) {
		t.Fatal("not in after the code")
	}
	// Locked by the last wrong code of its life, then unlocked: the session
	// opened before is over.
	if _, err := f.st.ChangeShare(sh.ID, func(ch *store.ShareChange) error { ch.Share.Failures = MaxFailures - 1; return nil }); err != nil {
		t.Fatal(err)
	}
	f.clk.t = f.clk.t.Add(ResendEvery)
	if err := f.issue(sh); err != nil {
		t.Fatal(err)
	}
	if r, _ := f.eng.CheckCode(sh.ID, 0, "xxxxxx", "ua", nil); r.Result != CodeLocked {
		t.Fatalf("not locked: %+v", r)
	}
	if _, err := f.eng.Unlock(sh.ID, 1); err != nil {
		t.Fatal(err)
	}
	if f.inside(token, c.Session) {
		t.Fatal("a session outlived the lock")
	}
}

// Expire ends the share and purges what it held at once, through its kind.
func TestExpirePurgesAtOnce(t *testing.T) {
	f := newFixture(t)
	var purged []uint64
	f.eng.OnPurge(store.ShareFiles, func(sh store.Share) error { purged = append(purged, sh.ID); return nil })
	sh, token := f.create()
	other, _ := f.create()
	if _, err := f.eng.Expire(sh.ID, store.ShareEvent{Recipient: -1, StaffID: 1}); err != nil {
		t.Fatal(err)
	}
	if len(purged) != 1 || purged[0] != sh.ID {
		t.Fatalf("purged %v", purged)
	}
	if got, _ := f.eng.Get(sh.ID); got.State != store.ShareExpired || !got.Purged {
		t.Fatalf("after Expire: %s purged %v", got.State, got.Purged)
	}
	if got, _ := f.eng.Get(other.ID); got.Purged || got.State != store.ShareActive {
		t.Fatalf("another share was touched: %s purged %v", got.State, got.Purged)
	}
	if _, err := f.openLink(token); !errors.Is(err, ErrEnded) {
		t.Fatalf("open after Expire: %v", err)
	}
	if _, err := f.eng.Expire(sh.ID, store.ShareEvent{Recipient: -1}); !errors.Is(err, ErrEnded) || len(purged) != 1 {
		t.Fatalf("second Expire: %v, purged %v", err, purged)
	}
}

// A right code, its use and the session (with the kind's Welcome) are one
// write: when any part fails nothing is written and the code stays good; a
// code whose recipient may no longer come in opens nothing.
func TestCheckCodeLetsInInOneWrite(t *testing.T) {
	f := newFixture(t)
	sh, token, ids := f.twoContacts()
	f.mobile(ids[0], "+33611111678")
	f.mobile(ids[1], "+33622222432")
	if _, err := f.eng.Retarget(sh.ID, []store.ShareRecipient{
		{Name: "Claire", ClientID: ids[0], Mobiles: []string{"+33611111678"}},
		{Name: "Bob", ClientID: ids[1], Mobiles: []string{"+33622222432"}}}, store.VisibilityContacts); err != nil {
		t.Fatal(err)
	}
	sh, _ = f.eng.Get(sh.ID)
	if _, err := f.eng.IssueCode(sh.ID, Targets(sh, 0)[0], DefaultCodeTTL, "ua", f.compose); err != nil {
		t.Fatal(err)
	}
	failing := errors.New("welcome failed")
	before := f.st.TxCounts()
	if _, err := f.eng.CheckCode(sh.ID, 0, f.codes[0], "ua", func(*store.ShareChange, Entered) error { return failing }); !errors.Is(err, failing) {
		t.Fatalf("failing welcome: %v", err)
	}
	if got := f.st.TxCounts().Sub(before); got.Writes != 1 || got.Reads != 0 {
		t.Fatalf("a code check ran %+v", got)
	}
	var welcomed Entered
	c, err := f.eng.CheckCode(sh.ID, 0, f.codes[0], "ua", func(ch *store.ShareChange, in Entered) error {
		welcomed = in
		return nil
	})
	if err != nil || c.Result != CodeOK || welcomed.Recipient != 0 || welcomed.Target != "+33611111678" {
		t.Fatalf("the code after a failed welcome: %+v %+v %v", c, welcomed, err)
	}
	if !f.inside(token, c.Session) {
		t.Fatal("not in")
	}
	// Bob's code, Bob archived before he enters it: refused, and the code is not used.
	f.clk.t = f.clk.t.Add(ResendEvery)
	if _, err := f.eng.IssueCode(sh.ID, Targets(sh, 1)[0], DefaultCodeTTL, "ua", f.compose); err != nil {
		t.Fatal(err)
	}
	f.archive(ids[1], true)
	if f.eng.CodeWaiting(sh.ID, f.codes[1]) {
		t.Fatal("an archived recipient's code is still waiting to be sent")
	}
	if !f.eng.Opens(token) {
		t.Fatal("the link no longer opens for Claire")
	}
	if _, err := f.eng.CheckCode(sh.ID, 1, f.codes[1], "ua", nil); !errors.Is(err, ErrRefused) {
		t.Fatalf("archived recipient's code: %v", err)
	}
	f.archive(ids[1], false)
	if !f.eng.CodeWaiting(sh.ID, f.codes[1]) {
		t.Fatal("Bob's code, restored, is not waiting")
	}
	if c, err := f.eng.CheckCode(sh.ID, 1, f.codes[1], "ua", nil); err != nil || c.Result != CodeOK || c.Recipient != 1 {
		t.Fatalf("Bob's code, restored: %+v %v", c, err)
	}
}

// A client's codes go to the numbers their record holds now: a number staff
// take off the record (a lost phone) stops receiving codes at once, a code
// already sent to it opens nothing, and a session it opened ends; the new
// number receives the next code.
func TestCodesFollowTheClientRecord(t *testing.T) {
	f := newFixture(t)
	const old, replaced = "+33611223302", "+33611223311"
	c := &store.Client{FirstName: "Bruno", Lang: "fr", Email: "bruno@example.org",
		Phones: []store.Phone{{Type: store.PhoneMobile, Number: old, Mobile: true}}}
	if err := f.st.CreateClient(c); err != nil {
		t.Fatal(err)
	}
	sh, token, err := f.eng.Create(Draft{Kind: store.ShareFiles, ClientID: c.ID, StaffID: 1, Snapshot: []uint64{1},
		Recipients: []store.ShareRecipient{{Name: "Bruno", Email: c.Email, Mobiles: []string{old}, Lang: "fr", ClientID: c.ID}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	toOld := Target{Recipient: 0, Channel: store.ChannelSMS, To: old}
	if _, err := f.eng.IssueCode(sh.ID, toOld, DefaultCodeTTL, "ua", f.compose); err != nil {
		t.Fatal(err)
	}
	in, err := f.eng.CheckCode(sh.ID, 0, f.codes[0], "ua", nil)
	if err != nil || in.Result != CodeOK {
		t.Fatalf("first code: %+v %v", in, err)
	}
	f.clk.t = f.clk.t.Add(ResendEvery)
	if _, err := f.eng.IssueCode(sh.ID, toOld, DefaultCodeTTL, "ua", f.compose); err != nil {
		t.Fatal(err)
	}
	pending := f.codes[1]

	f.mobile(c.ID, replaced)

	if f.inside(token, in.Session) {
		t.Fatal("the session the old number opened still opens the link")
	}
	v := f.admit(token, "")
	if tg := Targets(v.Share, 0); len(tg) != 1 || tg[0].To != replaced {
		t.Fatalf("targets after the change: %+v", tg)
	}
	f.clk.t = f.clk.t.Add(ResendEvery)
	if _, err := f.eng.IssueCode(sh.ID, toOld, DefaultCodeTTL, "ua", f.compose); !errors.Is(err, ErrBadTarget) {
		t.Fatalf("a code to the old number: %v", err)
	}
	if _, _, ok, err := f.eng.LastCode(sh.ID, 0); err != nil || ok {
		t.Fatalf("the code sent to the old number is still shown as waiting: %v %v", ok, err)
	}
	if f.eng.CodeWaiting(sh.ID, pending) {
		t.Fatal("the outbox would still send the code to the old number")
	}
	if res, err := f.eng.CheckCode(sh.ID, 0, pending, "ua", nil); err != nil || res.Result != CodeVoided {
		t.Fatalf("the code sent to the old number: %+v %v", res, err)
	}
	if got, _ := f.eng.Get(sh.ID); got.Failures != 0 {
		t.Fatalf("entering the old number's code counted as a wrong guess: %d", got.Failures)
	}
	if got, _ := f.st.Share(sh.ID); !slices.Equal(got.Recipients[0].Mobiles, []string{old}) {
		t.Fatalf("the stored recipient was rewritten: %v", got.Recipients[0].Mobiles)
	}
	// Pages show (and Send again starts from) the numbers codes go to now.
	if got, _ := f.eng.Get(sh.ID); !slices.Equal(got.Recipients[0].Mobiles, []string{replaced}) {
		t.Fatalf("Get shows %v, not the record's number", got.Recipients[0].Mobiles)
	}
	live := []store.Share{sh}
	if err := f.eng.CurrentLive(live); err != nil || !slices.Equal(live[0].Recipients[0].Mobiles, []string{replaced}) {
		t.Fatalf("a live link in a list shows %v (%v)", live[0].Recipients[0].Mobiles, err)
	}

	n := len(f.codes)
	if _, err := f.eng.IssueCode(sh.ID, Target{Recipient: 0, Channel: store.ChannelSMS, To: replaced}, DefaultCodeTTL, "ua", f.compose); err != nil {
		t.Fatal(err)
	}
	if res, err := f.eng.CheckCode(sh.ID, 0, f.codes[n], "ua", nil); err != nil || res.Result != CodeOK || res.Target != replaced {
		t.Fatalf("the new number's code: %+v %v", res, err)
	}
}

// OpensShare answers as admission does: a link whose recipients have all
// lost access opens for nobody until one of them may come in again, and an
// ended link for nobody at all.
func TestOpensShareAsAdmitDecides(t *testing.T) {
	f := newFixture(t)
	sh, token, ids := f.twoContacts()
	check := func(what string, want bool) {
		t.Helper()
		got, err := f.eng.OpensShare(sh.ID)
		if err != nil {
			t.Fatal(err)
		}
		v := f.admit(token, "")
		if got != want || (v.Err == nil) != want || f.eng.Opens(token) != want {
			t.Fatalf("%s: OpensShare %v, Admit %v, Opens %v; want %v", what, got, v.Err, f.eng.Opens(token), want)
		}
	}
	check("live", true)
	f.archive(ids[0], true)
	check("one recipient archived", true)
	f.archive(ids[1], true)
	check("every recipient archived", false)
	f.archive(ids[1], false)
	check("one restored", true)
	if _, err := f.eng.Expire(sh.ID, store.ShareEvent{Recipient: -1}); err != nil {
		t.Fatal(err)
	}
	check("expired", false)
	if _, err := f.eng.OpensShare(sh.ID + 100); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown share: %v", err)
	}
}

// A landing opened again while the store is unchanged costs no read, and
// says what a read would: a copy (the caller's changes stay its own), the
// clock asked each time, and every write (any at all) read past.
func TestAdmitKeepsLandings(t *testing.T) {
	f := newFixture(t)
	sh, token := f.create("+33612345678")
	first := f.admit(token, "")
	if first.Err != nil || !first.Audience.Admits(0) {
		t.Fatalf("live: %+v %v", first.Audience, first.Err)
	}
	first.Share.Recipients[0].Name = "changed by a caller"
	first.Share.Recipients[0].Mobiles[0] = "+33600000000"
	first.Audience.Allowed[0] = false
	before := f.st.TxCounts()
	again := f.admit(token, "")
	if got := f.st.TxCounts().Sub(before); got.Reads != 0 {
		t.Fatalf("the second landing read the store: %+v", got)
	}
	if again.Share.Recipients[0].Name != "Ana" || again.Share.Recipients[0].Mobiles[0] != "+33612345678" || !again.Audience.Admits(0) {
		t.Fatalf("a caller's change reached the next visitor: %+v %+v", again.Share.Recipients, again.Audience)
	}
	// A visitor with a session on the link is read for: the session decides.
	before = f.st.TxCounts()
	f.admit(token, strings.Repeat("s", 43))
	if got := f.st.TxCounts().Sub(before); got.Reads != 1 {
		t.Fatalf("a visitor with a session: %+v", got)
	}
	// Any write, here one that has nothing to do with the link, and the
	// next landing reads again; what it reads is kept again.
	f.client("Zoé")
	before = f.st.TxCounts()
	f.admit(token, "")
	f.admit(token, "")
	if got := f.st.TxCounts().Sub(before); got.Reads != 1 {
		t.Fatalf("landings after a write: %+v", got)
	}
	// Expired by staff: the write that ends it makes the next landing read it.
	if _, err := f.eng.Expire(sh.ID, store.ShareEvent{}); err != nil {
		t.Fatal(err)
	}
	if v := f.admit(token, ""); !errors.Is(v.Err, ErrEnded) {
		t.Fatalf("expired by staff, from the cache: %v", v.Err)
	}
	// Expired with no write at all: the time is asked at every landing.
	sh2, token2 := f.create()
	f.admit(token2, "")
	f.clk.t = sh2.ExpiresAt
	if v := f.admit(token2, ""); !errors.Is(v.Err, ErrEnded) {
		t.Fatalf("expired with nothing written: %v", v.Err)
	}
}
