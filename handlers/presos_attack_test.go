package handlers

import (
	"bytes"
	"fmt"
	"html"
	"image"
	"image/jpeg"
	"image/png"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"foyer/store"
)

// verifyByCode takes a visitor of a contacts-only link through the code by
// text message as recipient who; it returns the viewing token of slide 1.
func verifyByCode(t *testing.T, a *testApp, v *browser, link string, who int) string {
	t.Helper()
	a.advance(2 * time.Minute) // one code a minute per share
	if r := v.post(link+"/code", formOf("who", fmt.Sprint(who))); r.Code != http.StatusSeeOther {
		t.Fatalf("send code: %d %s", r.Code, abbreviate(r.body))
	}
	msgs, _ := a.st.ListMessages(0, 10)
	secret, err := a.st.Unseal(msgs[0].Sealed)
	if err != nil {
		t.Fatal(err)
	}
	if r := v.post(link+"/verify", formOf("who", fmt.Sprint(who), "code", secret)); r.Code != http.StatusSeeOther {
		t.Fatalf("verify: %d %s", r.Code, abbreviate(r.body))
	}
	r := v.get(link + "/slides/1")
	mustContain(t, r, "Body Hello")
	return viewingRe.FindStringSubmatch(r.body)[1]
}

// Removing a contact from a preso ends their access to the links already
// made, at once: their verified session, their beacons, and the landing.
func TestPresoRemovedContactLosesShareAccess(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	mia := a.addClient("Mia", "Martin", a.ownerID(), store.Phone{Type: store.PhoneMobile, Number: "+33612345678", Mobile: true})
	leo := a.addClient("Léo", "Lemaire", a.ownerID(), store.Phone{Type: store.PhoneMobile, Number: "+33611111111", Mobile: true})
	id, link := sharePreso(t, a, owner, "contacts", mia, leo)

	miaV := a.browser()
	viewing := verifyByCode(t, a, miaV, link, 0)
	leoV := a.browser()
	verifyByCode(t, a, leoV, link, 1)

	if r := owner.post(presoPath(id, fmt.Sprintf("/contacts/%d/remove", mia.ID)), nil); r.Code >= 400 {
		t.Fatalf("remove contact: %d %s", r.Code, abbreviate(r.body))
	}
	// Mia's open viewer stops at its next slide and its next beacon.
	if r := miaV.get(link + "/slides/2"); r.Code != http.StatusGone {
		t.Fatalf("removed contact's slide: %d", r.Code)
	} else {
		// The link still opens for Léo: Mia is told her own access ended.
		mustContain(t, r, "This link no longer opens for you", "Your access to what it shows has ended")
		mustNotContain(t, r, "expired")
	}
	if r := miaV.post(link+"/beacon", beaconForm(miaV, viewing, 1, 10)); r.Code != http.StatusGone && r.Code != http.StatusForbidden {
		t.Fatalf("removed contact's beacon: %d", r.Code)
	}
	// The landing names only Léo; Mia's name and number can no longer be picked nor get a code.
	fresh := a.browser()
	r := fresh.get(link)
	mustContain(t, r, "Léo Lemaire")
	mustNotContain(t, r, "Mia Martin")
	if r := fresh.get(link + "?who=0"); r.Code != http.StatusSeeOther || r.Header().Get("Location") != link {
		t.Fatalf("removed contact's numbers: %d %s", r.Code, r.Header().Get("Location"))
	}
	before, _ := a.st.ListMessages(0, 10)
	fresh.post(link+"/code", formOf("who", "0"))
	if after, _ := a.st.ListMessages(0, 10); len(after) != len(before) {
		t.Fatalf("a code was sent to a removed contact: %+v", after[0])
	}
	// Léo, still a contact, goes on.
	mustContain(t, leoV.get(link+"/slides/2"), "Sign here")
}

