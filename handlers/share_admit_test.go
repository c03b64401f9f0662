package handlers

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"

	"foyer/store"
)

// Who may open a link's next page is decided once, for every /s/{token}
// route and both kinds of share: the link is live, the browser's session is
// of this link, and its recipient may still come in. These tables hold the
// answer of every route for each visitor, in each case that once had a
// wrong answer somewhere.

// linkCall is one request of a share link, relative to the link's path.
type linkCall struct {
	name, method, rest string
	form               url.Values
}

// call sends c to the link at path.
func (b *browser) call(link string, c linkCall) *resp {
	b.app.t.Helper()
	switch c.method {
	case http.MethodPost:
		f := url.Values{}
		for k, v := range c.form {
			f[k] = v
		}
		return b.post(link+c.rest, f)
	case http.MethodHead:
		return b.do(httptest.NewRequest(http.MethodHead, link+c.rest, nil))
	}
	return b.get(link + c.rest)
}

// expectStatuses checks the status of every call of the link for one
// visitor; want names the calls not answered with other.
func expectStatuses(t *testing.T, who string, b *browser, link string, calls []linkCall, other int, want map[string]int) {
	t.Helper()
	var wrong []string
	for _, c := range calls {
		status, ok := want[c.name]
		if !ok {
			status = other
		}
		if r := b.call(link, c); r.Code != status {
			wrong = append(wrong, fmt.Sprintf("%s %s%s: %d, want %d", c.method, link, c.rest, r.Code, status))
		}
	}
	sort.Strings(wrong)
	if len(wrong) > 0 {
		t.Errorf("%s:\n  %s", who, strings.Join(wrong, "\n  "))
	}
}

// presoCalls are the routes of a preso's link, as a visitor who comes in as
// recipient who (and holds viewing) would call them. The signing comes last:
// it is the only call that leaves something behind a second one would see.
func presoCalls(who int, viewing string) []linkCall {
	w := fmt.Sprint(who)
	return []linkCall{
		{"landing", http.MethodGet, "", nil},
		{"pick", http.MethodGet, "?who=" + w, nil},
		{"code page", http.MethodGet, "/code?who=" + w, nil},
		{"verify", http.MethodPost, "/verify", formOf("who", w, "code", "000000")},
		{"slides", http.MethodGet, "/slides/1", nil},
		{"images", http.MethodGet, "/images/1", nil},
		{"beacon", http.MethodPost, "/beacon", formOf("v", viewing, "slide", "1", "ms", "10")},
		{"sign", http.MethodPost, "/sign", formOf("slide", "3", "name", "Typed Name", "typed_only", "1", "consent", "1")},
	}
}

// presoEntryCalls are the calls that let someone in or send a code: each
// visitor's table ends with them, as they change what the visitor holds.
func presoEntryCalls(who int) []linkCall {
	w := fmt.Sprint(who)
	return []linkCall{
		{"code", http.MethodPost, "/code", formOf("who", w)},
		{"open", http.MethodPost, "/open", formOf("who", w)},
	}
}

// presoFixture is a preso shared with Mia (first contact) and Léo, whose
// first slide has an image, with both of them in and viewing it.
type presoFixture struct {
	a            *testApp
	owner        *browser
	id           uint64
	link         string
	mia, leo     store.Client
	miaB, leoB   *browser
	miaVw, leoVw string
	contactsOnly bool
	outsider     *browser // a browser that never came in
}

