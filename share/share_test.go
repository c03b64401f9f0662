package share

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"foyer/store"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

type fixture struct {
	t     *testing.T
	dir   string
	st    *store.Store
	clk   *clock
	eng   *Engine
	codes []string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{t: t, dir: t.TempDir(), clk: &clock{time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}}
	f.open()
	return f
}

func (f *fixture) open() {
	st, err := store.Open(f.dir)
	if err != nil {
		f.t.Fatal(err)
	}
	f.st = st
	f.eng = New(st, f.clk.now)
	f.t.Cleanup(func() { st.Close() })
}

// restart closes and reopens the store, as a restart of Foyer would.
func (f *fixture) restart() {
	f.st.Close()
	f.open()
}

func (f *fixture) create(mobiles ...string) (store.Share, string) {
	f.t.Helper()
	sh, token, err := f.eng.Create(Draft{Kind: store.ShareFiles, ClientID: 7, StaffID: 1, Snapshot: []uint64{1, 2},
		Recipients: []store.ShareRecipient{{Name: "Ana", Email: "ana@example.org", Mobiles: mobiles, Lang: "fr", ClientID: 7}}},
		func(sh store.Share, token string) ([]*store.Message, error) {
			return []*store.Message{{Channel: store.ChannelEmail, To: "ana@example.org", Kind: "share_link", Secret: token}}, nil
		})
	if err != nil {
		f.t.Fatal(err)
	}
	return sh, token
}

// openLink is Admit without a session: the share of token, and why it does
// not open (ErrNotFound, ErrEnded, ErrLocked), nil when it does.
func (f *fixture) openLink(token string) (store.Share, error) {
	v, err := f.eng.Admit(token, nil)
	if err != nil {
		return v.Share, err
	}
	return v.Share, v.Err
}

// inside reports whether session sid lets its browser into token's share.
func (f *fixture) inside(token, sid string) bool {
	f.t.Helper()
	v, err := f.eng.Admit(token, func(uint64) string { return sid })
	if err != nil {
		f.t.Fatal(err)
	}
	return v.Admitted()
}

func (f *fixture) compose(t Target, code string, _ time.Time) (*store.Message, error) {
	f.codes = append(f.codes, code)
	return &store.Message{Channel: t.Channel, To: t.To, Kind: "share_code", Secret: code}, nil
}

func (f *fixture) issue(sh store.Share) error {
	_, err := f.eng.IssueCode(sh.ID, Targets(sh, 0)[0], DefaultCodeTTL, "ua", f.compose)
	return err
}

func TestCreateOpenAndLink(t *testing.T) {
	f := newFixture(t)
	sh, token := f.create()
	if len(token) < 22 { // 22 base64 characters = 132 bits
		t.Fatalf("token %q too short", token)
	}
	got, err := f.openLink(token)
	if err != nil || got.ID != sh.ID {
		t.Fatalf("open: %v %v", got.ID, err)
	}
	if _, err := f.openLink(token + "x"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("wrong token: %v", err)
	}
	if link, err := f.eng.Link(got); err != nil || link != token {
		t.Fatalf("link %q %v", link, err)
	}
	if got.TokenSealed == token || got.TokenSealed == "" {
		t.Fatal("token kept in the clear")
	}
	if !got.ExpiresAt.Equal(f.clk.t.Add(DefaultLifetime)) {
		t.Fatalf("expires %v", got.ExpiresAt)
	}
	msgs, _ := f.st.ListMessages(0, 10)
	if len(msgs) != 1 {
		t.Fatalf("%d messages queued with the share", len(msgs))
	}
	evs, _ := f.eng.Events(sh.ID)
	if len(evs) != 1 || evs[0].Type != EventSent {
		t.Fatalf("events %+v", evs)
	}
}

