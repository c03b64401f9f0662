package handlers

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"foyer/share"
	"foyer/store"
)

var shareLinkRe = regexp.MustCompile(`http://localhost:8080(/s/[A-Za-z0-9_-]{43})`)

// sharePreso makes a preso with three slides (the middle one left out) for
// the given contacts and creates its link; it returns the preso and the link path.
func sharePreso(t testing.TB, a *testApp, owner *browser, visibility string, contacts ...store.Client) (uint64, string) {
	t.Helper()
	id := owner.newPreso(t, "title", "Pension plan")
	owner.post(presoPath(id, "/slides"), formOf("kind", "content"))
	owner.post(presoPath(id, "/slides"), formOf("kind", "signing"))
	for i, title := range []string{"Hello", "Draft", "Sign here"} {
		owner.post(presoPath(id, fmt.Sprintf("/slides/%d", i+1)), formOf("title", title, "body", "Body "+title, "rev", "1"))
	}
	owner.post(presoPath(id, "/slides/2/include"), nil)
	for _, cl := range contacts {
		owner.post(presoPath(id, "/contacts"), formOf("client", fmt.Sprint(cl.ID)))
	}
	if r := owner.post(presoPath(id, "/visibility"), formOf("visibility", visibility)); r.Code != http.StatusSeeOther {
		t.Fatalf("visibility: %d %s", r.Code, abbreviate(r.body))
	}
	r := owner.post(presoPath(id, "/share"), nil, "HX-Request", "true")
	if r.Code != http.StatusOK {
		t.Fatalf("create link: %d %s", r.Code, abbreviate(r.body))
	}
	m := shareLinkRe.FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("no link in the sharing box:\n%s", abbreviate(r.body))
	}
	mustContain(t, r, `data-autocopy="1"`, "Copy link", "Expire")
	return id, m[1]
}

func beaconForm(b *browser, viewing string, slide uint64, ms int) url.Values {
	return formOf("v", viewing, "slide", fmt.Sprint(slide), "ms", fmt.Sprint(ms), "_csrf", b.csrf())
}

var viewingRe = regexp.MustCompile(`data-viewing="([A-Za-z0-9_-]{43})"`)

func TestPresoShareAnyoneViewBeaconsAndExpire(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	mia := a.addClient("Mia", "Martin", a.ownerID())
	id, link := sharePreso(t, a, owner, "anyone", mia)

	visitor := a.browser()
	// The landing names the contacts and offers "Not on the list?"; opening
	// it is no view: it records only that the link was opened (for a
	// signature's audit trail), once per address every ten minutes.
	r := visitor.get(link)
	mustContain(t, r, "Pension plan", "Mia Martin", "Not on the list?", "Continue anonymously")
	visitor.get(link)
	a.h.Wait()
	if evs, _ := a.st.ShareEvents(1); len(evs) != 2 || evs[1].Type != share.EventOpened {
		t.Fatalf("the GETs of the landing recorded events: %+v", evs)
	}
	// Before picking a name, the slides send back to the landing.
	if r := visitor.get(link + "/slides/1"); r.Code != http.StatusSeeOther {
		t.Fatalf("slides before the name: %d", r.Code)
	}
	r = visitor.post(link+"/open", formOf("who", "0"))
	if r.Code != http.StatusSeeOther || r.Header().Get("Location") != link+"/slides/1" {
		t.Fatalf("pick a name: %d %s", r.Code, r.Header().Get("Location"))
	}
	r = visitor.get(link + "/slides/1")
	mustContain(t, r, "Hello", "Slide 1 of 2", link+"/slides/2", `data-beacon="`+link+`/beacon"`)
	mustNotContain(t, r, "Draft")
	viewing := viewingRe.FindStringSubmatch(r.body)[1]

	// Beacons: good ones stored; bad ones refused and harmless.
	a.advance(5 * time.Second)
	if r := visitor.post(link+"/beacon", beaconForm(visitor, viewing, 1, 4200)); r.Code != http.StatusNoContent {
		t.Fatalf("beacon: %d %s", r.Code, r.body)
	}
	for name, form := range map[string]url.Values{
		"unknown viewing": beaconForm(visitor, strings.Repeat("A", 43), 1, 10),
		"left-out slide":  beaconForm(visitor, viewing, 2, 10),
		"negative time":   beaconForm(visitor, viewing, 1, -5),
		"not a number":    formOf("v", viewing, "slide", "x", "ms", "1", "_csrf", visitor.csrf()),
	} {
		if r := visitor.post(link+"/beacon", form); r.Code < 400 || r.Code >= 500 {
			t.Errorf("%s: %d", name, r.Code)
		}
	}
	big := beaconForm(visitor, viewing, 1, 10)
	big.Set("pad", strings.Repeat("x", 2000))
	if r := visitor.post(link+"/beacon", big); r.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized beacon: %d", r.Code)
	}
	// A beacon of another share's viewing is refused.
	_, other := sharePreso(t, a, owner, "anyone", mia)
	if r := visitor.post(other+"/beacon", beaconForm(visitor, viewing, 1, 10)); r.Code != http.StatusForbidden {
		t.Errorf("beacon through another share: %d", r.Code)
	}
	vs, _ := a.st.ShareViewings(1)
	if len(vs) != 1 || vs[0].Name != "Mia Martin" || vs[0].ContactID != mia.ID {
		t.Fatalf("viewings: %+v", vs)
	}
	if times, _ := a.st.SlideTimes(vs[0].ID); len(times) != 1 || times[0].Millis != 4200 {
		t.Fatalf("slide times: %+v", times)
	}

	// Expire: the open viewer fails on its next slide; the beacon of the
	// slide they leave counts up to the expiry, not a moment after it.
	owner.post(presoPath(id, "/share/1/expire"), nil)
	a.advance(time.Minute)
	if r := visitor.get(link + "/slides/2"); r.Code != http.StatusGone {
		t.Fatalf("slide after expire: %d", r.Code)
	} else {
		mustContain(t, r, "no longer works")
	}
	if r := visitor.post(link+"/beacon", beaconForm(visitor, viewing, 1, 60000)); r.Code != http.StatusNoContent {
		t.Fatalf("beacon after expire: %d", r.Code)
	}
	if times, _ := a.st.SlideTimes(vs[0].ID); len(times) != 2 || times[1].Millis != store.BeaconSlack.Milliseconds() {
		t.Fatalf("slide times after the expiry: %+v", times)
	}
	if r := visitor.get(link); r.Code != http.StatusGone {
		t.Fatalf("landing after expire: %d", r.Code)
	}
	mustContain(t, owner.get(presoPath(id, "")), "Link expired by Olive Owner", "Link created by Olive Owner")
}