func newPresoFixture(t *testing.T, visibility string) *presoFixture {
	a := newTestApp(t)
	f := &presoFixture{a: a, owner: a.setUp(), contactsOnly: visibility == "contacts"}
	f.mia = a.addClient("Mia", "Martin", a.ownerID(), store.Phone{Type: store.PhoneMobile, Number: "+33612345678", Mobile: true})
	f.leo = a.addClient("Léo", "Lemaire", a.ownerID(), store.Phone{Type: store.PhoneMobile, Number: "+33611111111", Mobile: true})
	f.id, f.link = sharePreso(t, a, f.owner, visibility, f.mia, f.leo)
	if r := f.owner.upload(presoPath(f.id, "/slides/1/image"), "image", "a.png", pngBytes(t, 8, 8)); r.Code >= 400 {
		t.Fatalf("image: %d", r.Code)
	}
	if r := f.owner.post(presoPath(f.id, "/share/1/refresh"), nil); r.Code != http.StatusSeeOther {
		t.Fatalf("refresh: %d %s", r.Code, abbreviate(r.body))
	}
	f.miaB, f.miaVw = f.enter(t, 0)
	f.leoB, f.leoVw = f.enter(t, 1)
	f.outsider = a.browser()
	f.outsider.ip = "198.51.100.7:4321"
	return f
}

// enter brings a new browser in as recipient who and returns it with its viewing token.
func (f *presoFixture) enter(t *testing.T, who int) (*browser, string) {
	t.Helper()
	b := f.a.browser()
	b.ip = fmt.Sprintf("198.51.100.%d:1234", 10+who)
	if f.contactsOnly {
		return b, verifyByCode(t, f.a, b, f.link, who)
	}
	if r := b.post(f.link+"/open", formOf("who", fmt.Sprint(who))); r.Code != http.StatusSeeOther || r.Header().Get("Location") != f.link+"/slides/1" {
		t.Fatalf("enter as %d: %d %s", who, r.Code, r.Header().Get("Location"))
	}
	r := b.get(f.link + "/slides/1")
	m := viewingRe.FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("no viewing for %d: %d", who, r.Code)
	}
	if r := b.get(f.link + "/images/1"); r.Code != http.StatusOK {
		t.Fatalf("image for %d: %d", who, r.Code)
	}
	return b, m[1]
}

// archive archives a client record through the client page, as staff do.
func (f *presoFixture) archive(t *testing.T, cl store.Client) {
	t.Helper()
	if r := f.owner.post(fmt.Sprintf("/clients/%d/archive", cl.ID), nil); r.Code != http.StatusSeeOther {
		t.Fatalf("archive: %d %s", r.Code, abbreviate(r.body))
	}
}

// stillIn checks that a visitor who may still come in goes on: slides,
// images, beacons and the signing slide all answer.
func (f *presoFixture) stillIn(t *testing.T, who string, b *browser, viewing string, n int) {
	t.Helper()
	expectStatuses(t, who, b, f.link, presoCalls(n, viewing), http.StatusSeeOther, map[string]int{
		"slides": http.StatusOK, "images": http.StatusOK, "beacon": http.StatusNoContent,
	})
}