func TestCodeRightOnceAndExpiry(t *testing.T) {
	f := newFixture(t)
	sh, _ := f.create("+33612345678")
	if tg := Targets(sh, 0); len(tg) != 1 || tg[0].Channel != store.ChannelSMS || tg[0].Masked() != "••• ••• 678" {
		t.Fatalf("targets %+v", tg)
	}
	if err := f.issue(sh); err != nil {
		t.Fatal(err)
	}
	code := f.codes[0]
	if len(code) != 6 {
		t.Fatalf("code %q", code)
	}
	c, err := f.eng.CheckCode(sh.ID, 0, code, "ua", nil)
	if err != nil || c.Result != CodeOK || c.Session == "" {
		t.Fatalf("right code: %+v %v", c, err)
	}
	// Single use.
	if c, _ := f.eng.CheckCode(sh.ID, 0, code, "ua", nil); c.Result != CodeVoided {
		t.Fatalf("second use: %+v", c)
	}
	// A new code expires 10 minutes after it was sent: valid at 10 min - 1 s, not at 10 min + 1 s.
	f.clk.t = f.clk.t.Add(ResendEvery)
	if err := f.issue(sh); err != nil {
		t.Fatal(err)
	}
	f.clk.t = f.clk.t.Add(DefaultCodeTTL + time.Second)
	if c, _ := f.eng.CheckCode(sh.ID, 0, f.codes[1], "ua", nil); c.Result != CodeExpired {
		t.Fatalf("expired code: %+v", c)
	}
	f.clk.t = f.clk.t.Add(time.Minute)
	if err := f.issue(sh); err != nil {
		t.Fatal(err)
	}
	f.clk.t = f.clk.t.Add(DefaultCodeTTL - time.Second)
	if c, _ := f.eng.CheckCode(sh.ID, 0, f.codes[2], "ua", nil); c.Result != CodeOK {
		t.Fatalf("code at 9:59: %+v", c)
	}
}

func TestFiveWrongTriesVoidTheCode(t *testing.T) {
	f := newFixture(t)
	sh, _ := f.create()
	if err := f.issue(sh); err != nil {
		t.Fatal(err)
	}
	wrong := "000000"
	if f.codes[0] == wrong {
		wrong = "111111"
	}
	for i := 1; i <= MaxTries; i++ {
		c, err := f.eng.CheckCode(sh.ID, 0, wrong, "ua", nil)
		want := CodeWrong
		if i == MaxTries {
			want = CodeWornOut
		}
		if err != nil || c.Result != want {
			t.Fatalf("try %d: %+v %v", i, c, err)
		}
	}
	if c, _ := f.eng.CheckCode(sh.ID, 0, f.codes[0], "ua", nil); c.Result != CodeVoided {
		t.Fatalf("the right code after 5 wrong ones: %+v", c)
	}
}

// The limits survive a restart: a minute between codes, three an hour
// through one link, five an hour to the address through all its links.
func TestResendLimitsSurviveARestart(t *testing.T) {
	f := newFixture(t)
	sh, _ := f.create()
	other, _ := f.create() // another link to the same person
	if err := f.issue(sh); err != nil {
		t.Fatal(err)
	}
	f.restart()
	if err := f.issue(sh); !errors.Is(err, ErrTooSoon) {
		t.Fatalf("second code within a minute, after a restart: %v", err)
	}
	for i := 2; i <= MaxSendsPerLinkPerHour; i++ {
		f.clk.t = f.clk.t.Add(ResendEvery)
		if err := f.issue(sh); err != nil {
			t.Fatalf("code %d: %v", i, err)
		}
	}
	f.restart()
	f.clk.t = f.clk.t.Add(ResendEvery)
	var limit *LimitError
	if err := f.issue(sh); !errors.Is(err, ErrTooManyHere) || !errors.As(err, &limit) || limit.Target != Targets(sh, 0)[0] {
		t.Fatalf("a fourth code through one link in the hour: %v", err)
	}
	// The person's other link still gets codes, up to the address's five.
	for i := MaxSendsPerLinkPerHour + 1; i <= MaxSendsPerHour; i++ {
		if err := f.issue(other); err != nil {
			t.Fatalf("code %d, through the other link: %v", i, err)
		}
		f.clk.t = f.clk.t.Add(ResendEvery)
	}
	f.restart()
	if err := f.issue(other); !errors.Is(err, ErrTooMany) {
		t.Fatalf("sixth code to the address in the hour: %v", err)
	}
	f.clk.t = f.clk.t.Add(time.Hour)
	if err := f.issue(sh); err != nil {
		t.Fatalf("an hour later: %v", err)
	}
	msgs, _ := f.st.ListMessages(0, 20)
	if len(msgs) != 2+MaxSendsPerHour+1 { // two links, then the codes
		t.Fatalf("%d messages queued", len(msgs))
	}
}