func TestPresoShareNotOnTheListAndAnonymous(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	mia := a.addClient("Mia", "Martin", a.ownerID())
	_, link := sharePreso(t, a, owner, "anyone", mia)
	v1 := a.browser()
	// Errors: back to the landing (Post/Redirect/Get), the form open as typed, once.
	r := v1.follow(v1.post(link+"/open", formOf("who", "-1", "name", "", "email", "x@")), link)
	mustContain(t, r, "<details class=\"not-listed\" open>", "This field is required.", `value="x@"`)
	mustNotContain(t, v1.get(link), "This field is required.", `value="x@"`)
	// Another share's landing shows none of it.
	_, link2 := sharePreso(t, a, owner, "anyone", mia)
	v1.post(link+"/open", formOf("who", "-1", "name", "", "email", "x@"))
	mustNotContain(t, v1.get(link2), "This field is required.", `value="x@"`)
	r = v1.post(link+"/open", formOf("who", "-1", "name", "Paul Partner", "email", "paul@example.org"))
	if r.Code != http.StatusSeeOther {
		t.Fatalf("not on the list: %d %s", r.Code, abbreviate(r.body))
	}
	v1.get(link + "/slides/1")
	v2 := a.browser()
	v2.post(link+"/open", formOf("who", "-1", "anonymous", "1"))
	v2.get(link + "/slides/1")
	vs, _ := a.st.ShareViewings(1)
	if len(vs) != 2 || vs[0].Name != "Paul Partner" || vs[0].Email != "paul@example.org" || vs[0].Anonymous || !vs[1].Anonymous {
		t.Fatalf("viewings: %+v", vs)
	}
	evs, _ := a.st.ShareEvents(1)
	kinds := ""
	for _, e := range evs {
		kinds += e.Type + " "
	}
	if !strings.Contains(kinds, "identified") || !strings.Contains(kinds, "anonymous") {
		t.Fatalf("events: %s", kinds)
	}
}

