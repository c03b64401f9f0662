package handlers

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"foyer/store"
)

// openViewer picks the first contact on link's landing in a new browser and
// opens slide 1; it returns the browser and its viewing token.
func openViewer(t *testing.T, a *testApp, link, who string) (*browser, string) {
	t.Helper()
	b := a.browser()
	if r := b.post(link+"/open", formOf("who", who)); r.Code != http.StatusSeeOther {
		t.Fatalf("open: %d %s", r.Code, abbreviate(r.body))
	}
	m := viewingRe.FindStringSubmatch(b.get(link + "/slides/1").body)
	if m == nil {
		t.Fatal("no viewing on the slide")
	}
	return b, m[1]
}

// creditedMillis adds up what the viewings of share 1 were credited.
func creditedMillis(t *testing.T, a *testApp) map[uint64]int64 {
	t.Helper()
	vs, err := a.st.ShareViewings(1)
	if err != nil {
		t.Fatal(err)
	}
	out := map[uint64]int64{}
	for _, v := range vs {
		times, _ := a.st.SlideTimes(v.ID)
		for _, st := range times {
			out[v.ID] += st.Millis
		}
	}
	return out
}

// A beacon counts only from the browser whose viewing it is, while that
// browser may still see the slides.
func TestBeaconNeedsTheViewersOwnAccess(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	mia := a.addClient("Mia", "Martin", a.ownerID(), store.Phone{Type: store.PhoneMobile, Number: "+33612345678", Mobile: true})
	bob := a.addClient("Bob", "Smith", a.ownerID(), store.Phone{Type: store.PhoneMobile, Number: "+33611111432", Mobile: true})
	id, link := sharePreso(t, a, owner, "anyone", mia, bob)
	miaV, miaView := openViewer(t, a, link, "0")
	bobV, bobView := openViewer(t, a, link, "1")
	a.advance(10 * time.Second)
	if r := miaV.post(link+"/beacon", beaconForm(miaV, miaView, 1, 5000)); r.Code != http.StatusNoContent {
		t.Fatalf("Mia's own beacon: %d %s", r.Code, r.body)
	}

	// No cookie of the link at all, only a CSRF cookie: refused.
	stranger := a.browser()
	if r := stranger.post(link+"/beacon", beaconForm(stranger, miaView, 1, 5000)); r.Code != http.StatusForbidden {
		t.Errorf("beacon without the visit: %d", r.Code)
	}
	// Bob, let in himself, posting Mia's viewing: refused.
	if r := bobV.post(link+"/beacon", beaconForm(bobV, miaView, 1, 5000)); r.Code != http.StatusForbidden {
		t.Errorf("beacon for someone else's viewing: %d", r.Code)
	}
	// Mia's viewing cookie alone, without her visit's session: refused.
	thief := a.browser()
	for n, c := range miaV.cookies {
		if strings.HasPrefix(n, viewingCookiePrefix) {
			thief.cookies[n] = c
		}
	}
	if r := thief.post(link+"/beacon", beaconForm(thief, miaView, 1, 5000)); r.Code != http.StatusForbidden {
		t.Errorf("beacon with the viewing cookie but no visit: %d", r.Code)
	}
	// No Origin check is lost: a cross-site post is refused.
	if r := miaV.post(link+"/beacon", beaconForm(miaV, miaView, 1, 5000), "Origin", "https://evil.example"); r.Code != http.StatusForbidden {
		t.Errorf("cross-site beacon: %d", r.Code)
	}
	if got := creditedMillis(t, a); got[1] != 5000 || got[2] != 0 {
		t.Fatalf("credited after the refusals: %v", got)
	}

	// The owner tightens the link to contacts only and refreshes it: the open
	// viewers are out, their beacons with them.
	if r := owner.post(presoPath(id, "/visibility"), formOf("visibility", "contacts")); r.Code != http.StatusSeeOther {
		t.Fatalf("contacts only: %d %s", r.Code, abbreviate(r.body))
	}
	if r := owner.post(presoPath(id, "/share/1/refresh"), nil, "HX-Request", "true"); r.Code != http.StatusOK {
		t.Fatalf("refresh: %d %s", r.Code, abbreviate(r.body))
	}
	a.advance(10 * time.Second)
	if r := miaV.get(link + "/slides/1"); r.Code != http.StatusSeeOther {
		t.Fatalf("slide after refresh: %d", r.Code)
	}
	if r := miaV.post(link+"/beacon", beaconForm(miaV, miaView, 1, 5000)); r.Code != http.StatusForbidden {
		t.Errorf("beacon after refresh: %d %s", r.Code, r.Header().Get("Location"))
	}
	if r := bobV.post(link+"/beacon", beaconForm(bobV, bobView, 1, 5000)); r.Code != http.StatusForbidden {
		t.Errorf("Bob's beacon after refresh: %d", r.Code)
	}
	if got := creditedMillis(t, a); got[1] != 5000 || got[2] != 0 {
		t.Fatalf("credited after the refresh: %v", got)
	}
}