// On a link open to anyone, a removed contact's name goes from the list and
// the session they opened by their name ends.
func TestPresoRemovedContactAnyoneLink(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	mia := a.addClient("Mia", "Martin", a.ownerID())
	leo := a.addClient("Léo", "Lemaire", a.ownerID())
	id, link := sharePreso(t, a, owner, "anyone", mia, leo)
	v := a.browser()
	v.post(link+"/open", formOf("who", "0"))
	mustContain(t, v.get(link+"/slides/1"), "Body Hello")
	owner.post(presoPath(id, fmt.Sprintf("/contacts/%d/remove", mia.ID)), nil)
	if r := v.get(link + "/slides/1"); r.Code != http.StatusGone {
		t.Fatalf("removed contact's slide: %d", r.Code)
	}
	r := a.browser().get(link)
	mustContain(t, r, "Léo Lemaire", "Not on the list?")
	mustNotContain(t, r, "Mia Martin")
	v2 := a.browser()
	if r := v2.post(link+"/open", formOf("who", "0")); r.Code != http.StatusSeeOther || r.Header().Get("Location") != link {
		t.Fatalf("open as a removed contact: %d %s", r.Code, r.Header().Get("Location"))
	}
}

// Deleting a preso asks first, expires its links (an open viewer and the
// landing say it no longer works), and removes the preso, its slides and its
// images; another practitioner cannot delete it.
func TestPresoDeleteExpiresSharesAndRemovesIt(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	a.addStaff("Bob Practitioner", "bob@example.org", store.RolePractitioner)
	bobB := a.signIn("bob@example.org", staffPassword)
	mia := a.addClient("Mia", "Martin", a.ownerID())
	id, link := sharePreso(t, a, owner, "anyone", mia)
	if r := owner.upload(presoPath(id, "/slides/1/image"), "image", "a.png", pngBytes(t, 8, 8)); r.Code >= 400 {
		t.Fatalf("image: %d", r.Code)
	}
	p, _ := a.st.Preso(id)
	digest := p.Slides[0].Image
	if _, err := a.st.SlideImage(digest); err != nil {
		t.Fatalf("image not stored: %v", err)
	}
	v := a.browser()
	v.post(link+"/open", formOf("who", "0"))
	mustContain(t, v.get(link+"/slides/1"), "Body Hello")

	mustContain(t, owner.get(presoPath(id, "")), presoPath(id, "/delete"), "Delete this preso")
	r := owner.get(presoPath(id, "/delete"))
	mustContain(t, r, "Delete this preso?", `action="`+presoPath(id, "/delete")+`"`, "Keep it")
	if r := bobB.get(presoPath(id, "/delete")); r.Code != http.StatusNotFound {
		t.Fatalf("another practitioner's confirmation: %d", r.Code)
	}
	if r := bobB.post(presoPath(id, "/delete"), nil); r.Code != http.StatusNotFound {
		t.Fatalf("another practitioner's delete: %d", r.Code)
	}
	if _, err := a.st.Preso(id); err != nil {
		t.Fatalf("deleted by someone else: %v", err)
	}
	r = owner.post(presoPath(id, "/delete"), nil)
	if r.Code != http.StatusSeeOther || r.Header().Get("Location") != "/presos" {
		t.Fatalf("delete: %d %s", r.Code, r.Header().Get("Location"))
	}
	mustContain(t, owner.get("/presos"), "The preso is deleted.")
	if _, err := a.st.Preso(id); err == nil {
		t.Fatal("the preso is still stored")
	}
	if _, err := a.st.SlideImage(digest); err == nil {
		t.Fatal("the slide image is still stored")
	}
	if r := owner.get(presoPath(id, "")); r.Code != http.StatusNotFound {
		t.Fatalf("deleted preso's page: %d", r.Code)
	}
	if r := v.get(link + "/slides/1"); r.Code != http.StatusGone {
		t.Fatalf("viewer after delete: %d", r.Code)
	}
	r = a.browser().get(link)
	if r.Code != http.StatusGone {
		t.Fatalf("landing after delete: %d", r.Code)
	}
	mustContain(t, r, "no longer works")
}