func TestPresoShareContactsOnlyCodeRefreshAndSign(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	mia := a.addClient("Mia", "Martin", a.ownerID(),
		store.Phone{Type: store.PhoneMobile, Number: "+33612345678", Mobile: true},
		store.Phone{Type: store.PhoneWork, Number: "+33698765432", Mobile: true})
	id, link := sharePreso(t, a, owner, "contacts", mia)

	visitor := a.browser()
	r := visitor.get(link)
	mustContain(t, r, "Mia Martin", link+"?who=0")
	mustNotContain(t, r, "Not on the list?")
	// Picking the name shows the numbers masked; still no code.
	r = visitor.get(link + "?who=0")
	mustContain(t, r, "•••\u00a0•••\u00a0678", "•••\u00a0•••\u00a0432", "Send security code")
	mustNotContain(t, r, "612345678", "698765432")
	if msgs, _ := a.st.ListMessages(0, 10); len(msgs) != 0 {
		t.Fatalf("a GET sent a code: %+v", msgs)
	}
	if r := visitor.post(link+"/open", formOf("who", "0")); r.Code != http.StatusSeeOther || r.Header().Get("Location") != link {
		t.Fatalf("open without code: %d %s", r.Code, r.Header().Get("Location"))
	}
	r = visitor.post(link+"/code", formOf("who", "0", "to", "1"))
	if r.Code != http.StatusSeeOther {
		t.Fatalf("send code: %d %s", r.Code, abbreviate(r.body))
	}
	msgs, _ := a.st.ListMessages(0, 10)
	if len(msgs) != 1 || msgs[0].Channel != store.ChannelSMS || msgs[0].To != "+33698765432" || msgs[0].Kind != "preso_code" {
		t.Fatalf("code message: %+v", msgs)
	}
	m := msgs[0]
	var err error
	m.Secret, err = a.st.Unseal(m.Sealed)
	if err != nil || len(m.Secret) != 6 {
		t.Fatalf("code: %q %v", m.Secret, err)
	}
	out, err := a.h.mail.Render(m, m.Secret)
	if err != nil || !strings.Contains(out.Text, m.Secret) || !strings.Contains(out.Text, "Cabinet Lumière") {
		t.Fatalf("SMS text: %q %v", out.Text, err)
	}
	r = visitor.follow(visitor.post(link+"/verify", formOf("who", "0", "code", "000000")), link+"/code?who=0")
	mustContain(t, r, "This code is not right.")
	// The code page offers a new code to either number, the one used checked.
	mustContain(t, r, `value="1" checked`, "•••\u00a0•••\u00a0678", "Send a new code")
	r = visitor.post(link+"/verify", formOf("who", "0", "code", m.Secret))
	if r.Code != http.StatusSeeOther || r.Header().Get("Location") != link+"/slides/1" {
		t.Fatalf("verify: %d %s", r.Code, abbreviate(r.body))
	}
	// Back to the code page, once in: on to the preso.
	if r := visitor.get(link + "/code?who=0"); r.Code != http.StatusSeeOther || r.Header().Get("Location") != link+"/slides/1" {
		t.Fatalf("code page once in: %d %s", r.Code, r.Header().Get("Location"))
	}
	r = visitor.get(link + "/slides/1")
	mustContain(t, r, "Body Hello")
	viewing := viewingRe.FindStringSubmatch(r.body)[1]
	a.advance(20 * time.Second)
	if r := visitor.post(link+"/beacon", beaconForm(visitor, viewing, 1, 20000)); r.Code != http.StatusNoContent {
		t.Fatalf("beacon: %d", r.Code)
	}

	// Staff edit a slide: the Share button gets its dot; Refresh keeps the URL.
	r = owner.post(presoPath(id, "/slides/1"), formOf("title", "Hello again", "body", "New body", "rev", "2"), "HX-Request", "true")
	mustContain(t, r, `class="dot"`, "out of date")
	r = owner.get(presoPath(id, "/share"))
	mustContain(t, r, "Refresh link", "Review numbers or change visibility")
	r = owner.post(presoPath(id, "/share/1/refresh"), nil, "HX-Request", "true")
	if m := shareLinkRe.FindStringSubmatch(r.body); m == nil || m[1] != link {
		t.Fatalf("refresh changed the link: %v", m)
	}
	mustNotContain(t, r, "Refresh link")
	// Mia, who verified, stays in: the new slide at once, in the same
	// viewing, without another code.
	a.advance(2 * time.Minute)
	r = visitor.get(link + "/slides/1")
	mustContain(t, r, "New body", `data-viewing="`+viewing+`"`)
	a.advance(10 * time.Second)
	if r := visitor.post(link+"/beacon", beaconForm(visitor, viewing, 1, 10000)); r.Code != http.StatusNoContent {
		t.Fatalf("beacon after the refresh: %d", r.Code)
	}
	if n := a.countMessages(); n != 1 {
		t.Fatalf("%d codes sent, want the first one alone", n)
	}
	if vs, _ := a.st.ShareViewings(1); len(vs) != 1 || vs[0].CreditedMillis != 30000 {
		t.Fatalf("viewings after the refresh: %+v", vs)
	}

	// Signing.
	r = visitor.get(link + "/slides/2")
	mustContain(t, r, "Sign here", "Your full name", "Sign with my typed name only", "I have read this presentation")
	if r := visitor.post(link+"/sign", formOf("slide", "3", "name", "Mia Martin")); r.Code != http.StatusUnprocessableEntity {
		t.Fatalf("sign without consent: %d", r.Code)
	} else {
		mustContain(t, r, "Tick the box to agree", "Draw your signature, or tick")
	}
	if r := visitor.post(link+"/sign", formOf("slide", "1", "name", "Mia Martin", "typed_only", "1", "consent", "1")); r.Code != http.StatusBadRequest {
		t.Fatalf("sign a content slide: %d", r.Code)
	}
	r = visitor.post(link+"/sign", formOf("slide", "3", "name", "Mia Martin", "typed_only", "1", "consent", "1"), "User-Agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36")
	if r.Code != http.StatusSeeOther {
		t.Fatalf("sign: %d %s", r.Code, abbreviate(r.body))
	}
	mustContain(t, visitor.get(link+"/slides/2"), "Signed by Mia Martin")
	sigs, _ := a.st.ShareSignatures(1)
	if len(sigs) != 1 || sigs[0].Verification != "sms" || sigs[0].SnapshotSHA256 == "" || sigs[0].IP != "192.0.2.10" {
		t.Fatalf("signature: %+v", sigs)
	}
	r = owner.get(presoPath(id, "/share"))
	mustContain(t, r, "Mia Martin", "verified by a code sent by text message", "certificate.pdf")
	r = owner.get(presoPath(id, fmt.Sprintf("/signatures/%d/certificate.pdf", sigs[0].ID)))
	if r.Code != http.StatusOK || r.Header().Get("Content-Type") != "application/pdf" || !strings.HasPrefix(r.body, "%PDF") {
		t.Fatalf("certificate: %d %v", r.Code, r.Header())
	}
}