// Beacons cannot credit more time than passed, and a viewing gets one email
// however long it goes on; a name the visitor typed stays out of its subject.
func TestBeaconTimeFollowsTheClockAndOneEmailAViewing(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	mia := a.addClient("Mia", "Martin", a.ownerID())
	id, link := sharePreso(t, a, owner, "anyone", mia)
	visitor := a.browser()
	if r := visitor.post(link+"/open", formOf("who", "-1", "name", "Claire Martin", "email", "claire@example.org")); r.Code != http.StatusSeeOther {
		t.Fatalf("not on the list: %d", r.Code)
	}
	viewing := viewingRe.FindStringSubmatch(visitor.get(link + "/slides/1").body)[1]
	// 30 beacons of an hour each within one second: about a second counts.
	for range 30 {
		a.advance(time.Second / 30)
		if r := visitor.post(link+"/beacon", beaconForm(visitor, viewing, 1, 3_600_000)); r.Code != http.StatusNoContent {
			t.Fatalf("beacon: %d %s", r.Code, r.body)
		}
	}
	if got := creditedMillis(t, a)[1]; got < 900 || got > (time.Second+store.BeaconSlack).Milliseconds() {
		t.Fatalf("30 beacons in a second credited %d ms", got)
	}
	// The slide left out of the link counts for nothing.
	a.advance(5 * time.Second)
	if r := visitor.post(link+"/beacon", beaconForm(visitor, viewing, 2, 1000)); r.Code != http.StatusBadRequest {
		t.Errorf("left-out slide: %d", r.Code)
	}
	// The viewer reads on, a beacon every four minutes for twenty minutes:
	// the report waits for the viewing to go quiet.
	for range 5 {
		a.advance(4 * time.Minute)
		visitor.post(link+"/beacon", beaconForm(visitor, viewing, 3, int((4*time.Minute)/time.Millisecond)))
		if n, err := a.jobs.ReportViewings(a.now()); n != 0 || err != nil {
			t.Fatalf("reported while the viewing goes on: %d %v", n, err)
		}
	}
	a.advance(6 * time.Minute)
	if n, err := a.jobs.ReportViewings(a.now()); n != 1 || err != nil {
		t.Fatalf("report: %d %v", n, err)
	}
	// The viewer comes back a little later in the same viewing: it counts on
	// the Numbers page, and no second email goes out.
	a.advance(10 * time.Minute)
	visitor.get(link + "/slides/1")
	a.advance(time.Minute)
	if r := visitor.post(link+"/beacon", beaconForm(visitor, viewing, 1, 60_000)); r.Code != http.StatusNoContent {
		t.Fatalf("beacon on coming back: %d", r.Code)
	}
	a.advance(time.Hour)
	if n, err := a.jobs.ReportViewings(a.now()); n != 0 || err != nil {
		t.Fatalf("reported again: %d %v", n, err)
	}
	msgs, _ := a.st.ListMessages(0, 10)
	var viewed []store.Message
	for _, m := range msgs {
		if m.Kind == "preso_viewed" {
			viewed = append(viewed, m)
		}
	}
	if len(viewed) != 1 {
		t.Fatalf("%d viewed emails", len(viewed))
	}
	out, err := a.h.mail.Render(viewed[0], "")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.Subject, "Claire") || !strings.Contains(out.Subject, "A visitor viewed “Pension plan”") {
		t.Errorf("subject: %q", out.Subject)
	}
	for _, want := range []string{"“Claire Martin <claire@example.org>” (name given by the visitor)", "Sign here: 20\u00a0min 00\u00a0s", "Hello: 3\u00a0s"} {
		if !strings.Contains(out.Text, want) {
			t.Errorf("email lacks %q:\n%s", want, out.Text)
		}
	}
	// Numbers: times for people, no empty separator for an unknown system.
	owner = a.signIn("owner@example.org", ownerPassword)
	r := owner.get(presoPath(id, "/share/1"))
	mustContain(t, r, "“Claire Martin &lt;claire@example.org&gt;” (name given by the visitor)", "21\u00a0min 03\u00a0s in all", "<td data-label=\"Time\">20\u00a0min 00\u00a0s</td>")
	mustNotContain(t, r, "·  ·", "· ·", "No slide time recorded")
}

// A viewing without any recorded time shows a line, not an empty chart.
func TestNumbersWithoutSlideTime(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	mia := a.addClient("Mia", "Martin", a.ownerID())
	id, link := sharePreso(t, a, owner, "anyone", mia)
	openViewer(t, a, link, "0")
	r := owner.get(presoPath(id, "/share/1"))
	mustContain(t, r, "Mia Martin", "No slide time recorded.", "0\u00a0s in all")
	mustNotContain(t, r, "<svg", "· ·")
	owner.post("/lang", formOf("lang", "fr"))
	mustContain(t, owner.get(presoPath(id, "/share/1")), "Aucun temps enregistré sur les diapositives.", "0\u00a0s en tout")
}