// Slide images are decoded and encoded again at upload: bytes appended to the
// file and metadata such as EXIF (GPS) do not reach the store nor viewers.
func TestPresoSlideImageReencoded(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	id := owner.newPreso(t, "title", "Plan")
	owner.post(presoPath(id, "/slides"), formOf("kind", "content"))

	withScript := append(pngBytes(t, 4, 4), []byte("<html><script>alert(1)</script></html>")...)
	if r := owner.upload(presoPath(id, "/slides/1/image"), "image", "a.png", withScript); r.Code >= 400 {
		t.Fatalf("png: %d", r.Code)
	}
	r := owner.get(presoPath(id, "/slides/1/image"))
	if r.Header().Get("Content-Type") != "image/png" || strings.Contains(r.body, "script") {
		t.Fatalf("png served as uploaded: %s %q", r.Header().Get("Content-Type"), r.body)
	}
	if cfg, err := png.DecodeConfig(strings.NewReader(r.body)); err != nil || cfg.Width != 4 {
		t.Fatalf("png: %+v %v", cfg, err)
	}

	var jp bytes.Buffer
	if err := jpeg.Encode(&jp, image.NewRGBA(image.Rect(0, 0, 16, 8)), nil); err != nil {
		t.Fatal(err)
	}
	// An EXIF segment (APP1) right after the start-of-image marker, as cameras write it.
	exif := append([]byte("Exif\x00\x00"), []byte("GPSLatitude 48.8566 secret-place")...)
	seg := append([]byte{0xFF, 0xE1, byte((len(exif) + 2) >> 8), byte(len(exif) + 2)}, exif...)
	photo := append(append(append([]byte{}, jp.Bytes()[:2]...), seg...), jp.Bytes()[2:]...)
	if _, err := jpeg.Decode(bytes.NewReader(photo)); err != nil {
		t.Fatalf("test photo: %v", err)
	}
	if r := owner.upload(presoPath(id, "/slides/1/image"), "image", "photo.jpg", photo); r.Code >= 400 {
		t.Fatalf("jpeg: %d", r.Code)
	}
	r = owner.get(presoPath(id, "/slides/1/image"))
	if r.Header().Get("Content-Type") != "image/jpeg" || strings.Contains(r.body, "secret-place") || strings.Contains(r.body, "Exif") {
		t.Fatalf("jpeg kept its metadata: %s", r.Header().Get("Content-Type"))
	}
	if cfg, err := jpeg.DecodeConfig(strings.NewReader(r.body)); err != nil || cfg.Width != 16 || cfg.Height != 8 {
		t.Fatalf("jpeg: %+v %v", cfg, err)
	}
}