func TestPresoShareIDOR(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	a.addStaff("Bob Practitioner", "bob@example.org", store.RolePractitioner)
	mia := a.addClient("Mia", "Martin", a.ownerID())
	id, link := sharePreso(t, a, owner, "anyone", mia)
	bob := a.signIn("bob@example.org", staffPassword)
	for _, p := range []string{"/share", "/signatures/1/certificate.pdf"} {
		if r := bob.get(presoPath(id, p)); r.Code != http.StatusNotFound {
			t.Errorf("Bob GET %s: %d", p, r.Code)
		}
	}
	for _, p := range []string{"/share", "/share/1/refresh", "/share/1/expire"} {
		if r := bob.post(presoPath(id, p), nil); r.Code != http.StatusNotFound {
			t.Errorf("Bob POST %s: %d", p, r.Code)
		}
	}
	// Bob's own preso cannot reach the owner's share through its ID.
	bobs := bob.newPreso(t)
	if r := bob.post(presoPath(bobs, "/share/1/expire"), nil); r.Code != http.StatusNotFound {
		t.Errorf("Bob expires through his preso: %d", r.Code)
	}
	// The pages of document links do not take a preso's link, even for the owner.
	for _, p := range []string{"/shares/1/link", "/shares/1/expire", "/shares/1/again"} {
		if r := owner.get(p); r.Code != http.StatusNotFound {
			t.Errorf("owner GET %s of a preso link: %d", p, r.Code)
		}
	}
	for _, p := range []string{"/shares/1/expire", "/shares/1/extend", "/shares/1/unlock", "/shares/1/again"} {
		if r := owner.post(p, formOf("name", "Mia Martin", "email", "mia@example.org", "lang", "en")); r.Code != http.StatusNotFound {
			t.Errorf("owner POST %s of a preso link: %d", p, r.Code)
		}
	}
	if r := a.browser().get(link); r.Code != http.StatusOK {
		t.Fatalf("the share still works: %d", r.Code)
	}
	// A made-up token is a 404; many of them from one address are throttled.
	miss := a.browser()
	codes := map[int]int{}
	for range 15 {
		codes[miss.get("/s/"+strings.Repeat("B", 43)).Code]++
	}
	if codes[http.StatusNotFound] == 0 || codes[http.StatusTooManyRequests] == 0 {
		t.Fatalf("token misses: %v", codes)
	}
}