func TestHundredFailuresLockAndStaffUnlock(t *testing.T) {
	f := newFixture(t)
	sh, _ := f.create()
	var last Check
	for i := 0; i < MaxFailures; i++ {
		if i%MaxTries == 0 {
			f.clk.t = f.clk.t.Add(time.Hour) // past the resend limits
			if err := f.issue(sh); err != nil {
				t.Fatalf("failure %d: %v", i, err)
			}
		}
		wrong := "000000"
		if f.codes[len(f.codes)-1] == wrong {
			wrong = "111111"
		}
		var err error
		if last, err = f.eng.CheckCode(sh.ID, 0, wrong, "ua", nil); err != nil {
			t.Fatal(err)
		}
		if i < MaxFailures-1 && last.Result == CodeLocked {
			t.Fatalf("locked after %d failures", i+1)
		}
	}
	if last.Result != CodeLocked {
		t.Fatalf("after %d failures: %+v", MaxFailures, last)
	}
	got, _ := f.eng.Get(sh.ID)
	if got.State != store.ShareLocked {
		t.Fatalf("state %s", got.State)
	}
	if _, err := f.openLink(mustLink(t, f.eng, got)); !errors.Is(err, ErrLocked) {
		t.Fatalf("open a locked share: %v", err)
	}
	f.clk.t = f.clk.t.Add(time.Hour)
	if err := f.issue(sh); !errors.Is(err, ErrLocked) {
		t.Fatalf("code for a locked share: %v", err)
	}
	if _, err := f.eng.Unlock(sh.ID, 1); err != nil {
		t.Fatal(err)
	}
	if err := f.issue(sh); err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	if c, _ := f.eng.CheckCode(sh.ID, 0, f.codes[len(f.codes)-1], "ua", nil); c.Result != CodeOK {
		t.Fatalf("after unlock: %+v", c)
	}
}

func mustLink(t *testing.T, e *Engine, sh store.Share) string {
	t.Helper()
	l, err := e.Link(sh)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestSessionBoundToOneShareAndIdle(t *testing.T) {
	f := newFixture(t)
	a, tokenA := f.create()
	_, tokenB := f.create()
	if err := f.issue(a); err != nil {
		t.Fatal(err)
	}
	c, _ := f.eng.CheckCode(a.ID, 0, f.codes[0], "ua", nil)
	if !f.inside(tokenA, c.Session) {
		t.Fatal("session not let in on its share")
	}
	if f.inside(tokenB, c.Session) {
		t.Fatal("session of A let in on B")
	}
	f.clk.t = f.clk.t.Add(SessionIdle - time.Second)
	if !f.inside(tokenA, c.Session) {
		t.Fatal("session not let in just before idle")
	}
	f.clk.t = f.clk.t.Add(SessionIdle)
	if f.inside(tokenA, c.Session) {
		t.Fatal("idle session let in")
	}
}

func TestSweepExpiresAndPurgesAtTwentyDays(t *testing.T) {
	f := newFixture(t)
	var purged []uint64
	f.eng.OnPurge(store.ShareFiles, func(sh store.Share) error { purged = append(purged, sh.ID); return nil })
	sh, token := f.create()
	if err := f.issue(sh); err != nil {
		t.Fatal(err)
	}
	c, _ := f.eng.CheckCode(sh.ID, 0, f.codes[0], "ua", nil)
	f.clk.t = sh.ExpiresAt.Add(-time.Second)
	if exp, err := f.eng.Sweep(); err != nil || len(exp) != 0 {
		t.Fatalf("sweep before expiry: %v %v", exp, err)
	}
	f.clk.t = sh.ExpiresAt
	if _, err := f.openLink(token); !errors.Is(err, ErrEnded) {
		t.Fatalf("open at expiry, before the sweep: %v", err)
	}
	exp, err := f.eng.Sweep()
	if err != nil || len(exp) != 1 || len(purged) != 1 {
		t.Fatalf("sweep: %v %v purged %v", exp, err, purged)
	}
	got, _ := f.eng.Get(sh.ID)
	if got.State != store.ShareExpired || !got.Purged {
		t.Fatalf("after sweep: %s purged=%v", got.State, got.Purged)
	}
	if _, err := f.st.ShareSession(c.Session); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("session outlived its share: %v", err)
	}
	if _, err := f.eng.Sweep(); err != nil || len(purged) != 1 {
		t.Fatalf("second sweep purged again: %v %v", purged, err)
	}
}