// TestPresoLinkAdmitsPerRecipient: archiving the *first* contact of a preso
// shared with two closes the link to that contact alone, on every route, at
// once; the other contact goes on, and a newcomer sees only the other's
// name. (The link used to answer 410 to everyone, while the archived client,
// already inside, kept getting slides and recording time.)
func TestPresoLinkAdmitsPerRecipient(t *testing.T) {
	t.Parallel()
	for _, vis := range []string{"anyone", "contacts"} {
		t.Run(vis+"/archived first contact", func(t *testing.T) {
			f := newPresoFixture(t, vis)
			f.archive(t, f.mia)
			expectStatuses(t, "Mia, archived", f.miaB, f.link, append(presoCalls(0, f.miaVw), presoEntryCalls(0)...), http.StatusGone, nil)
			f.stillIn(t, "Léo", f.leoB, f.leoVw, 1)
			r := f.outsider.get(f.link)
			mustContain(t, r, "Léo Lemaire")
			mustNotContain(t, r, "Mia Martin")
			f.newcomer(t)
		})
		t.Run(vis+"/removed contact", func(t *testing.T) {
			f := newPresoFixture(t, vis)
			if r := f.owner.post(presoPath(f.id, fmt.Sprintf("/contacts/%d/remove", f.mia.ID)), nil); r.Code != http.StatusSeeOther {
				t.Fatalf("remove: %d", r.Code)
			}
			expectStatuses(t, "Mia, removed", f.miaB, f.link, append(presoCalls(0, f.miaVw), presoEntryCalls(0)...), http.StatusGone, nil)
			f.stillIn(t, "Léo", f.leoB, f.leoVw, 1)
			f.newcomer(t)
		})
		t.Run(vis+"/archived only contact", func(t *testing.T) {
			f := newPresoFixture(t, vis)
			f.archive(t, f.mia)
			f.archive(t, f.leo)
			for _, v := range []struct {
				who     string
				b       *browser
				n       int
				viewing string
			}{{"Mia", f.miaB, 0, f.miaVw}, {"Léo", f.leoB, 1, f.leoVw}, {"a newcomer", f.outsider, 1, f.leoVw}} {
				expectStatuses(t, v.who, v.b, f.link, append(presoCalls(v.n, v.viewing), presoEntryCalls(v.n)...), http.StatusGone, nil)
			}
			// The link opens for nobody now: those who were let in are
			// told their own access ended, anyone else that it ended.
			mustContain(t, f.miaB.get(f.link+"/slides/1"), "This link no longer opens for you")
			mustContain(t, f.leoB.get(f.link), "This link no longer opens for you")
			r := f.outsider.get(f.link)
			mustContain(t, r, "This link no longer works")
			mustNotContain(t, r, "for you")
		})
		t.Run(vis+"/expired", func(t *testing.T) {
			f := newPresoFixture(t, vis)
			if r := f.owner.post(presoPath(f.id, "/share/1/expire"), nil); r.Code != http.StatusSeeOther {
				t.Fatalf("expire: %d", r.Code)
			}
			f.closedToAll(t, http.StatusNoContent)
		})
		t.Run(vis+"/revoked", func(t *testing.T) {
			f := newPresoFixture(t, vis)
			if _, err := f.a.st.ChangeShare(1, func(ch *store.ShareChange) error { ch.Share.State = store.ShareRevoked; return nil }); err != nil {
				t.Fatal(err)
			}
			f.closedToAll(t, http.StatusGone)
		})
		t.Run(vis+"/another link's session", func(t *testing.T) {
			f := newPresoFixture(t, vis)
			// A second link of another preso, for Léo: Mia's session of the
			// first link, presented under the second link's cookie, opens nothing.
			other := f.owner.newPreso(t, "title", "Other")
			f.owner.post(presoPath(other, "/contacts"), formOf("client", fmt.Sprint(f.leo.ID)))
			if r := f.owner.post(presoPath(other, "/share"), nil, "HX-Request", "true"); r.Code != http.StatusOK {
				t.Fatalf("second link: %d", r.Code)
			}
			m := shareLinkRe.FindStringSubmatch(f.owner.get(presoPath(other, "/share")).body)
			if m == nil {
				t.Fatal("no second link")
			}
			second := m[1]
			sh1, _ := f.a.st.ShareByToken(strings.TrimPrefix(f.link, "/s/"))
			sh2, _ := f.a.st.ShareByToken(strings.TrimPrefix(second, "/s/"))
			stolen := f.miaB.cookies[f.a.h.shareCookieName(sh1.ID)]
			if stolen == nil || sh2.ID == 0 || sh2.ID == sh1.ID {
				t.Fatalf("setup: cookie %v, shares %d %d", stolen, sh1.ID, sh2.ID)
			}
			thief := f.a.browser()
			thief.cookies[f.a.h.shareCookieName(sh2.ID)] = &http.Cookie{Name: f.a.h.shareCookieName(sh2.ID), Value: stolen.Value}
			expectStatuses(t, "another link's session", thief, second, presoCalls(0, f.miaVw), http.StatusSeeOther, map[string]int{
				"landing": http.StatusOK, "pick": http.StatusOK, "code page": http.StatusSeeOther,
				"images": http.StatusNotFound, "beacon": http.StatusForbidden,
			})
			// Mia, on the link her session is of, is still in.
			f.stillIn(t, "Mia", f.miaB, f.miaVw, 0)
		})
	}
}