func TestPresoStatsCSVAndViewedEmail(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	mia := a.addClient("Mia", "Martin", a.ownerID())
	id, link := sharePreso(t, a, owner, "anyone", mia)
	visitor := a.browser()
	visitor.post(link+"/open", formOf("who", "0"))
	viewing := viewingRe.FindStringSubmatch(visitor.get(link + "/slides/1").body)[1]
	for _, b := range []struct {
		after time.Duration
		slide uint64
		ms    int
	}{{5 * time.Second, 1, 4200}, {12 * time.Second, 3, 12000}, {time.Second, 1, 1000}} {
		a.advance(b.after)
		visitor.post(link+"/beacon", beaconForm(visitor, viewing, b.slide, b.ms))
	}

	r := owner.get(presoPath(id, "/share/1"))
	mustContain(t, r, "Mia Martin", "<svg", `width="100"`, "17\u00a0s in all", "1. Hello", "<td data-label=\"Time\">5\u00a0s</td>", "<td data-label=\"Time\">12\u00a0s</td>")
	r = owner.get(presoPath(id, "/share/1/events.csv"))
	if r.Code != http.StatusOK || !strings.HasPrefix(r.Header().Get("Content-Type"), "text/csv") {
		t.Fatalf("csv: %d %v", r.Code, r.Header())
	}
	// UTF-8 with a byte-order mark, times in the practice's zone with its offset (Paris, winter).
	mustContain(t, r, "\ufeffviewing,viewer,email,verification,slide,title,ms,at\r\n",
		"1,Mia Martin,,none,1,Hello,4200,2026-11-25T11:00:05+01:00\r\n", "1,Mia Martin,,none,2,Sign here,12000,2026-11-25T11:00:17+01:00\r\n")

	// The owner hears of the viewing five minutes after its last beacon, not before.
	a.advance(4 * time.Minute)
	if n, err := a.jobs.ReportViewings(a.now()); n != 0 || err != nil {
		t.Fatalf("notified while the viewing may go on: %d %v", n, err)
	}
	a.advance(2 * time.Minute)
	if n, err := a.jobs.ReportViewings(a.now()); n != 1 || err != nil {
		t.Fatalf("notified: %d %v", n, err)
	}
	if n, _ := a.jobs.ReportViewings(a.now().Add(time.Hour)); n != 0 {
		t.Fatal("notified twice")
	}
	msgs, _ := a.st.ListMessages(0, 10)
	if len(msgs) != 1 || msgs[0].To != "owner@example.org" || msgs[0].Kind != "preso_viewed" {
		t.Fatalf("messages: %+v", msgs)
	}
	out, err := a.h.mail.Render(msgs[0], "")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Mia Martin", "Pension plan", "Hello: 5\u00a0s", "Sign here: 12\u00a0s", "/presos/1/share/1"} {
		if !strings.Contains(out.Text, want) || !strings.Contains(out.HTML, want) {
			t.Errorf("email lacks %q:\n%s", want, out.Text)
		}
	}
	// Someone else's preso's numbers stay out of reach.
	a.addStaff("Bob Practitioner", "bob@example.org", store.RolePractitioner)
	bob := a.signIn("bob@example.org", staffPassword)
	for _, p := range []string{"/share/1", "/share/1/events.csv"} {
		if r := bob.get(presoPath(id, p)); r.Code != http.StatusNotFound {
			t.Errorf("Bob GET %s: %d", p, r.Code)
		}
	}
}

// TestPresoShareUsesPracticeLifetime: a preso's link lives as long as the
// practice's Secure share setting says, like a documents link.
func TestPresoShareUsesPracticeLifetime(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	valid := "[[SECURE_SHARE_LINK]] [[SECURE_SHARE_DISCLAIMER]]"
	if r := owner.post("/settings/shares", formOf("share_days", "5", "code_minutes", "5", "download_mail", "1", "template_en", valid, "template_fr", valid)); r.Code != http.StatusSeeOther {
		t.Fatalf("settings: %d %s", r.Code, abbreviate(r.body))
	}
	id, _ := sharePreso(t, a, owner, "anyone", a.addClient("Mia", "Martin", a.ownerID()))
	shares, err := a.st.SharesOfSubject(store.SharePreso, id)
	if err != nil || len(shares) != 1 {
		t.Fatalf("shares: %v %d", err, len(shares))
	}
	if got, want := shares[0].ExpiresAt, a.now().Add(5*24*time.Hour); !got.Equal(want) {
		t.Fatalf("expires %v, want %v", got, want)
	}
}

// A browser going back and forth between two preso links keeps one viewing
// of each: opening the second link must not start the first one over, or its
// statistics split into several visits.
func TestPresoViewingsOfTwoLinksInOneBrowser(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	mia := a.addClient("Mia", "Martin", a.ownerID())
	_, linkA := sharePreso(t, a, owner, "anyone", mia)
	_, linkB := sharePreso(t, a, owner, "anyone", mia)
	v := a.browser()
	viewingOf := func(link string, n int) string {
		t.Helper()
		r := v.get(fmt.Sprintf("%s/slides/%d", link, n))
		m := viewingRe.FindStringSubmatch(r.body)
		if r.Code != http.StatusOK || m == nil {
			t.Fatalf("%s slide %d: %d %s", link, n, r.Code, abbreviate(r.body))
		}
		return m[1]
	}
	r := v.post(linkA+"/open", formOf("who", "0"))
	// The viewing cookie stays on the share pages.
	if set := strings.Join(r.Header()["Set-Cookie"], "\n"); !regexp.MustCompile(`(?m)^foyer_v_[0-9a-f]{16}=[A-Za-z0-9_-]{43}; Path=/s/;`).MatchString(set) {
		t.Errorf("cookies set on opening a preso link:\n%s", set)
	}
	a1 := viewingOf(linkA, 1)
	v.post(linkB+"/open", formOf("who", "0"))
	b1 := viewingOf(linkB, 1)
	a2 := viewingOf(linkA, 2)
	b2 := viewingOf(linkB, 2)
	if a1 != a2 || b1 != b2 || a1 == b1 {
		t.Errorf("viewings: A %s then %s, B %s then %s", a1, a2, b1, b2)
	}
	for id := uint64(1); id <= 2; id++ {
		if vs, _ := a.st.ShareViewings(id); len(vs) != 1 {
			t.Errorf("share %d has %d viewings, want 1: %+v", id, len(vs), vs)
		}
	}
}