func TestDeleteContentPurgesAtOnce(t *testing.T) {
	f := newFixture(t)
	purged := 0
	f.eng.OnPurge(store.ShareFiles, func(store.Share) error { purged++; return nil })
	sh, token := f.create()
	if _, err := f.eng.DeleteContent(sh.ID, store.ShareEvent{Recipient: 0}); err != nil {
		t.Fatal(err)
	}
	if purged != 1 {
		t.Fatalf("purged %d times", purged)
	}
	got, err := f.openLink(token)
	if !errors.Is(err, ErrEnded) || got.State != store.ShareDeleted {
		t.Fatalf("open after delete: %s %v", got.State, err)
	}
}

func TestSendAgainKeepsTheContent(t *testing.T) {
	f := newFixture(t)
	purged := 0
	f.eng.OnPurge(store.ShareFiles, func(store.Share) error { purged++; return nil })
	old, oldToken := f.create()
	sh, token, err := f.eng.SendAgain(old.ID, Draft{StaffID: 1, Recipients: []store.ShareRecipient{{Name: "Ana", Email: "ana@example.net"}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token == oldToken || len(sh.Snapshot) != 2 {
		t.Fatalf("new share %+v", sh)
	}
	if _, err := f.openLink(oldToken); !errors.Is(err, ErrEnded) {
		t.Fatalf("old link: %v", err)
	}
	if _, err := f.eng.Sweep(); err != nil || purged != 0 {
		t.Fatalf("the sweep purged the content the new share holds: %d %v", purged, err)
	}
	if _, err := f.openLink(token); err != nil {
		t.Fatalf("new link: %v", err)
	}
}

func TestExtendAndRemindOnce(t *testing.T) {
	f := newFixture(t)
	sh, _ := f.create()
	compose := func(sh store.Share) (*store.Message, error) {
		return &store.Message{Channel: store.ChannelEmail, To: sh.Recipients[0].Email, Kind: "share_reminder"}, nil
	}
	f.clk.t = sh.ExpiresAt.Add(-ReminderLead - time.Second)
	if n, _ := f.eng.Remind(compose); n != 0 {
		t.Fatalf("reminded %d too early", n)
	}
	f.clk.t = sh.ExpiresAt.Add(-ReminderLead)
	if n, err := f.eng.Remind(compose); n != 1 || err != nil {
		t.Fatalf("reminded %d: %v", n, err)
	}
	if n, _ := f.eng.Remind(compose); n != 0 {
		t.Fatalf("reminded twice")
	}
	got, err := f.eng.Extend(sh.ID, 20, DefaultLifetime, 1)
	if err != nil || !got.ExpiresAt.Equal(sh.ExpiresAt.Add(DefaultLifetime)) {
		t.Fatalf("extend: %v %v", got.ExpiresAt, err)
	}
	// A downloaded share is not reminded.
	if first, _ := f.eng.Downloaded(sh.ID, store.ShareEvent{Type: EventDownloaded}); !first {
		t.Fatal("first download not reported")
	}
	if first, _ := f.eng.Downloaded(sh.ID, store.ShareEvent{Type: EventDownloaded}); first {
		t.Fatal("second download reported as first")
	}
	f.clk.t = got.ExpiresAt.Add(-ReminderLead)
	if n, _ := f.eng.Remind(compose); n != 0 {
		t.Fatalf("reminded a downloaded share")
	}
}

func TestEnterAnyoneWithLink(t *testing.T) {
	f := newFixture(t)
	sh, token, err := f.eng.Create(Draft{Kind: store.SharePreso, SubjectID: 3, Visibility: store.VisibilityAnyone,
		Recipients: []store.ShareRecipient{{Name: "Ana"}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	sid, err := f.eng.Enter(sh.ID, -1, "", "ua", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !f.inside(token, sid) {
		t.Fatal("the anonymous visitor is not let in")
	}
	contacts, _ := f.create()
	if _, err := f.eng.Enter(contacts.ID, 0, "", "ua", nil); !errors.Is(err, ErrNoSession) {
		t.Fatalf("entered a contacts-only share without a code: %v", err)
	}
	evs, _ := f.eng.Events(sh.ID)
	if evs[len(evs)-1].Type != EventAnonymous {
		t.Fatalf("events %+v", evs)
	}
}

func TestBrowser(t *testing.T) {
	b, os := Browser("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.0.0 Safari/537.36")
	if b != "Chrome 118" || os != "Windows" {
		t.Fatalf("%q %q", b, os)
	}
}

// The code sent before the current one stays good while valid; entering it
// verifies the person it went to, at the number it went to, not whoever
// asked for the newer code.
func TestPreviousCodeVerifiesItsOwnRecipient(t *testing.T) {
	f := newFixture(t)
	sh, _, err := f.eng.Create(Draft{Kind: store.SharePreso, StaffID: 1, Snapshot: []uint64{1},
		Recipients: []store.ShareRecipient{
			{Name: "Claire", Mobiles: []string{"+33611111678"}, ClientID: 1},
			{Name: "Bob", Mobiles: []string{"+33622222432"}, ClientID: 3}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.eng.IssueCode(sh.ID, Targets(sh, 0)[0], DefaultCodeTTL, "ua", f.compose); err != nil {
		t.Fatal(err)
	}
	f.clk.t = f.clk.t.Add(ResendEvery)
	if _, err := f.eng.IssueCode(sh.ID, Targets(sh, 1)[0], DefaultCodeTTL, "ua", f.compose); err != nil {
		t.Fatal(err)
	}
	c, err := f.eng.CheckCode(sh.ID, 0, f.codes[0], "ua", nil)
	if err != nil || c.Result != CodeOK || c.Recipient != 0 || c.Target != "+33611111678" || c.Channel != store.ChannelSMS {
		t.Fatalf("Claire's code: %+v %v", c, err)
	}
	ss, err := f.st.ShareSession(c.Session)
	if err != nil || ss.Recipient != 0 {
		t.Fatalf("session of Claire's code: %+v %v", ss, err)
	}
	c, err = f.eng.CheckCode(sh.ID, 1, f.codes[1], "ua", nil)
	if err != nil || c.Result != CodeOK || c.Recipient != 1 || c.Target != "+33622222432" {
		t.Fatalf("Bob's code: %+v %v", c, err)
	}
}

// twoMobiles is a preso link for Claire and Bob, each with a mobile of their own.
func (f *fixture) twoMobiles(bobMobile string) store.Share {
	f.t.Helper()
	sh, _, err := f.eng.Create(Draft{Kind: store.SharePreso, StaffID: 1, Snapshot: []uint64{1},
		Recipients: []store.ShareRecipient{
			{Name: "Claire", Mobiles: []string{"+33611111678"}, ClientID: 1},
			{Name: "Bob", Mobiles: []string{bobMobile}, ClientID: 3}}}, nil)
	if err != nil {
		f.t.Fatal(err)
	}
	return sh
}

// The resend limits are each number's: Claire's code does not hold Bob's
// back, and the limit Bob hits names his number.
func TestCodeLimitsArePerNumber(t *testing.T) {
	f := newFixture(t)
	sh := f.twoMobiles("+33622222432")
	claire, bob := Targets(sh, 0)[0], Targets(sh, 1)[0]
	if _, err := f.eng.IssueCode(sh.ID, claire, DefaultCodeTTL, "ua", f.compose); err != nil {
		t.Fatal(err)
	}
	f.clk.t = f.clk.t.Add(29 * time.Second)
	if _, err := f.eng.IssueCode(sh.ID, bob, DefaultCodeTTL, "ua", f.compose); err != nil {
		t.Fatalf("Bob's code, 29 s after Claire's: %v", err)
	}
	f.clk.t = f.clk.t.Add(46 * time.Second)
	_, err := f.eng.IssueCode(sh.ID, bob, DefaultCodeTTL, "ua", f.compose)
	var limit *LimitError
	if !errors.Is(err, ErrTooSoon) || !errors.As(err, &limit) || limit.Target != bob {
		t.Fatalf("Bob's second code 46 s after his first: %v", err)
	}
	if _, err := f.eng.IssueCode(sh.ID, claire, DefaultCodeTTL, "ua", f.compose); err != nil {
		t.Fatalf("Claire's second code 75 s after her first: %v", err)
	}
	// Claire's codes through this link in the hour stop hers alone.
	for range MaxSendsPerLinkPerHour - 2 {
		f.clk.t = f.clk.t.Add(ResendEvery)
		if _, err := f.eng.IssueCode(sh.ID, claire, DefaultCodeTTL, "ua", f.compose); err != nil {
			t.Fatal(err)
		}
	}
	f.clk.t = f.clk.t.Add(ResendEvery)
	if _, err := f.eng.IssueCode(sh.ID, claire, DefaultCodeTTL, "ua", f.compose); !errors.Is(err, ErrTooManyHere) || !errors.As(err, &limit) || limit.Target != claire {
		t.Fatalf("Claire's fourth code through the link in the hour: %v", err)
	}
	if _, err := f.eng.IssueCode(sh.ID, bob, DefaultCodeTTL, "ua", f.compose); err != nil {
		t.Fatalf("Bob's second code while Claire is at her limit: %v", err)
	}
	// Every code sent is still good for the person it went to: Bob's first
	// one, asked for before several of Claire's, lets Bob in.
	c, err := f.eng.CheckCode(sh.ID, 1, f.codes[1], "ua", nil)
	if err != nil || c.Result != CodeOK || c.Recipient != 1 || c.Target != bob.To {
		t.Fatalf("Bob's first code: %+v %v", c, err)
	}
	// A code is checked against the codes of the person who enters it.
	if c, _ := f.eng.CheckCode(sh.ID, 0, f.codes[1], "ua", nil); c.Result != CodeWrong {
		t.Fatalf("Bob's code entered again, as Claire's: %+v", c)
	}
}

// Two people who share one phone share its limits: a limit protects the number.
func TestCodeLimitsOfASharedNumber(t *testing.T) {
	f := newFixture(t)
	sh := f.twoMobiles("+33611111678")
	if _, err := f.eng.IssueCode(sh.ID, Targets(sh, 0)[0], DefaultCodeTTL, "ua", f.compose); err != nil {
		t.Fatal(err)
	}
	if _, err := f.eng.IssueCode(sh.ID, Targets(sh, 1)[0], DefaultCodeTTL, "ua", f.compose); !errors.Is(err, ErrTooSoon) {
		t.Fatalf("a second code to the same phone within the minute: %v", err)
	}
}

// Five wrong entries for a person void the codes waiting for them, and no one else's.
func TestWrongEntriesVoidThePersonsCodesAlone(t *testing.T) {
	f := newFixture(t)
	sh := f.twoMobiles("+33622222432")
	for i := range 2 {
		if _, err := f.eng.IssueCode(sh.ID, Targets(sh, i)[0], DefaultCodeTTL, "ua", f.compose); err != nil {
			t.Fatal(err)
		}
	}
	wrong := "000000"
	for i := 1; wrong == f.codes[0] || wrong == f.codes[1]; i++ {
		wrong = fmt.Sprintf("%06d", i*111111)
	}
	for i := 1; i <= MaxTries; i++ {
		c, err := f.eng.CheckCode(sh.ID, 0, wrong, "ua", nil)
		if want := map[bool]CodeResult{true: CodeWornOut, false: CodeWrong}[i == MaxTries]; err != nil || c.Result != want || (want == CodeWrong && c.TriesLeft != MaxTries-i) {
			t.Fatalf("wrong entry %d for Claire: %+v %v", i, c, err)
		}
	}
	if c, _ := f.eng.CheckCode(sh.ID, 0, f.codes[0], "ua", nil); c.Result != CodeVoided {
		t.Fatalf("Claire's code after five wrong entries: %+v", c)
	}
	if c, _ := f.eng.CheckCode(sh.ID, 1, f.codes[1], "ua", nil); c.Result != CodeOK {
		t.Fatalf("Bob's code after five wrong entries for Claire: %+v", c)
	}
}

// Extend adds the days chosen to the expiry (not to now), among the
// lengths offered, and never puts it more than MaxAhead from now.
func TestExtendAddsToTheExpiry(t *testing.T) {
	f := newFixture(t)
	sh, _ := f.create()
	f.clk.t = f.clk.t.Add(2 * time.Minute)
	got, err := f.eng.Extend(sh.ID, 7, DefaultLifetime, 1)
	if err != nil || !got.ExpiresAt.Equal(sh.ExpiresAt.Add(7*24*time.Hour)) {
		t.Fatalf("7 days more: %v %v", got.ExpiresAt, err)
	}
	if _, err := f.eng.Extend(sh.ID, 30, DefaultLifetime, 1); !errors.Is(err, ErrBadExtension) {
		t.Fatalf("30 days, not offered: %v", err)
	}
	if got, err := f.eng.Extend(sh.ID, 30, 30*24*time.Hour, 1); err != nil || !got.ExpiresAt.Equal(sh.ExpiresAt.Add(37*24*time.Hour)) {
		t.Fatalf("30 days, the practice's lifetime: %v %v", got.ExpiresAt, err)
	}
	if got, err := f.eng.Extend(sh.ID, 90, DefaultLifetime, 1); err != nil || !got.ExpiresAt.Equal(f.clk.t.Add(MaxAhead)) {
		t.Fatalf("90 days more, past the furthest: %v %v", got.ExpiresAt, err)
	}
	// At the furthest already, an extension (even seconds later) changes
	// nothing and records nothing.
	before, _ := f.eng.Events(sh.ID)
	longest, _ := f.eng.Get(sh.ID)
	f.clk.t = f.clk.t.Add(30 * time.Second)
	for _, days := range []int{90, 7} {
		if _, err := f.eng.Extend(sh.ID, days, DefaultLifetime, 1); !errors.Is(err, ErrAtLongest) {
			t.Fatalf("%d days more at the furthest: %v", days, err)
		}
	}
	if after, _ := f.eng.Events(sh.ID); len(after) != len(before) {
		t.Fatalf("an extension that changed nothing was recorded: %+v", after[len(after)-1])
	}
	if got, _ := f.eng.Get(sh.ID); !got.ExpiresAt.Equal(longest.ExpiresAt) {
		t.Fatalf("the expiry moved: %v → %v", longest.ExpiresAt, got.ExpiresAt)
	}
	if c := ExtendChoices(12 * 24 * time.Hour); !slices.Equal(c, []int{7, 12, 20, 90}) {
		t.Fatalf("choices with a 12-day lifetime: %v", c)
	}
	f.clk.t = sh.ExpiresAt.Add(100 * 24 * time.Hour)
	if _, err := f.eng.Extend(sh.ID, 7, DefaultLifetime, 1); !errors.Is(err, ErrEnded) {
		t.Fatalf("extend past the expiry: %v", err)
	}
}

// The limits protect a phone, not a link: a preso link and a document share
// to one client's mobile count their codes together, and neither lets the
// number get more than its limits.
func TestCodeLimitsAcrossShares(t *testing.T) {
	f := newFixture(t)
	mobile := "+33611223304"
	docs, _ := f.create(mobile)
	preso, _, err := f.eng.Create(Draft{Kind: store.SharePreso, StaffID: 1, Snapshot: []uint64{1},
		Recipients: []store.ShareRecipient{{Name: "Ana", Mobiles: []string{mobile}, ClientID: 7}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.eng.IssueCode(preso.ID, Targets(preso, 0)[0], DefaultCodeTTL, "ua", f.compose); err != nil {
		t.Fatal(err)
	}
	var limit *LimitError
	_, err = f.eng.IssueCode(docs.ID, Targets(docs, 0)[0], DefaultCodeTTL, "ua", f.compose)
	if !errors.Is(err, ErrTooSoon) || !errors.As(err, &limit) || limit.Target.To != mobile {
		t.Fatalf("a document code to the number the preso link texted in the same second: %v", err)
	}
	// Five in the hour, whichever link asks: the sixth is refused on both.
	for i := range MaxSendsPerHour - 1 {
		f.clk.t = f.clk.t.Add(ResendEvery + time.Second)
		sh := []store.Share{docs, preso}[i%2]
		if _, err := f.eng.IssueCode(sh.ID, Targets(sh, 0)[0], DefaultCodeTTL, "ua", f.compose); err != nil {
			t.Fatalf("code %d of the hour: %v", i+2, err)
		}
	}
	f.clk.t = f.clk.t.Add(ResendEvery + time.Second)
	for _, sh := range []store.Share{docs, preso} {
		if _, err := f.eng.IssueCode(sh.ID, Targets(sh, 0)[0], DefaultCodeTTL, "ua", f.compose); !errors.Is(err, ErrTooMany) {
			t.Fatalf("a sixth code in the hour through share %d: %v", sh.ID, err)
		}
	}
	// A restart forgets none of it.
	f.restart()
	if _, err := f.eng.IssueCode(docs.ID, Targets(docs, 0)[0], DefaultCodeTTL, "ua", f.compose); !errors.Is(err, ErrTooMany) {
		t.Fatalf("after a restart: %v", err)
	}
	// An hour after the first, one more may go; the sweep keeps the record
	// of a number still within its hour.
	f.clk.t = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	if _, err := f.eng.Sweep(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.eng.IssueCode(docs.ID, Targets(docs, 0)[0], DefaultCodeTTL, "ua", f.compose); err != nil {
		t.Fatalf("an hour after the first: %v", err)
	}
	code := f.codes[len(f.codes)-1]
	if _, err := f.eng.IssueCode(preso.ID, Targets(preso, 0)[0], DefaultCodeTTL, "ua", f.compose); !errors.Is(err, ErrTooSoon) {
		t.Fatalf("the preso link right after, after the sweep: %v", err)
	}
	// The code that went is good on the link it was asked on.
	if c, err := f.eng.CheckCode(docs.ID, 0, code, "ua", nil); err != nil || c.Result != CodeOK {
		t.Fatalf("the document share's last code: %+v %v", c, err)
	}
}

// An address is one inbox whatever its case: its limits are one.
func TestCodeLimitsOfAnAddressIgnoreCase(t *testing.T) {
	f := newFixture(t)
	a, _ := f.create()
	b, _, err := f.eng.Create(Draft{Kind: store.SharePreso, StaffID: 1, Snapshot: []uint64{1},
		Recipients: []store.ShareRecipient{{Name: "Ana", Email: "Ana@Example.org", ClientID: 7}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.eng.IssueCode(a.ID, Targets(a, 0)[0], DefaultCodeTTL, "ua", f.compose); err != nil {
		t.Fatal(err)
	}
	if _, err := f.eng.IssueCode(b.ID, Targets(b, 0)[0], DefaultCodeTTL, "ua", f.compose); !errors.Is(err, ErrTooSoon) {
		t.Fatalf("a second code to the same inbox: %v", err)
	}
}

// A share's count of sends kept before the limits were the number's is still
// counted, as this link's part of the number's hour, and joins the number's.
func TestCodeLimitsKeepAShareCount(t *testing.T) {
	f := newFixture(t)
	sh, _ := f.create("+33611223303")
	target := Targets(sh, 0)[0]
	_, err := f.st.ChangeShare(sh.ID, func(ch *store.ShareChange) error {
		ch.Code.SentTo = map[string][]time.Time{store.CodeTargetKey(target.Channel, target.To): {
			f.clk.t.Add(-50 * time.Minute), f.clk.t.Add(-40 * time.Minute), f.clk.t.Add(-30 * time.Minute), f.clk.t.Add(-20 * time.Second)}}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.issue(sh); !errors.Is(err, ErrTooSoon) {
		t.Fatalf("20 s after a send the share counted: %v", err)
	}
	f.clk.t = f.clk.t.Add(ResendEvery)
	if err := f.issue(sh); !errors.Is(err, ErrTooManyHere) {
		t.Fatalf("four sends in the hour counted by the share: %v", err)
	}
	// 21 minutes on, the two oldest are past the hour: two left, a third may go.
	f.clk.t = f.clk.t.Add(20 * time.Minute)
	if err := f.issue(sh); err != nil {
		t.Fatal(err)
	}
	c, err := f.st.ShareCode(sh.ID)
	if err != nil || len(c.SentTo[target.limitKey()]) != 3 {
		t.Fatalf("the link's own sends: %+v %v", c.SentTo, err)
	}
	err = f.st.ReadShare(sh.ID, func(_ store.Share, r store.LinkTx) error {
		if sent, err := r.CodeSends(target.limitKey()); err != nil || len(sent) != 3 {
			t.Fatalf("the number's sends: %v %v", sent, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