// newcomer checks what a browser that was never in may do once Mia lost
// access: not come in as her, nor get a code for her; come in as Léo.
func (f *presoFixture) newcomer(t *testing.T) {
	t.Helper()
	b := f.a.browser()
	b.ip = "198.51.100.99:1"
	if f.contactsOnly {
		if r := b.get(f.link + "?who=0"); r.Code != http.StatusSeeOther || r.Header().Get("Location") != f.link {
			t.Errorf("Mia's numbers to a newcomer: %d %s", r.Code, r.Header().Get("Location"))
		}
		before := f.a.countMessages()
		if r := b.post(f.link+"/code", formOf("who", "0")); r.Code != http.StatusSeeOther || r.Header().Get("Location") != f.link {
			t.Errorf("a code for Mia: %d %s", r.Code, r.Header().Get("Location"))
		}
		if n := f.a.countMessages(); n != before {
			t.Errorf("a code went to Mia's mobile after she lost access")
		}
		return
	}
	if r := b.post(f.link+"/open", formOf("who", "0")); r.Code != http.StatusSeeOther || r.Header().Get("Location") != f.link {
		t.Errorf("a newcomer came in as Mia: %d %s", r.Code, r.Header().Get("Location"))
	}
	if r := b.post(f.link+"/open", formOf("who", "1")); r.Code != http.StatusSeeOther || r.Header().Get("Location") != f.link+"/slides/1" {
		t.Errorf("a newcomer did not come in as Léo: %d %s", r.Code, r.Header().Get("Location"))
	}
}

// closedToAll checks that every route answers 410 to every visitor, but one.
// The beacon of a viewer who was in when the link ended (lastBeacon) is
// their last one: it counts up to the end (a link that ended without its
// time known counts nothing).
func (f *presoFixture) closedToAll(t *testing.T, lastBeacon int) {
	t.Helper()
	viewer := map[string]int{"beacon": lastBeacon}
	expectStatuses(t, "Mia", f.miaB, f.link, append(presoCalls(0, f.miaVw), presoEntryCalls(0)...), http.StatusGone, viewer)
	expectStatuses(t, "Léo", f.leoB, f.link, append(presoCalls(1, f.leoVw), presoEntryCalls(1)...), http.StatusGone, viewer)
	expectStatuses(t, "a newcomer", f.outsider, f.link, append(presoCalls(1, f.leoVw), presoEntryCalls(1)...), http.StatusGone, nil)
}

// docCalls are the routes of a documents link. Deleting the documents comes
// last, and only where it must fail.
func docCalls() []linkCall {
	return []linkCall{
		{"landing", http.MethodGet, "", nil},
		{"code page", http.MethodGet, "/code", nil},
		{"verify", http.MethodPost, "/verify", formOf("code", "000000")},
		{"files", http.MethodGet, "/files", nil},
		{"download", http.MethodGet, "/files/1", nil},
		{"download head", http.MethodHead, "/files/1", nil},
		{"zip", http.MethodGet, "/all", nil},
		{"zip head", http.MethodHead, "/all", nil},
		{"history", http.MethodGet, "/history", nil},
		{"delete page", http.MethodGet, "/delete", nil},
		{"code", http.MethodPost, "/code", nil},
		{"open", http.MethodPost, "/open", nil},
		{"delete", http.MethodPost, "/delete", nil},
	}
}