// Choosing "contacts only" closes the live link to anyone at once: a viewer
// who came in without a code is sent back to prove who they are, and the
// landing asks for a code. A looser visibility waits for Refresh link.
func TestPresoContactsOnlyAppliesToTheLiveLink(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	mia := a.addClient("Mia", "Martin", a.ownerID(), store.Phone{Type: store.PhoneMobile, Number: "+33612345678", Mobile: true})
	id, link := sharePreso(t, a, owner, "anyone", mia)
	visitor := a.browser()
	visitor.post(link+"/open", formOf("who", "-1", "anonymous", "1"))
	if r := visitor.get(link + "/slides/1"); r.Code != http.StatusOK {
		t.Fatalf("anonymous viewer: %d", r.Code)
	}
	r := owner.post(presoPath(id, "/visibility"), formOf("visibility", "contacts"))
	if r.Code != http.StatusSeeOther {
		t.Fatalf("contacts only: %d %s", r.Code, abbreviate(r.body))
	}
	mustContain(t, owner.follow(r, presoPath(id, "")), "The current link now asks each contact for a code")
	if r := visitor.get(link + "/slides/2"); r.Code != http.StatusSeeOther || r.Header().Get("Location") != link {
		t.Fatalf("the anonymous viewer after contacts only: %d %s", r.Code, r.Header().Get("Location"))
	}
	r = a.browser().get(link)
	mustContain(t, r, "Mia Martin", link+"?who=0")
	mustNotContain(t, r, "Not on the list?", "Continue anonymously")
	if r := a.browser().post(link+"/open", formOf("who", "-1", "anonymous", "1")); r.Code == http.StatusSeeOther && r.Header().Get("Location") == link+"/slides/1" {
		t.Fatal("an anonymous visit still opens the preso")
	}
	// Back to anyone: the link keeps asking for a code until Refresh link.
	r = owner.post(presoPath(id, "/visibility"), formOf("visibility", "anyone"))
	mustNotContain(t, owner.follow(r, presoPath(id, "")), "The current link now asks")
	mustNotContain(t, a.browser().get(link), "Continue anonymously")
	if sh, err := a.st.Share(1); err != nil || sh.Visibility != store.VisibilityContacts {
		t.Fatalf("share after loosening: %+v %v", sh.Visibility, err)
	}
}

// A visitor's error pages under /s/ speak of the link and offer no way to the
// staff sign-in: the home page is not theirs.
func TestShareErrorPagesLeadNowhereForStaff(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	mia := a.addClient("Mia", "Martin", a.ownerID())
	id, link := sharePreso(t, a, owner, "anyone", mia)
	v := a.browser()
	r := v.get("/s/" + strings.Repeat("B", 43))
	if r.Code != http.StatusNotFound {
		t.Fatalf("unknown link: %d", r.Code)
	}
	mustContain(t, r, "This link does not work", "contact the practice")
	mustNotContain(t, r, `href="/"`, "Back to the home page", "Sign out")
	owner.post(presoPath(id, "/share/1/expire"), nil)
	r = v.get(link)
	if r.Code != http.StatusGone {
		t.Fatalf("expired link: %d", r.Code)
	}
	mustContain(t, r, "This link no longer works")
	mustNotContain(t, r, `href="/"`, "Back to the home page")
	// Elsewhere the error page still leads home.
	mustContain(t, owner.get("/clients/999999"), `href="/"`, "Back to the home page")
}