// A contact's codes go to the mobiles on their record now: staff replace a
// lost phone's number, and the next code goes to the new one, the old
// number gets nothing more, and the code it already got opens nothing.
func TestPresoCodeFollowsTheRecordsMobile(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	const lost, replaced = "+33611223302", "+33611223311"
	bruno := a.addClient("Bruno", "Beta", a.ownerID(), store.Phone{Type: store.PhoneMobile, Number: lost, Mobile: true})
	id, link := sharePreso(t, a, owner, "contacts", bruno)

	v := a.browser()
	a.advance(2 * time.Minute)
	if r := v.post(link+"/code", formOf("who", "0")); r.Code != http.StatusSeeOther {
		t.Fatalf("send code: %d %s", r.Code, abbreviate(r.body))
	}
	msgs, _ := a.st.ListMessages(0, 10)
	if msgs[0].To != lost {
		t.Fatalf("first code went to %s", msgs[0].To)
	}
	oldCode, err := a.st.Unseal(msgs[0].Sealed)
	if err != nil {
		t.Fatal(err)
	}

	if _, err := a.st.UpdateClient(bruno.ID, func(c *store.Client) error {
		c.Phones = []store.Phone{{Type: store.PhoneMobile, Number: replaced, Mobile: true}}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// Nothing to refresh: the presentation did not change, and the link
	// follows the record already.
	mustNotContain(t, owner.get(presoPath(id, "/share")), "Refresh link")

	v.post(link+"/verify", formOf("who", "0", "code", oldCode))
	if r := v.get(link + "/slides/1"); r.Code == http.StatusOK && strings.Contains(r.body, "Body Hello") {
		t.Fatal("the code sent to the number taken off the record opened the slides")
	}
	r := v.get(link + "?who=0")
	mustContain(t, r, "311")
	mustNotContain(t, r, "302")

	a.advance(2 * time.Minute)
	before, _ := a.st.ListMessages(0, 10)
	if r := v.post(link+"/code", formOf("who", "0")); r.Code != http.StatusSeeOther {
		t.Fatalf("send code again: %d %s", r.Code, abbreviate(r.body))
	}
	msgs, _ = a.st.ListMessages(0, 10)
	if len(msgs) != len(before)+1 || msgs[0].To != replaced {
		t.Fatalf("the new code went to %s (%d messages, %d before)", msgs[0].To, len(msgs), len(before))
	}
	newCode, err := a.st.Unseal(msgs[0].Sealed)
	if err != nil {
		t.Fatal(err)
	}
	if r := v.post(link+"/verify", formOf("who", "0", "code", newCode)); r.Code != http.StatusSeeOther {
		t.Fatalf("verify with the new number's code: %d %s", r.Code, abbreviate(r.body))
	}
	mustContain(t, v.get(link+"/slides/1"), "Body Hello")
}

// Every staff page names a slide's image by its content, and the browser
// keeps the image only to ask again (an ETag answers 304 while it is the
// same): a replaced image never shows in the preview in its place.
func TestPresoPreviewShowsAReplacedImage(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	id := owner.newPreso(t, "title", "Plan")
	imageURL := regexp.MustCompile(`src="(/presos/\d+/slides/1/image\?v=[^"]+)"`)
	previewImage := func() string {
		t.Helper()
		r := owner.get(presoPath(id, "/preview"))
		m := imageURL.FindStringSubmatch(r.body)
		if m == nil {
			t.Fatalf("the preview names no versioned image: %s", abbreviate(r.body))
		}
		return html.UnescapeString(m[1])
	}
	if r := owner.upload(presoPath(id, "/slides/1/image"), "image", "red.png", pngBytes(t, 4, 4)); r.Code >= 400 {
		t.Fatalf("upload: %d", r.Code)
	}
	first := previewImage()
	if edit := owner.get(presoPath(id, "")); !strings.Contains(edit.body, html.EscapeString(first)) {
		t.Fatalf("the editor names another address than the preview's %s", first)
	}
	r := owner.get(first)
	etag := r.Header().Get("ETag")
	if r.Code != http.StatusOK || r.Header().Get("Cache-Control") != "private, no-cache" || etag == "" {
		t.Fatalf("image: %d %q %q", r.Code, r.Header().Get("Cache-Control"), etag)
	}
	if r := owner.get(presoPath(id, "/slides/1/image"), "If-None-Match", etag); r.Code != http.StatusNotModified || r.body != "" {
		t.Fatalf("revalidation of the same image: %d", r.Code)
	}

	if r := owner.upload(presoPath(id, "/slides/1/image"), "image", "blue.png", pngBytes(t, 8, 8)); r.Code >= 400 {
		t.Fatalf("upload: %d", r.Code)
	}
	if second := previewImage(); second == first {
		t.Fatalf("the preview still names the replaced image: %s", second)
	}
	r = owner.get(presoPath(id, "/slides/1/image"), "If-None-Match", etag)
	if r.Code != http.StatusOK {
		t.Fatalf("the replaced image revalidated: %d", r.Code)
	}
	if cfg, err := png.DecodeConfig(strings.NewReader(r.body)); err != nil || cfg.Width != 8 {
		t.Fatalf("the image after the replacement: %+v %v", cfg, err)
	}
}