// TestDocumentLinkAdmission: a documents link closes on every route, for the
// recipient already in as for anyone else, when its client is archived (also
// when it went to someone else about them), when it expires, is revoked by
// Send again or is locked; a session of another link opens nothing.
func TestDocumentLinkAdmission(t *testing.T) {
	t.Parallel()
	ended := func(status int, end func(a *testApp, owner *browser, clientPath string)) func(t *testing.T) {
		return func(t *testing.T) {
			a, owner, clientPath, token, _ := sharedClient(t)
			in := verify(t, a, token)
			if r := in.get("/s/" + token + "/files/1"); r.Code != http.StatusOK {
				t.Fatalf("download before: %d", r.Code)
			}
			end(a, owner, clientPath)
			expectStatuses(t, "the recipient, in", in, "/s/"+token, docCalls(), status, nil)
			expectStatuses(t, "a newcomer", a.browser(), "/s/"+token, docCalls(), status, nil)
		}
	}
	t.Run("archived client", ended(http.StatusGone, func(a *testApp, owner *browser, clientPath string) {
		if r := owner.post(clientPath+"/archive", nil); r.Code != http.StatusSeeOther {
			t.Fatalf("archive: %d", r.Code)
		}
	}))
	t.Run("archived in the store only", ended(http.StatusGone, func(a *testApp, owner *browser, clientPath string) {
		sh, _ := a.st.Share(1)
		if _, err := a.st.ArchiveClient(sh.ClientID, true); err != nil {
			t.Fatal(err)
		}
	}))
	t.Run("expired", ended(http.StatusGone, func(a *testApp, owner *browser, clientPath string) {
		owner.post("/shares/1/expire", nil)
	}))
	t.Run("revoked", ended(http.StatusGone, func(a *testApp, owner *browser, clientPath string) {
		if r := owner.post("/shares/1/again", formOf("name", "Ana Martin", "email", "ana@example.org", "lang", "en")); r.Code != http.StatusSeeOther {
			t.Fatalf("send again: %d %s", r.Code, abbreviate(r.body))
		}
	}))
	t.Run("locked", ended(http.StatusForbidden, func(a *testApp, owner *browser, clientPath string) {
		if _, err := a.st.ChangeShare(1, func(ch *store.ShareChange) error { ch.Share.State = store.ShareLocked; return nil }); err != nil {
			t.Fatal(err)
		}
	}))

	t.Run("sent to someone else, client archived", func(t *testing.T) {
		a := newTestApp(t)
		owner := a.setUp()
		clientPath := owner.newClient("lang", "en", "email", "ana@example.org", "first_name", "Ana", "last_name", "Martin")
		r := owner.shareUpload(clientPath, []string{"recipient", "other", "other_name", "Maître Roux", "other_email", "roux@example.org",
			"other_lang", "en", "other_mobile", "06 99 88 77 66", "verify", "1"}, upFile{"acte.pdf", []byte("%PDF-1.4 acte")})
		if r.Code != http.StatusSeeOther {
			t.Fatalf("share: %d %s", r.Code, abbreviate(r.body))
		}
		token := a.lastShareToken("roux@example.org")
		lawyer := a.browser()
		lawyer.post("/s/"+token+"/code", nil)
		if r := lawyer.post("/s/"+token+"/verify", formOf("code", a.lastCode("+33699887766"))); r.Code != http.StatusSeeOther {
			t.Fatalf("verify: %d", r.Code)
		}
		sh, _ := a.st.Share(1)
		if _, err := a.st.ArchiveClient(sh.ClientID, true); err != nil {
			t.Fatal(err)
		}
		expectStatuses(t, "the lawyer, in", lawyer, "/s/"+token, docCalls(), http.StatusGone, nil)
	})

	t.Run("another link's session", func(t *testing.T) {
		a, owner, clientPath, token, _ := sharedClient(t)
		in := verify(t, a, token)
		if r := owner.shareUpload(clientPath, []string{"recipient", "client", "verify", "1"}, upFile{"b.txt", []byte("b")}); r.Code != http.StatusSeeOther {
			t.Fatalf("second share: %d", r.Code)
		}
		second := a.lastShareToken("ana@example.org")
		if second == token {
			t.Fatal("no second link")
		}
		sh1, _ := a.st.ShareByToken(token)
		sh2, _ := a.st.ShareByToken(second)
		stolen := in.cookies[a.h.shareCookieName(sh1.ID)]
		thief := a.browser()
		thief.cookies[a.h.shareCookieName(sh2.ID)] = &http.Cookie{Name: a.h.shareCookieName(sh2.ID), Value: stolen.Value}
		expectStatuses(t, "another link's session", thief, "/s/"+second, docCalls(), http.StatusSeeOther, map[string]int{
			"landing": http.StatusOK, "code page": http.StatusOK,
		})
		// The session still opens its own link.
		if r := in.get("/s/" + token + "/files"); r.Code != http.StatusOK {
			t.Fatalf("own link after: %d", r.Code)
		}
	})
}