// The viewer keeps the landing's language: with contacts of two languages
// the landing follows the browser, and picking a French contact there does
// not turn the slides French.
func TestPresoViewerKeepsTheLandingLanguage(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	mia := store.Client{FirstName: "Mia", LastName: "Martin", Lang: "fr", PractitionerID: a.ownerID()}
	if err := a.st.CreateClient(&mia); err != nil {
		t.Fatal(err)
	}
	bob := a.addClient("Bob", "Smith", a.ownerID())
	_, link := sharePreso(t, a, owner, "anyone", mia, bob)
	v := a.browser()
	mustContain(t, v.get(link), "Not on the list?")
	v.post(link+"/open", formOf("who", "0"))
	r := v.get(link + "/slides/1")
	mustContain(t, r, "Slide 1 of 2", `lang="en"`)
	// The visitor's own choice wins on both.
	v.post("/lang", formOf("lang", "fr", "next", link))
	mustContain(t, v.get(link+"/slides/1"), "Diapositive 1 sur 2")
}

// After the fifth wrong code a preso's code page says the code is void for
// that reason, in the visitor's language, not that none is waiting.
func TestPresoCodeWornOutByFiveWrongEntries(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	mia := a.addClient("Mia", "Martin", a.ownerID(), store.Phone{Type: store.PhoneMobile, Number: "+33612345678", Mobile: true})
	if _, err := a.st.UpdateClient(mia.ID, func(cl *store.Client) error { cl.Lang = "fr"; return nil }); err != nil {
		t.Fatal(err)
	}
	_, link := sharePreso(t, a, owner, "contacts", mia)
	visitor := a.browser()
	if r := visitor.post(link+"/code", formOf("who", "0", "to", "0")); r.Code != http.StatusSeeOther {
		t.Fatalf("send code: %d %s", r.Code, abbreviate(r.body))
	}
	code := a.lastCode("+33612345678")
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	var r *resp
	for i := range share.MaxTries {
		r = visitor.follow(visitor.post(link+"/verify", formOf("who", "0", "code", wrong)), link+"/code?who=0")
		if i < share.MaxTries-1 {
			mustContain(t, r, "Ce code n’est pas le bon.")
		}
	}
	mustContain(t, r, "Cinq codes erronés ont été saisis\u00a0: le code envoyé ne fonctionne plus, même le bon. Demandez-en un nouveau.")
	mustNotContain(t, r, "Aucun code")
	r = visitor.follow(visitor.post(link+"/verify", formOf("who", "0", "code", code)), link+"/code?who=0")
	mustContain(t, r, "Aucun code n’est en attente")
}

// A live link whose contacts were all removed opens for nobody (the share
// engine's rule): the sharing box says so and offers no Copy link, until a
// contact is added and Refresh link opens it again, which the box says too.
func TestPresoShareBoxSaysWhenTheLinkOpensForNobody(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	anne := a.addClient("Anne", "Arnaud", a.ownerID())
	bruno := a.addClient("Bruno", "Blanc", a.ownerID())
	id, link := sharePreso(t, a, owner, "anyone", anne, bruno)
	box := func() *resp {
		t.Helper()
		r := owner.get(presoPath(id, "/share"), "HX-Request", "true")
		if r.Code != http.StatusOK {
			t.Fatalf("sharing box: %d", r.Code)
		}
		return r
	}
	owner.post(presoPath(id, fmt.Sprintf("/contacts/%d/remove", anne.ID)), nil)
	if r := a.browser().get(link); r.Code != http.StatusOK {
		t.Fatalf("one contact left: %d", r.Code)
	}
	r := box()
	mustContain(t, r, "Copy link", ">works<", link)
	mustNotContain(t, r, "Opens for nobody")

	owner.post(presoPath(id, fmt.Sprintf("/contacts/%d/remove", bruno.ID)), nil)
	if r := a.browser().get(link); r.Code != http.StatusGone {
		t.Fatalf("no contact left: %d", r.Code)
	}
	r = box()
	mustContain(t, r, "Opens for nobody now: its contacts were all removed or archived. Add a contact, then Refresh link.", ">opens for nobody<", "Expire")
	// Refresh link would fail without a contact: the note says what to do, once.
	mustNotContain(t, r, "Copy link", link, ">works<", "/share/1/refresh", "Add a preso contact before sharing.", "still see the older version")
	mustContain(t, owner.get(presoPath(id, "")), "opens for nobody")
	owner.cookies["foyer_lang"] = &http.Cookie{Name: "foyer_lang", Value: "fr"}
	r = box()
	mustContain(t, r, "Ce lien ne s’ouvre plus pour personne\u00a0: ses contacts ont tous été retirés ou archivés. Ajoutez un contact, puis utilisez «\u202fActualiser le lien\u202f».")
	mustNotContain(t, r, "Copier le lien", ">actif<")
	delete(owner.cookies, "foyer_lang")

	// Someone else added: still nobody, since the link was made for Anne and Bruno.
	claire := a.addClient("Claire", "Colin", a.ownerID())
	owner.post(presoPath(id, "/contacts"), formOf("client", fmt.Sprint(claire.ID)))
	if r := a.browser().get(link); r.Code != http.StatusGone {
		t.Fatalf("a new contact before Refresh link: %d", r.Code)
	}
	r = box()
	mustContain(t, r, "Opens for nobody now", `action="/presos/1/share/1/refresh"`)
	mustNotContain(t, r, "Copy link", "still see the older version")

	r = owner.post(presoPath(id, "/share/1/refresh"), nil, "HX-Request", "true")
	if r.Code != http.StatusOK {
		t.Fatalf("refresh: %d %s", r.Code, abbreviate(r.body))
	}
	mustContain(t, r, "The link opens again, at the same address.", "Copy link", link, ">works<")
	mustNotContain(t, r, "Opens for nobody")
	mustContain(t, a.browser().get(link), "Claire Colin")
	// A refresh of a link that opened all along says nothing of reopening.
	r = owner.post(presoPath(id, "/share/1/refresh"), nil, "HX-Request", "true")
	mustContain(t, r, "Your link is ready.")
	mustNotContain(t, r, "opens again")

	// Without JavaScript: Claire removed, Anne back (the link had left her
	// out at the last refresh), Refresh link, and the page after it says so.
	owner.post(presoPath(id, fmt.Sprintf("/contacts/%d/remove", claire.ID)), nil)
	owner.post(presoPath(id, "/contacts"), formOf("client", fmt.Sprint(anne.ID)))
	if r := a.browser().get(link); r.Code != http.StatusGone {
		t.Fatalf("Anne back before Refresh link: %d", r.Code)
	}
	r = owner.follow(owner.post(presoPath(id, "/share/1/refresh"), nil), presoPath(id, "/share"))
	mustContain(t, r, "The link opens again, at the same address.", "Copy link")
	mustContain(t, a.browser().get(link), "Anne Arnaud")
}

