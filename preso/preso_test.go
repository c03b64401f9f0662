package preso

import (
	"bytes"
	"encoding/base64"
	"errors"
	"image"
	"image/png"
	"strings"
	"testing"
	"time"

	"foyer/share"
	"foyer/store"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// fixture is a store with an owner, a practitioner, two clients with a
// mobile each, the share engine and the presos over them, on a clock the
// test moves.
type fixture struct {
	t        *testing.T
	st       *store.Store
	clk      *clock
	shares   *share.Engine
	s        *Service
	admin    Editor
	prac     Editor
	mia, leo store.Client
	codes    []string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &fixture{t: t, st: st, clk: &clock{time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}}
	f.shares = share.New(st, f.clk.now)
	f.s = New(st, f.shares, f.clk.now)
	f.shares.OnAudience(store.SharePreso, f.s.Audience)
	f.shares.OnPurge(store.SharePreso, f.s.Purge)
	owner := &store.Staff{Name: "Olive", Email: "olive@example.org", Role: store.RoleOwner, Active: true}
	prac := &store.Staff{Name: "Paul", Email: "paul@example.org", Role: store.RolePractitioner, Active: true}
	for _, s := range []*store.Staff{owner, prac} {
		if err := st.CreateStaff(s); err != nil {
			t.Fatal(err)
		}
	}
	f.admin, f.prac = Editor{ID: owner.ID, Admin: true}, Editor{ID: prac.ID}
	f.mia = f.client("Mia", "+33612345678")
	f.leo = f.client("Léo", "+33611111111")
	return f
}

func (f *fixture) client(name, mobile string) store.Client {
	f.t.Helper()
	c := &store.Client{FirstName: name, LastName: "Martin", Lang: "en", Email: name + "@example.org"}
	if mobile != "" {
		c.Phones = []store.Phone{{Type: store.PhoneMobile, Number: mobile, Mobile: true}}
	}
	if err := f.st.CreateClient(c); err != nil {
		f.t.Fatal(err)
	}
	return *c
}

// preso makes a preso of the practitioner with three slides (the middle
// one left out, the last a signing slide) for the given contacts.
func (f *fixture) preso(contacts ...store.Client) store.Preso {
	f.t.Helper()
	p, err := f.s.Create(f.prac, Draft{Title: "Pension plan", FirstSlide: "Hello"})
	if err != nil {
		f.t.Fatal(err)
	}
	must := func(p store.Preso, err error) store.Preso {
		f.t.Helper()
		if err != nil {
			f.t.Fatal(err)
		}
		return p
	}
	_, draft, err := f.s.AddSlide(f.prac, p.ID, store.SlideContent, "Draft")
	if err != nil {
		f.t.Fatal(err)
	}
	p = must(f.s.ToggleSlide(f.prac, p.ID, draft))
	if p, _, err = f.s.AddSlide(f.prac, p.ID, store.SlideSigning, "Sign here"); err != nil {
		f.t.Fatal(err)
	}
	for _, c := range contacts {
		p = must(f.s.AddContact(f.prac, p.ID, c.ID))
	}
	return p
}

// link creates p's link and returns it with its token.
func (f *fixture) link(p store.Preso) (store.Share, string) {
	f.t.Helper()
	p, err := f.s.Get(f.prac, p.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	sh, err := f.s.CreateLink(f.prac, p, share.DefaultLifetime)
	if err != nil {
		f.t.Fatal(err)
	}
	token, err := f.shares.Link(sh)
	if err != nil {
		f.t.Fatal(err)
	}
	return sh, token
}

// visit is the share engine's admission of a request of token with session sid.
func (f *fixture) visit(token, sid string) share.Visit {
	f.t.Helper()
	v, err := f.shares.Admit(token, func(uint64) string { return sid })
	if err != nil {
		f.t.Fatal(err)
	}
	return v
}

var in = Visitor{UserAgent: "Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0", IP: "192.0.2.1"}

func TestWhoMayEdit(t *testing.T) {
	f := newFixture(t)
	p := f.preso()
	other := Editor{ID: 99}
	if _, err := f.s.Get(other, p.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("another practitioner opened it: %v", err)
	}
	if _, err := f.s.Rename(other, p.ID, "Mine"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("another practitioner renamed it: %v", err)
	}
	if _, err := f.s.Get(f.admin, p.ID); err != nil {
		t.Fatalf("the owner cannot open it: %v", err)
	}
	tmpl, err := f.s.Create(f.prac, Draft{Title: "T", AsTemplate: true, FirstSlide: "One"})
	if err != nil || tmpl.Template {
		t.Fatalf("a practitioner made a template: %+v %v", tmpl.Template, err)
	}
	tmpl, err = f.s.Create(f.admin, Draft{AsTemplate: true, Contact: f.mia.ID, Untitled: "Untitled", FirstSlide: "One"})
	if err != nil || !tmpl.Template || len(tmpl.ContactIDs) != 0 || tmpl.Title != "Untitled" {
		t.Fatalf("template: %+v %v", tmpl, err)
	}
	if _, err := f.s.Get(f.prac, tmpl.ID); !errors.Is(err, ErrNotFound) {
		t.Fatal("a practitioner opened a template")
	}
	if _, err := f.s.AddContact(f.admin, tmpl.ID, f.mia.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a template got a contact: %v", err)
	}
	// From the template: its slides, each at its first revision, and its title unless one is given.
	f.clk.t = f.clk.t.Add(time.Hour)
	if _, _, err := f.s.SaveSlide(f.admin, tmpl.ID, 1, 1, "One", "text"); err != nil {
		t.Fatal(err)
	}
	p2, err := f.s.Create(f.prac, Draft{Template: tmpl.ID, Contact: f.mia.ID})
	if err != nil || p2.Title != "Untitled" || len(p2.Slides) != 1 || p2.Slides[0].Rev != 1 || p2.Slides[0].Body != "text" || p2.OwnerID != f.prac.ID {
		t.Fatalf("from the template: %+v %v", p2, err)
	}
	if _, err := f.s.Create(f.prac, Draft{Template: p.ID}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a preso used as a template: %v", err)
	}
	mine, templates, err := f.s.List(f.prac)
	// "T" is a preso: a practitioner's template is not one.
	if err != nil || len(mine) != 3 || len(templates) != 1 || mine[0].ID != p2.ID {
		t.Fatalf("list: %d presos, %d templates, %v", len(mine), len(templates), err)
	}
	// Handed over, the practitioner no longer edits it; a deactivated colleague cannot take it.
	if _, err := f.s.HandOver(f.prac, p.ID, store.Staff{ID: 77}); !errors.Is(err, ErrNotColleague) {
		t.Fatalf("handed to an inactive colleague: %v", err)
	}
	if _, err := f.s.HandOver(f.prac, p.ID, store.Staff{ID: f.admin.ID, Active: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.Get(f.prac, p.ID); !errors.Is(err, ErrNotFound) {
		t.Fatal("still editable after the hand-over")
	}
	acts, err := f.s.Activity(store.Preso{ID: p.ID})
	if err != nil || len(acts) == 0 || acts[0].Kind != "handed_over" || acts[0].StaffID != f.prac.ID || acts[0].OtherID != f.admin.ID {
		t.Fatalf("activity: %+v %v", acts, err)
	}
}

func TestSlides(t *testing.T) {
	f := newFixture(t)
	p := f.preso()
	if len(p.Slides) != 3 || !p.Slides[1].Excluded || p.Slides[2].Kind != store.SlideSigning {
		t.Fatalf("slides: %+v", p.Slides)
	}
	// A save from an older revision is refused; a save that changes nothing keeps the revision.
	p, s, err := f.s.SaveSlide(f.prac, p.ID, 1, 1, "Hello", "Body")
	if err != nil || s.Rev != 2 {
		t.Fatalf("save: %+v %v", s, err)
	}
	content := p.Content
	if _, _, err := f.s.SaveSlide(f.prac, p.ID, 1, 1, "Hello", "Other"); !errors.Is(err, ErrStale) {
		t.Fatalf("stale save: %v", err)
	}
	if p, s, err = f.s.SaveSlide(f.prac, p.ID, 1, 2, "Hello", "Body"); err != nil || s.Rev != 2 || p.Content != content {
		t.Fatalf("same text saved: rev %d content %d→%d %v", s.Rev, content, p.Content, err)
	}
	if p, err = f.s.MoveSlide(f.prac, p.ID, 3, true); err != nil || p.Slides[1].ID != 3 {
		t.Fatalf("move up: %+v %v", p.Slides, err)
	}
	if p, err = f.s.MoveSlide(f.prac, p.ID, 1, true); err != nil || p.Slides[0].ID != 1 {
		t.Fatalf("move the first up: %+v %v", p.Slides, err)
	}
	for _, bad := range [][]uint64{{1, 2}, {1, 1, 2}, {1, 2, 9}} {
		if _, err := f.s.Reorder(f.prac, p.ID, bad); !errors.Is(err, ErrOrderChanged) {
			t.Fatalf("order %v: %v", bad, err)
		}
	}
	if p, err = f.s.Reorder(f.prac, p.ID, []uint64{2, 3, 1}); err != nil || p.Slides[0].ID != 2 || p.Slides[2].ID != 1 {
		t.Fatalf("reorder: %+v %v", p.Slides, err)
	}
	if p, err = f.s.SetSlideImage(f.prac, p.ID, 1, "abc", "image/png"); err != nil {
		t.Fatal(err)
	}
	if sl, _ := p.Slide(1); sl.Image != "abc" || sl.Rev != 3 {
		t.Fatalf("image: %+v", sl)
	}
	if p, err = f.s.SetSlideImage(f.prac, p.ID, 1, "", "image/png"); err != nil {
		t.Fatal(err)
	}
	if sl, _ := p.Slide(1); sl.Image != "" || sl.ImageType != "" {
		t.Fatalf("image removed: %+v", sl)
	}
	if p, err = f.s.DeleteSlide(f.prac, p.ID, 2); err != nil || len(p.Slides) != 2 {
		t.Fatalf("delete: %+v %v", p.Slides, err)
	}
	if _, err := f.s.DeleteSlide(f.prac, p.ID, 2); !errors.Is(err, ErrNotFound) {
		t.Fatalf("delete a deleted slide: %v", err)
	}
	for len(p.Slides) < MaxSlides {
		if p, _, err = f.s.AddSlide(f.prac, p.ID, store.SlideContent, "More"); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := f.s.AddSlide(f.prac, p.ID, "unknown", "One too many"); !errors.Is(err, ErrTooManySlides) {
		t.Fatalf("slide %d: %v", MaxSlides+1, err)
	}
}

func TestLinksAndVisibility(t *testing.T) {
	f := newFixture(t)
	nomobile := f.client("Zoé", "")
	p := f.preso()
	if _, err := f.s.CreateLink(f.prac, p, time.Hour); !errors.Is(err, ErrNoContacts) {
		t.Fatalf("a link without contacts: %v", err)
	}
	if _, _, err := f.s.SetVisibility(f.prac, p.ID, store.VisibilityContacts); !errors.Is(err, ErrNoContacts) {
		t.Fatalf("contacts only without contacts: %v", err)
	}
	p, _ = f.s.AddContact(f.prac, p.ID, nomobile.ID)
	if _, _, err := f.s.SetVisibility(f.prac, p.ID, store.VisibilityContacts); !errors.Is(err, ErrNoMobiles) {
		t.Fatalf("contacts only with a contact without a mobile: %v", err)
	}
	p, _ = f.s.RemoveContact(f.prac, p.ID, nomobile.ID)
	p, _ = f.s.AddContact(f.prac, p.ID, f.mia.ID)
	sh, token := f.link(p)
	if sh.Visibility != store.VisibilityAnyone || len(sh.Recipients) != 1 || sh.Recipients[0].Mobiles[0] != "+33612345678" || sh.ClientID != f.mia.ID {
		t.Fatalf("link: %+v", sh)
	}
	snap, err := f.s.Viewer(f.visit(token, ""))
	if err != nil || len(snap.Slides) != 2 || snap.Title != "Pension plan" {
		t.Fatalf("snapshot: %+v %v", snap, err)
	}
	box, err := f.s.Box(p)
	if err != nil || box.Live == nil || box.Live.Token != token || box.OutOfDate {
		t.Fatalf("box: %+v %v", box, err)
	}
	// A change of content, or of contacts, puts the link out of date.
	p, _, _ = f.s.SaveSlide(f.prac, p.ID, 1, 1, "Hello again", "")
	if out, _ := f.s.OutOfDate(p, sh); !out {
		t.Fatal("not out of date after an edit")
	}
	// "Contacts only" applies to the live link at once: whoever is in proves it again.
	v := f.visit(token, "")
	entry, err := f.s.Enter(v, 0, "", "", in)
	if err != nil || !f.visit(token, entry.Session).Admitted() {
		t.Fatalf("enter: %v", err)
	}
	p, tightened, err := f.s.SetVisibility(f.prac, p.ID, store.VisibilityContacts)
	if err != nil || !tightened {
		t.Fatalf("tighten: %v %v", tightened, err)
	}
	if v := f.visit(token, entry.Session); v.Admitted() || v.Share.Visibility != store.VisibilityContacts {
		t.Fatal("the session opened before contacts only still lets in")
	}
	// Refresh: the same link, the slides of now.
	if err := f.s.RefreshLink(f.prac, p, sh.ID); err != nil {
		t.Fatal(err)
	}
	snap, _ = f.s.Viewer(f.visit(token, ""))
	if snap.Slides[0].Title != "Hello again" {
		t.Fatalf("after refresh: %+v", snap.Slides[0])
	}
	if box, _ = f.s.Box(p); box.OutOfDate {
		t.Fatal("out of date after refresh")
	}
	// Removing the last contact makes the preso open to anyone again, for its next link.
	q, _ := f.s.RemoveContact(f.prac, p.ID, f.mia.ID)
	if q.Visibility != store.VisibilityAnyone {
		t.Fatalf("visibility without contacts: %s", q.Visibility)
	}
	// Expire: the link is over and its snapshot's content gone, the slides'
	// titles left for the numbers.
	if err := f.s.ExpireLink(f.prac, p, sh.ID); err != nil {
		t.Fatal(err)
	}
	if got, err := f.st.Snapshot(snap.ID); err != nil || !got.Outline || len(got.Slides) != len(snap.Slides) || got.Slides[0].Body != "" {
		t.Fatalf("snapshot after Expire: %+v %v", got, err)
	}
	if err := f.s.RefreshLink(f.prac, p, sh.ID); !errors.Is(err, share.ErrEnded) {
		t.Fatalf("refresh of an expired link: %v", err)
	}
	if err := f.s.RefreshLink(f.prac, q, sh.ID); !errors.Is(err, ErrNoContacts) {
		t.Fatalf("refresh without contacts: %v", err)
	}
	if _, err := f.s.Link(store.Preso{ID: p.ID + 1}, sh.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("another preso's link: %v", err)
	}
}

// A link lets in each contact still on the preso whose record is not
// archived; the others keep their access.
func TestAudiencePerContact(t *testing.T) {
	f := newFixture(t)
	p := f.preso(f.mia, f.leo)
	_, token := f.link(p)
	v := f.visit(token, "")
	if names := Names(v); len(names) != 2 {
		t.Fatalf("names: %+v", names)
	}
	mia, err := f.s.Enter(v, 0, "", "", in)
	if err != nil {
		t.Fatal(err)
	}
	leo, err := f.s.Enter(v, 1, "", "", in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.st.ArchiveClient(f.mia.ID, true); err != nil {
		t.Fatal(err)
	}
	if v := f.visit(token, mia.Session); !v.Refused || v.Admitted() {
		t.Fatal("archived Mia still in")
	}
	v = f.visit(token, leo.Session)
	if !v.Admitted() {
		t.Fatal("Léo lost access with Mia")
	}
	if names := Names(v); len(names) != 1 || names[0].N != 1 {
		t.Fatalf("names with Mia archived: %+v", names)
	}
	if _, ok := Mobiles(v, 0); ok {
		t.Fatal("Mia's mobiles offered")
	}
	if _, err := f.s.Enter(v, 0, "", "", in); !errors.Is(err, share.ErrRefused) {
		t.Fatalf("Mia came in again: %v", err)
	}
	// Léo removed from the contacts: nobody is left, the link opens for nobody.
	p, err = f.s.RemoveContact(f.prac, p.ID, f.leo.ID)
	if err != nil {
		t.Fatal(err)
	}
	if v := f.visit(token, leo.Session); !errors.Is(v.Err, share.ErrEnded) {
		t.Fatalf("nobody left: %v", v.Err)
	}
	// The sharing box says so: the link is live (Refresh link revives it) but opens for nobody.
	if box, err := f.s.Box(p); err != nil || box.Live == nil || !box.Live.Nobody || !box.OutOfDate {
		t.Fatalf("box with nobody left: %+v %v", box.Live, err)
	}
	// A contact added, then Refresh link: it opens again, and the box says it does.
	p, _ = f.s.AddContact(f.prac, p.ID, f.leo.ID)
	if err := f.s.RefreshLink(f.prac, p, f.visit(token, "").Share.ID); err != nil {
		t.Fatal(err)
	}
	if v := f.visit(token, ""); v.Err != nil || !v.Audience.Admits(-1) {
		t.Fatalf("after Refresh link: %v", v.Err)
	}
	if box, err := f.s.Box(p); err != nil || box.Live == nil || box.Live.Nobody || box.OutOfDate {
		t.Fatalf("box after Refresh link: %+v %v", box.Live, err)
	}
}

// Coming in and entering a code each begin the session and the viewing in
// one write; a beacon counts only for this browser's viewing.
func TestVisitViewingAndBeacons(t *testing.T) {
	f := newFixture(t)
	p := f.preso(f.mia, f.leo)
	p, _, _ = f.s.SetVisibility(f.prac, p.ID, store.VisibilityContacts)
	_, token := f.link(p)
	v := f.visit(token, "")
	if _, err := f.s.Enter(v, 0, "", "", in); !errors.Is(err, share.ErrNoSession) {
		t.Fatalf("came into a contacts-only link by name: %v", err)
	}
	mobiles, ok := Mobiles(v, 1)
	if !ok || len(mobiles) != 1 || mobiles[0].Masked() != "••• ••• 111" {
		t.Fatalf("Léo's mobiles: %+v", mobiles)
	}
	compose := func(t share.Target, code string, _ time.Time) (*store.Message, error) {
		f.codes = append(f.codes, code)
		return &store.Message{Channel: t.Channel, To: t.To, Kind: "preso_code", Secret: code}, nil
	}
	if err := f.s.SendCode(v, 1, 5, share.DefaultCodeTTL, in.UserAgent, compose); err != nil {
		t.Fatal(err)
	}
	before := f.st.TxCounts()
	res, entry, err := f.s.Verify(v, 1, f.codes[0], in)
	if got := f.st.TxCounts().Sub(before); got.Writes != 1 || got.Reads != 0 {
		t.Fatalf("Verify ran %+v", got)
	}
	if err != nil || res.Result != share.CodeOK || res.Recipient != 1 || entry.Session == "" || entry.Viewing == "" {
		t.Fatalf("verify: %+v %+v %v", res, entry, err)
	}
	v = f.visit(token, entry.Session)
	snap, err := f.s.Viewer(v)
	if err != nil {
		t.Fatal(err)
	}
	vw, held, started, err := f.s.Viewing(v, snap, entry.Viewing, in)
	if err != nil || started || held != entry.Viewing || vw.ContactID != f.leo.ID || vw.Verification != "sms" || vw.VerifiedTo != "••• ••• 111" || vw.Browser != "Firefox 120 · Linux" {
		t.Fatalf("viewing: %+v started %v %v", vw, started, err)
	}
	f.clk.t = f.clk.t.Add(10 * time.Second)
	if err := f.s.Beacon(v, snap, held, held, snap.Slides[0].ID, 4000); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		held, posted string
		slide        uint64
		ms           int64
		want         error
	}{
		"another browser's token": {"", held, snap.Slides[0].ID, 10, ErrForbidden},
		"a left-out slide":        {held, held, 2, 10, ErrBadBeacon},
		"negative time":           {held, held, snap.Slides[0].ID, -1, ErrBadBeacon},
		"a short token":           {held, "abc", snap.Slides[0].ID, 10, ErrBadBeacon},
	} {
		if err := f.s.Beacon(v, snap, c.held, c.posted, c.slide, c.ms); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
	// A beacon never counts more than the clock: an hour reported ten
	// seconds after the last beacon is ten seconds and the slack.
	f.clk.t = f.clk.t.Add(10 * time.Second)
	if err := f.s.Beacon(v, snap, held, held, snap.Slides[1].ID, 3_600_000); err != nil {
		t.Fatal(err)
	}
	numbers, err := f.s.Numbers(v.Share)
	if err != nil || len(numbers) != 1 {
		t.Fatalf("numbers: %+v %v", numbers, err)
	}
	n := numbers[0]
	if n.Slides[0].Millis != 4000 || n.Slides[1].Millis != 10000+store.BeaconSlack.Milliseconds() || n.Slides[1].Width != 100 || n.Slides[0].Width != 33 || n.Millis != n.Slides[0].Millis+n.Slides[1].Millis {
		t.Fatalf("numbers: %+v", n)
	}
	lines, err := f.s.BeaconLines(v.Share)
	if err != nil || len(lines) != 2 || lines[1].N != 2 || lines[1].Title != "Sign here" {
		t.Fatalf("lines: %+v %v", lines, err)
	}
	// The link shows a new snapshot (Refresh link): Léo's viewing goes on with it.
	next := store.Snapshot{ID: snap.ID + 100}
	vw, same, started, err := f.s.Viewing(v, next, held, in)
	if err != nil || started || same != held || vw.SnapshotID != next.ID {
		t.Fatalf("Léo's viewing on the new snapshot: %+v %v %v", vw, started, err)
	}
	if stored, _ := f.st.Viewing(vw.ID); stored.SnapshotID != next.ID || stored.CreditedMillis == 0 {
		t.Fatalf("stored viewing: %+v", stored)
	}
	// Someone else in this browser (Mia, by her own code) gets a viewing of her own.
	v.Session.Recipient = 0
	if _, other, started, err := f.s.Viewing(v, next, held, in); err != nil || !started || other == held {
		t.Fatalf("Mia's viewing with Léo's token: %v %v", started, err)
	}
}

func drawing(t *testing.T) string {
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewRGBA(image.Rect(0, 0, 20, 10))); err != nil {
		t.Fatal(err)
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())
}

func TestSigning(t *testing.T) {
	f := newFixture(t)
	p := f.preso(f.mia)
	_, token := f.link(p)
	v := f.visit(token, "")
	entry, err := f.s.Enter(v, 0, "", "", in)
	if err != nil {
		t.Fatal(err)
	}
	v = f.visit(token, entry.Session)
	snap, _ := f.s.Viewer(v)
	vw, _, _, _ := f.s.Viewing(v, snap, entry.Viewing, in)
	signing := snap.Slides[1].ID
	if _, err := f.s.Sign(v, snap, vw, Signing{SlideID: snap.Slides[0].ID, Name: "Mia Martin", TypedOnly: true, Consent: true}); !errors.Is(err, ErrNotSigningSlide) {
		t.Fatalf("signed a content slide: %v", err)
	}
	_, err = f.s.Sign(v, snap, vw, Signing{SlideID: signing, Name: "Mia Martin", Drawing: "data:image/png;base64,AAAA"})
	var fe FieldErrors
	if !errors.As(err, &fe) || len(fe) != 2 || !errors.Is(fe[0].Err, ErrDrawingInvalid) || !errors.Is(fe[1].Err, ErrNoConsent) {
		t.Fatalf("a bad signing: %v", err)
	}
	if _, err := CheckSigning(Signing{}); !errors.As(err, &fe) || !errors.Is(fe[0].Err, ErrDrawingMissing) {
		t.Fatalf("no drawing: %v", err)
	}
	if sig, _ := f.s.Signed(vw, signing); sig != nil {
		t.Fatal("signed before signing")
	}
	f.clk.t = f.clk.t.Add(time.Minute)
	if n, err := f.s.Sign(v, snap, vw, Signing{SlideID: signing, Name: "mia  MARTIN", Drawing: drawing(t), Consent: true, IP: "192.0.2.9"}); err != nil || n != 2 {
		t.Fatalf("sign: %d %v", n, err)
	}
	// Twice from the same viewing: one signature.
	if _, err := f.s.Sign(v, snap, vw, Signing{SlideID: signing, Name: "Someone", TypedOnly: true, Consent: true}); err != nil {
		t.Fatal(err)
	}
	sig, err := f.s.Signed(vw, signing)
	if err != nil || sig == nil || sig.Name != "mia  MARTIN" || sig.ContactName != "Mia Martin" || sig.SnapshotSHA256 != snap.SHA256 || !sig.At.Equal(f.clk.t) || len(sig.Drawing) == 0 {
		t.Fatalf("signature: %+v %v", sig, err)
	}
	if NameMismatch(*sig) != NameOK {
		t.Fatal("the same name, typed differently, flagged")
	}
	sig.Name = "Someone Else"
	if NameMismatch(*sig) != NameDiffersPicked {
		t.Fatal("another name picked from the list not flagged as such")
	}
	sig.Verification = "sms"
	if NameMismatch(*sig) != NameDiffersVerified {
		t.Fatal("another name after a code not flagged as such")
	}
	got, err := f.s.Signature(p, 1)
	if err != nil || got.ID != 1 {
		t.Fatalf("signature of the preso: %v", err)
	}
	if _, err := f.s.Signature(store.Preso{ID: p.ID + 1}, 1); !errors.Is(err, ErrNotFound) {
		t.Fatalf("another preso's signature: %v", err)
	}
	acts, _ := f.s.Activity(p)
	if acts[0].Signature == nil || acts[0].Signature.ID != 1 {
		t.Fatalf("activity: %+v", acts[0])
	}
}

// Deleting a preso ends its links (their snapshots purged) and removes it;
// viewings stay, as the record of what was seen.
func TestDelete(t *testing.T) {
	f := newFixture(t)
	p := f.preso(f.mia)
	sh, token := f.link(p)
	entry, err := f.s.Enter(f.visit(token, ""), -1, "Paul", "paul@example.org", in)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.s.Delete(Editor{ID: 99}, p.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted by another practitioner: %v", err)
	}
	if err := f.s.Delete(f.prac, p.ID); err != nil {
		t.Fatal(err)
	}
	if v := f.visit(token, entry.Session); !errors.Is(v.Err, share.ErrEnded) {
		t.Fatalf("link after delete: %v", v.Err)
	}
	if _, err := f.st.Preso(p.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatal("still stored")
	}
	if _, err := f.st.Snapshot(sh.Snapshot[0]); !errors.Is(err, store.ErrNotFound) {
		t.Fatal("snapshot still stored")
	}
	vs, _ := f.st.ShareViewings(sh.ID)
	if len(vs) != 1 || vs[0].Name != "Paul" || vs[0].Email != "paul@example.org" || !Declared(vs[0]) || vs[0].Anonymous {
		t.Fatalf("viewings: %+v", vs)
	}
}

func TestTotals(t *testing.T) {
	slides := []store.Slide{{ID: 1, Title: "A"}, {ID: 2, Title: "B"}, {ID: 3, Title: "C"}}
	got := Totals(slides, []store.SlideTime{{SlideID: 2, Millis: 3000}, {SlideID: 1, Millis: 1000}, {SlideID: 2, Millis: 1000}, {SlideID: 9, Millis: 50}})
	if len(got) != 3 || got[0].Millis != 1000 || got[0].Width != 25 || got[1].Millis != 4000 || got[1].Width != 100 || got[2].Millis != 0 || got[2].N != 3 {
		t.Fatalf("totals: %+v", got)
	}
	if got := Totals(slides, nil); got[0].Width != 0 {
		t.Fatalf("no time: %+v", got)
	}
}

// People counts each contact once, each name given once, each anonymous viewing.
func TestPeople(t *testing.T) {
	vs := []store.Viewing{
		{ContactID: 1, Name: "Mia Martin"}, {ContactID: 1, Name: "Mia Martin"}, {ContactID: 2, Name: "Léo Lemaire"},
		{Name: "Anne Roux", Email: "anne@example.org"}, {Name: " anne  ROUX ", Email: "Anne@example.org"},
		{Name: "Anne Roux"}, {Anonymous: true}, {Anonymous: true},
	}
	if n := People(vs); n != 6 {
		t.Fatalf("%d people, want Mia, Léo, Anne with her email, Anne without, two anonymous", n)
	}
	if n := People(nil); n != 0 {
		t.Fatalf("%d people of no viewing", n)
	}
}

// The snapshots no link shows any more leave the store after a grace: one
// Refresh link replaced keeps its outline if someone viewed it, else goes
// whole, as does one a crash left without its link; the one the link shows
// stays whole.
func TestSweepSnapshots(t *testing.T) {
	f := newFixture(t)
	p := f.preso(f.mia)
	sh, token := f.link(p)
	viewed := sh.Snapshot[0]
	if _, err := f.s.Enter(f.visit(token, ""), 0, "", "", in); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the first snapshot was viewed, the second was not
		if err := f.s.RefreshLink(f.prac, p, sh.ID); err != nil {
			t.Fatal(err)
		}
	}
	orphan, err := f.st.SaveSnapshot(p.ID, f.clk.t) // a crash between the snapshot and its link
	if err != nil {
		t.Fatal(err)
	}
	sh, _ = f.shares.Get(sh.ID)
	shown := sh.Snapshot[0]
	if n, err := f.s.SweepSnapshots(); n != 0 || err != nil {
		t.Fatalf("swept %d within the grace: %v", n, err)
	}
	f.clk.t = f.clk.t.Add(SnapshotGrace)
	if n, err := f.s.SweepSnapshots(); n != 3 || err != nil {
		t.Fatalf("swept %d, want the two replaced and the orphan: %v", n, err)
	}
	if snap, err := f.st.Snapshot(viewed); err != nil || !snap.Outline || snap.Slides[0].Title != "Hello" {
		t.Fatalf("the viewed snapshot: %+v %v", snap, err)
	}
	for _, id := range []uint64{viewed + 1, orphan.ID} {
		if _, err := f.st.Snapshot(id); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("snapshot %d, neither shown nor viewed: %v", id, err)
		}
	}
	if snap, err := f.st.Snapshot(shown); err != nil || snap.Outline {
		t.Fatalf("the snapshot the link shows: %+v %v", snap, err)
	}
	if n, _ := f.s.SweepSnapshots(); n != 0 {
		t.Fatalf("swept %d again", n)
	}
	// The link ends: its snapshot keeps an outline only while a viewing needs it.
	if err := f.s.ExpireLink(f.prac, p, sh.ID); err != nil {
		t.Fatal(err)
	}
	f.clk.t = f.clk.t.Add(SnapshotGrace)
	if n, _ := f.s.SweepSnapshots(); n != 1 {
		t.Fatalf("swept %d after the link ended, want its unviewed snapshot", n)
	}
	if _, err := f.st.Snapshot(shown); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the ended link's unviewed snapshot: %v", err)
	}
}

// A snapshot someone signed stays whole, whatever became of its link: it
// is the record of what they signed.
func TestSignedSnapshotStaysWhole(t *testing.T) {
	f := newFixture(t)
	p := f.preso(f.mia)
	sh, token := f.link(p)
	entry, err := f.s.Enter(f.visit(token, ""), 0, "", "", in)
	if err != nil {
		t.Fatal(err)
	}
	v := f.visit(token, entry.Session)
	snap, _ := f.s.Viewer(v)
	vw, _, _, _ := f.s.Viewing(v, snap, entry.Viewing, in)
	if _, err := f.s.Sign(v, snap, vw, Signing{SlideID: snap.Slides[1].ID, Name: "Mia Martin", TypedOnly: true, Consent: true}); err != nil {
		t.Fatal(err)
	}
	if err := f.s.RefreshLink(f.prac, p, sh.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.s.ExpireLink(f.prac, p, sh.ID); err != nil {
		t.Fatal(err)
	}
	f.clk.t = f.clk.t.Add(SnapshotGrace)
	if n, err := f.s.SweepSnapshots(); n != 1 || err != nil {
		t.Fatalf("swept %d, want the refreshed link's unviewed snapshot: %v", n, err)
	}
	if got, err := f.st.Snapshot(snap.ID); err != nil || got.Outline || got.Slides[0].Body != snap.Slides[0].Body {
		t.Fatalf("the signed snapshot: %+v %v", got, err)
	}
}

// A browser holding a viewing of the link comes back into it when it is
// the same person: the contact picked again, the same name given again
// (case aside), or none again.
func TestReturning(t *testing.T) {
	f := newFixture(t)
	p := f.preso(f.mia, f.leo)
	_, token := f.link(p)
	v := f.visit(token, "")
	mia, err := f.s.Enter(v, 0, "", "", in)
	if err != nil {
		t.Fatal(err)
	}
	anne, err := f.s.Enter(v, -1, "Anne Roux", "anne@example.org", in)
	if err != nil {
		t.Fatal(err)
	}
	anon, _ := f.s.Enter(v, -1, "", "", in)
	for _, c := range []struct {
		held        string
		who         int
		name, email string
		want        bool
	}{
		{mia.Viewing, 0, "", "", true}, {mia.Viewing, 1, "", "", false}, {mia.Viewing, -1, "", "", false},
		{anne.Viewing, -1, "anne  ROUX", "Anne@example.org", true}, {anne.Viewing, -1, "Anne Roux", "", false}, {anne.Viewing, 0, "", "", false},
		{anon.Viewing, -1, "", "", true}, {anon.Viewing, -1, "Anne Roux", "anne@example.org", false},
		{"", 0, "", "", false}, {strings.Repeat("x", 43), 0, "", "", false},
	} {
		if got := f.s.Returning(v, c.held, c.who, c.name, c.email); (got != 0) != c.want {
			t.Errorf("%+v: returning %v", c, got)
		}
	}
	vw := f.s.Returning(v, mia.Viewing, 0, "", "")
	back, err := f.s.Return(v, 0, "", "", mia.Viewing, vw, in)
	if err != nil || back.Viewing != mia.Viewing || back.Session == "" || back.Session == mia.Session {
		t.Fatalf("Mia back: %+v %v", back, err)
	}
	// Her coming back is in the history, naming her viewing, as her entry does.
	evs, _ := f.st.ShareEvents(v.Share.ID)
	if last := evs[len(evs)-1]; last.Type != share.EventIdentified || last.Recipient != 0 || last.Viewing != vw {
		t.Fatalf("the event of her coming back: %+v", last)
	}
	if vs, _ := f.st.ShareViewings(v.Share.ID); len(vs) != 3 {
		t.Fatalf("%d viewings after Mia came back", len(vs))
	}
}