// Entering a code is one write: the code checked and used up, the session
// and (for a preso) the viewing begun, together; the answer is a redirect,
// with no page built. A preso's code entry reads the store at most twice.
func TestCodeEntryIsOneWrite(t *testing.T) {
	t.Parallel()
	t.Run("preso", func(t *testing.T) {
		a := newTestApp(t)
		owner := a.setUp()
		mia := a.addClient("Mia", "Martin", a.ownerID(), store.Phone{Type: store.PhoneMobile, Number: "+33612345678", Mobile: true})
		_, other := sharePreso(t, a, owner, "anyone", mia)
		_, link := sharePreso(t, a, owner, "contacts", mia)
		v := a.browser()
		// The browser is in another link already: its cookie is looked at too.
		if r := v.post(other+"/open", formOf("who", "0")); r.Code != http.StatusSeeOther {
			t.Fatalf("other link: %d", r.Code)
		}
		v.get(link + "?who=0")
		if r := v.post(link+"/code", formOf("who", "0")); r.Code != http.StatusSeeOther {
			t.Fatalf("send code: %d", r.Code)
		}
		code := a.lastCode("+33612345678")
		form := formOf("who", "0", "code", code)
		form.Set("_csrf", v.csrf())
		before := a.st.TxCounts()
		r := v.post(link+"/verify", form)
		got := a.st.TxCounts().Sub(before)
		if r.Code != http.StatusSeeOther || r.Header().Get("Location") != link+"/slides/1" || r.body != "" {
			t.Fatalf("verify: %d %s %q", r.Code, r.Header().Get("Location"), abbreviate(r.body))
		}
		t.Logf("a preso code entry: %d reads, %d writes", got.Reads, got.Writes)
		if got.Writes != 1 || got.Batched != 0 || got.Reads > 2 {
			t.Fatalf("a preso code entry ran %d reads, %d writes, %d batched; want at most 2 reads and 1 write", got.Reads, got.Writes, got.Batched)
		}
		// All of it was written: the session lets in, the viewing is there, the code is used.
		mustContain(t, v.get(link+"/slides/1"), "Body Hello")
		if vs, _ := a.st.ShareViewings(2); len(vs) != 1 || vs[0].Verification != "sms" || vs[0].VerifiedTo != "••• ••• 678" {
			t.Fatalf("viewings: %+v", vs)
		}
		if r := a.browser().post(link+"/verify", formOf("who", "0", "code", code)); r.Header().Get("Location") == link+"/slides/1" {
			t.Fatal("the code worked twice")
		}
	})
	t.Run("documents", func(t *testing.T) {
		a, _, _, token, _ := sharedClient(t)
		b := a.browser()
		b.post("/s/"+token+"/code", nil)
		form := formOf("code", a.lastCode("+33612345678"))
		form.Set("_csrf", b.csrf())
		before := a.st.TxCounts()
		r := b.post("/s/"+token+"/verify", form)
		got := a.st.TxCounts().Sub(before)
		if r.Code != http.StatusSeeOther || r.Header().Get("Location") != "/s/"+token+"/files" {
			t.Fatalf("verify: %d %s", r.Code, r.Header().Get("Location"))
		}
		t.Logf("a documents code entry: %d reads, %d writes", got.Reads, got.Writes)
		if got.Writes != 1 || got.Batched != 0 || got.Reads > 2 {
			t.Fatalf("a documents code entry ran %d reads, %d writes, %d batched", got.Reads, got.Writes, got.Batched)
		}
		if r := b.get("/s/" + token + "/files"); r.Code != http.StatusOK {
			t.Fatalf("files: %d", r.Code)
		}
	})
}