// On a computer several people share, the next person is not let into the
// viewing of the one before: "Change person" ends this browser's session of
// the link (server side too) and its cookies, and goes back to the names.
func TestPresoViewerChangePerson(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	anne := a.addClient("Anne", "Arnaud", a.ownerID())
	bruno := a.addClient("Bruno", "Blanc", a.ownerID())
	_, link := sharePreso(t, a, owner, "anyone", anne, bruno)
	family := a.browser()
	family.post(link+"/open", formOf("who", "0"))
	r := family.get(link + "/slides/1")
	mustContain(t, r, "Not Anne Arnaud?", "Change person", `action="`+link+`/leave"`)
	held := map[string]*http.Cookie{}
	for n, ck := range family.cookies {
		held[n] = ck
	}
	// Without its CSRF token, nothing ends.
	if r := family.post(link+"/leave", formOf("_csrf", "x")); r.Code != http.StatusForbidden {
		t.Fatalf("leave without CSRF: %d", r.Code)
	}
	if r := family.get(link + "?who=1"); r.Code != http.StatusSeeOther || r.Header().Get("Location") != link+"/slides/1" {
		t.Fatalf("still in after a refused leave: %d %s", r.Code, r.Header().Get("Location"))
	}
	r = family.post(link+"/leave", nil)
	if r.Code != http.StatusSeeOther || r.Header().Get("Location") != link {
		t.Fatalf("leave: %d %s", r.Code, r.Header().Get("Location"))
	}
	for n := range family.cookies {
		if strings.Contains(n, shareCookiePrefix) || strings.Contains(n, viewingCookiePrefix) {
			t.Fatalf("cookie %s left after Change person", n)
		}
	}
	// The landing shows the names again, and Bruno comes in as himself.
	r = family.get(link + "?who=1")
	if r.Code != http.StatusOK {
		t.Fatalf("landing after leave: %d", r.Code)
	}
	mustContain(t, r, "Anne Arnaud", "Bruno Blanc")
	family.post(link+"/open", formOf("who", "1"))
	mustContain(t, family.get(link+"/slides/1"), "Not Bruno Blanc?")
	vs, _ := a.st.ShareViewings(1)
	if len(vs) != 2 || vs[0].ContactID != anne.ID || vs[1].ContactID != bruno.ID {
		t.Fatalf("viewings: %+v", vs)
	}
	// Anne's old cookies, kept aside, open nothing: her session ended on the server.
	old := a.browser()
	old.cookies = held
	if r := old.get(link + "/slides/1"); r.Code != http.StatusSeeOther || r.Header().Get("Location") != link {
		t.Fatalf("the ended session still opens: %d %s", r.Code, r.Header().Get("Location"))
	}
	// French, typeset.
	family.cookies["foyer_lang"] = &http.Cookie{Name: "foyer_lang", Value: "fr"}
	mustContain(t, family.get(link+"/slides/1"), "Vous n’êtes pas Bruno Blanc\u202f?", "Changer de personne")
}
