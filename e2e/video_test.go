package e2e

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// newMediaBrowser is newBrowser with a fake camera and microphone that are
// granted without asking, and WebRTC allowed over loopback.
func newMediaBrowser(t *testing.T) context.Context {
	return mediaBrowser(t, chromedp.Flag("use-fake-ui-for-media-stream", true))
}

// mediaBrowser starts Chromium with fake media devices and the given flags.
func mediaBrowser(t *testing.T, extra ...chromedp.ExecAllocatorOption) context.Context {
	path := findBrowser(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true), chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("allow-loopback-in-peer-connection", true), chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
	}
	opts = append(opts, extra...)
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}

// framesJS reports the video frames decoded from the other party, 0 until
// the peer connection is "connected".
const framesJS = `(async () => {
  const pc = window.foyerRoom && window.foyerRoom.pc();
  if (!pc || pc.connectionState !== "connected") return 0;
  let frames = 0;
  (await pc.getStats()).forEach(r => { if (r.type === "inbound-rtp" && r.kind === "video") frames += r.framesDecoded || 0; });
  return frames;
})()`

func (p *page) frames() int {
	p.t.Helper()
	n, err := chromedp.Run(p.ctx, chromedp.Evaluate[int](framesJS, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("getStats: %v", err)
	}
	return n
}

var roomHref = regexp.MustCompile(`/appointments/(\d+)/video`)

// TestVideoSession: the practitioner and the client join the same room from
// two browser contexts with fake cameras; the client waits, is let in, and
// both decode the other's video. Another client is refused; when the
// practitioner leaves, the client is told.
func TestVideoSession(t *testing.T) {
	// Two fake cameras, for a switch during the session.
	browser := mediaBrowser(t, chromedp.Flag("use-fake-ui-for-media-stream", true), chromedp.Flag("use-fake-device-for-media-stream", "device-count=2"))
	srv := startFoyer(t)
	staff := &page{t: t, ctx: browser, base: srv.base}
	setUpPractice(staff)
	for _, c := range []struct{ first, last, email, password string }{
		{"Éloïse", "Durand", "eloise@example.org", "bienvenue au cabinet"},
		{"Bruno", "Roux", "bruno@example.org", "bruno a un long mot de passe"},
	} {
		staff.do(chromedp.Navigate(srv.base + "/clients/new"))
		staff.submit(`main form`, "first_name", c.first, "last_name", c.last, "email", c.email)
		staff.submit(`form[action$="/portal"]`, "portal_email", c.email, "portal_password", c.password)
		staff.expect("L’accès au portail est enregistré")
	}
	// A video session with Éloïse (client 1), starting this minute.
	paris, _ := time.LoadLocation("Europe/Paris")
	now := time.Now().In(paris)
	staff.do(chromedp.Navigate(srv.base + "/clients/1"))
	staff.submit(`form[action$="/appointments"]`, "date", now.Format("2006-01-02"), "time", now.Format("15:04"), "kind", "video", "fee", "80")
	staff.expect("Le rendez-vous est enregistré.", "Rejoindre la séance en vidéo")

	// The practitioner joins from the agenda.
	staff.do(chromedp.Navigate(srv.base + "/"))
	staff.click(`a.join`)
	staff.expect("Séance en vidéo avec Éloïse Durand")
	staff.axe()
	href := roomHref.FindStringSubmatch(staff.location())
	if href == nil {
		t.Fatalf("room address %s", staff.location())
	}
	id := href[1]
	staff.click(`#room-start`)
	staff.expectIn("#room-setup", "Niveau du micro", "Caméra", "Tester le son")
	staff.click(`#room-join`)
	staff.expectIn("#room-status", "En attente de l’arrivée d’Éloïse Durand")

	// The client signs in and joins from My Account's next session.
	client := newTab(t, browser, srv.base)
	client.do(chromedp.EmulateViewport(390, 844), chromedp.Navigate(srv.base+"/portal"))
	client.submit(`form[action="/portal"]`, "email", "eloise@example.org", "password", "bienvenue au cabinet")
	client.expect("Votre prochaine séance", "Rejoindre la séance en vidéo")
	client.click(`a.join`)
	client.expect("Séance en vidéo avec Olive Owner")
	client.axe()
	client.click(`#room-start`)
	client.expectIn("#room-status", "Votre caméra et votre micro sont activés")
	client.click(`#room-join`)
	client.expectIn("#room-status", "Olive Owner sait que vous êtes là")
	client.screenshot("video-waiting")

	// The practitioner hears the chime and sees who waits.
	staff.expectIn("#room-knock", "Éloïse Durand est en salle d’attente.", "Faire entrer")
	staff.screenshot("video-knock")
	admit := time.Now()
	staff.click(`#room-admit`)
	var first, clientFirst, staffFirst time.Duration
	for clientFirst == 0 || staffFirst == 0 {
		if time.Since(admit) > 20*time.Second {
			t.Fatalf("no decoded video 20 s after Admit: client %d frames, practitioner %d", client.frames(), staff.frames())
		}
		if clientFirst == 0 && client.frames() > 0 {
			clientFirst = time.Since(admit)
		}
		if staffFirst == 0 && staff.frames() > 0 {
			staffFirst = time.Since(admit)
		}
		time.Sleep(10 * time.Millisecond)
	}
	first = min(clientFirst, staffFirst)
	t.Logf("Admit to first decoded frame: %v (client %v, practitioner %v)", first, clientFirst, staffFirst)
	if out := os.Getenv("FOYER_VIDEO_TIMING"); out != "" {
		os.WriteFile(out, []byte(strconv.FormatInt(first.Milliseconds(), 10)+" "+strconv.FormatInt(clientFirst.Milliseconds(), 10)+" "+strconv.FormatInt(staffFirst.Milliseconds(), 10)+"\n"), 0o644)
	}
	for _, p := range []*page{staff, client} {
		p.eventually("connected with frames", framesJS+`.then(n => n > 0)`)
		p.expectIn("#room-status", "Connecté.")
	}
	client.screenshot("video-connected")
	staff.screenshot("video-connected-staff")

	// Each side grades its line, in words, and shows the other's.
	for _, p := range []*page{staff, client} {
		p.waitFor(20*time.Second, "a good line", `window.foyerRoom.quality().mine === "good" && window.foyerRoom.quality().theirs === "good"`)
		p.expectIn("#room-quality", "Votre connexion : Bonne", ": Bonne")
	}

	// Mute: the other side is told.
	client.click(`#room-mute`)
	staff.expectIn("#remote-note", "Éloïse Durand a coupé son micro.")
	client.expectIn("#room-mute", "Rétablir le micro")
	client.click(`#room-mute`)
	staff.eventually("the note gone", `document.getElementById("remote-note").hidden`)

	// Another camera and another microphone, chosen during the session:
	// the tracks are swapped on their senders, with no new negotiation, and
	// the choice is remembered. (Chromium's second fake camera makes 16-bit
	// depth frames, which no encoder takes: the video is checked once back
	// on the first camera; the sound, on the second microphone.)
	offers := js[int](staff, `window.foyerRoom.offers`)
	client.click(`#room-devices`)
	client.expectIn("#room-setup", "Caméra", "Micro")
	client.axe()
	choose := func(sel, kind, label string) {
		t.Helper()
		if _, err := chromedp.Run(client.ctx, chromedp.Evaluate[bool](`(s => { s.value = [...s.options].find(o => o.textContent === "`+label+`").value; s.dispatchEvent(new Event("change")); return true })(document.querySelector("`+sel+`"))`)); err != nil {
			t.Fatal(err)
		}
		client.eventually(label+" sent", `(t => t && t.label === "`+label+`" && t.readyState === "live")(window.foyerRoom.`+kind+`Track())`)
	}
	choose("#pick-camera", "video", "fake_device_1")
	choose("#pick-mic", "audio", "Fake Audio Input 1")
	client.expectIn("#room-notice", "Appareil utilisé : Fake Audio Input 1.")
	if remembered := js[string](client, `localStorage.getItem("foyer.room.devices")`); !strings.Contains(remembered, `"camera":"`) || !strings.Contains(remembered, `"mic":"`) {
		t.Fatalf("device choice not remembered: %s", remembered)
	}
	audioIn := `(async () => { let b = 0; (await window.foyerRoom.pc().getStats()).forEach(r => { if (r.type === "inbound-rtp" && r.kind === "audio") b += r.bytesReceived; }); return b; })()`
	soundNow, _ := chromedp.Run(staff.ctx, chromedp.Evaluate[int](audioIn, chromedp.EvalAwaitPromise))
	staff.eventually("sound from the other microphone", audioIn+`.then(b => b > `+strconv.Itoa(soundNow+3000)+`)`)
	choose("#pick-camera", "video", "fake_device_0")
	framesNow := staff.frames()
	staff.eventually("frames from the camera chosen again", framesJS+`.then(n => n > `+strconv.Itoa(framesNow+15)+`)`)
	if n := js[int](staff, `window.foyerRoom.offers`); n != offers || js[string](client, `window.foyerRoom.pc().signalingState`) != "stable" {
		t.Fatalf("switching devices negotiated again: %d offers, was %d", n, offers)
	}
	client.click(`#room-devices`)

	// Audio only (offered on a poor line; the network tests make one): the
	// video stops, the other side is told, the sound goes on; and back.
	if _, err := chromedp.Run(client.ctx, chromedp.Evaluate[bool](`document.getElementById("room-audio-only").click(), true`)); err != nil {
		t.Fatal(err)
	}
	client.expectIn("#room-audio-mode", "Son seul : votre caméra n’est plus transmise")
	staff.expectIn("#remote-note", "Éloïse Durand a choisi le son seul, à cause de la connexion.")
	client.eventually("no video sent", `window.foyerRoom.videoTrack() === null`)
	client.click(`#room-video-back`)
	staff.eventually("the note gone", `document.getElementById("remote-note").hidden`)
	framesNow = staff.frames()
	staff.eventually("video again", framesJS+`.then(n => n > `+strconv.Itoa(framesNow+15)+`)`)

	// The practitioner shares their screen: a bar says so, the client sees
	// it; Stop brings the camera back.
	staff.click(`#room-share`)
	staff.expectIn("#room-sharing", "Vous partagez votre écran.", "Arrêter le partage")
	client.expectIn("#remote-note", "Olive Owner partage son écran.")
	staff.eventually("the screen sent", `window.foyerRoom.videoTrack().label.startsWith("screen")`)
	framesNow = client.frames()
	client.eventually("frames of the screen", framesJS+`.then(n => n > `+strconv.Itoa(framesNow+5)+`)`)
	staff.screenshot("video-sharing")
	staff.axe()
	staff.click(`#room-share-stop`)
	staff.eventually("the bar gone", `document.getElementById("room-sharing").hidden`)
	client.eventually("the note gone", `document.getElementById("remote-note").hidden`)
	// The client may share only once the practitioner allows it.
	if js[bool](client, `!document.getElementById("room-share").hidden`) {
		t.Fatal("the client can share before being allowed")
	}
	staff.click(`#room-allow-share`)
	client.expectIn("#room-notice", "Olive Owner vous permet de partager votre écran")
	client.click(`#room-share`)
	staff.expectIn("#remote-note", "Éloïse Durand partage son écran.")
	client.click(`#room-share-stop`)
	staff.click(`#room-allow-share`)
	client.eventually("the button gone again", `document.getElementById("room-share").hidden`)

	// The network drops while the signalling stays: an ICE restart mends it
	// (new ICE credentials, still connected, frames still coming).
	ufrag := `(pc => pc && pc.localDescription ? pc.localDescription.sdp.match(/a=ice-ufrag:(\S+)/)[1] : "")(window.foyerRoom.pc())`
	before, err := chromedp.Run(staff.ctx, chromedp.Evaluate[string](ufrag))
	if err != nil || before == "" {
		t.Fatalf("ufrag: %q %v", before, err)
	}
	framesBefore := client.frames()
	if _, err := chromedp.Run(client.ctx, chromedp.Evaluate[bool](`window.foyerRoom.restart(), true`)); err != nil {
		t.Fatal(err)
	}
	staff.eventually("an ICE restart", ufrag+` !== "`+before+`"`)
	client.eventually("frames after the ICE restart", framesJS+`.then(n => n > `+strconv.Itoa(framesBefore)+`)`)
	// The page's connection to Foyer drops: it comes back without a new admission.
	if _, err := chromedp.Run(client.ctx, chromedp.Evaluate[bool](`window.foyerRoom.dropSocket(), true`)); err != nil {
		t.Fatal(err)
	}
	client.expectIn("#room-status", "La connexion a été perdue. Reconnexion…")
	for _, p := range []*page{staff, client} {
		p.eventually("connected again with frames", framesJS+`.then(n => n > 0)`)
		p.expectIn("#room-status", "Connecté.")
	}

	// Another client, signed in, cannot enter: not the page, not the socket.
	other := newTab(t, browser, srv.base)
	other.do(chromedp.Navigate(srv.base + "/portal"))
	other.submit(`form[action="/portal"]`, "email", "bruno@example.org", "password", "bruno a un long mot de passe")
	other.expect("Bonjour Bruno")
	other.do(chromedp.Navigate(srv.base + "/portal/video/" + id))
	other.expect("Page introuvable")
	got, err := chromedp.Run(other.ctx, chromedp.Evaluate[string](`new Promise(done => {
  const ws = new WebSocket("ws://" + location.host + "/portal/video/`+id+`/ws");
  ws.onopen = () => done("open"); ws.onerror = () => done("refused");
})`, chromedp.EvalAwaitPromise))
	if err != nil || got != "refused" {
		t.Fatalf("another client's socket: %q %v", got, err)
	}

	// Marked attended from the room, without leaving it.
	staff.click(`#room-attended button`)
	staff.expectIn("#room-attended", "Marquée comme honorée.")
	staff.expectIn("#room-status", "Connecté.")

	// The practitioner leaves; the client sees it.
	staff.click(`#room-leave`)
	staff.expectIn("#room-status", "Vous avez quitté la séance.")
	client.expectIn("#room-status", "Olive Owner a quitté la séance.")
	client.eventually("the connection closed", `window.foyerRoom.pc() === null`)

	// The record shows who joined and left, and the session attended.
	staff.do(chromedp.Navigate(srv.base + "/clients/1"))
	staff.expect("Éloïse Durand a rejoint la salle à", "Olive Owner a quitté la salle à", "Honoré")
	if s := staff.text("#appointments"); strings.Contains(s, "Rejoindre") && !strings.Contains(s, "Honoré") {
		t.Fatalf("appointments: %s", s)
	}
}

// TestVideoCameraRefused: a browser with no camera, then one whose user
// refuses it, each says why and how to fix it, in the page's language.
func TestVideoCameraRefused(t *testing.T) {
	srv := startFoyer(t)
	missing := &page{t: t, ctx: newBrowser(t), base: srv.base} // no fake devices: no camera at all
	setUpPractice(missing)
	missing.do(chromedp.Navigate(srv.base + "/clients/new"))
	missing.submit(`main form`, "first_name", "Éloïse", "last_name", "Durand", "email", "eloise@example.org")
	paris, _ := time.LoadLocation("Europe/Paris")
	now := time.Now().In(paris)
	missing.submit(`form[action$="/appointments"]`, "date", now.Format("2006-01-02"), "time", now.Format("15:04"), "kind", "video", "fee", "80")
	missing.click(`a.join`)
	// The room's address is read once its page is there, not while the click still navigates.
	missing.expect("Séance en vidéo avec Éloïse Durand")
	room := missing.location()
	missing.click(`#room-start`)
	missing.expectIn("#room-problem", "Aucune caméra ni aucun micro n’a été trouvé.", "Réessayer")
	missing.axe()
	missing.screenshot("video-missing")

	// The same practitioner on a computer whose browser denies the camera.
	denied := &page{t: t, ctx: mediaBrowser(t, chromedp.Flag("deny-permission-prompts", true)), base: srv.base}
	denied.do(chromedp.Navigate(srv.base + "/signin"))
	denied.submit(`form[action="/lang"]`)
	denied.submit(`form[action="/signin"]`, "email", "owner@example.org", "password", "correct horse battery staple")
	denied.do(chromedp.Navigate(srv.base + room))
	denied.click(`#room-start`)
	denied.expectIn("#room-problem", "Votre navigateur n’a pas l’autorisation d’utiliser la caméra et le micro", "Dans Chrome : cliquez sur l’icône à gauche de la barre d’adresse")
	denied.screenshot("video-denied")
}

// TestVideoRoomLooks: the room's device check and session, in French and
// in English, checked by axe and at phone widths; with FOYER_SCREENSHOTS
// set, saved upright and sideways on a phone (375 px) and on a desktop.
func TestVideoRoomLooks(t *testing.T) {
	browser := newMediaBrowser(t)
	srv := startFoyer(t)
	staff := &page{t: t, ctx: browser, base: srv.base}
	room := bookVideoSession(staff, "Éloïse", "Durand", "eloise@example.org", "bienvenue au cabinet")
	client := newTab(t, browser, srv.base)
	clientToRoom(client, "eloise@example.org", "bienvenue au cabinet")
	for _, lang := range []struct{ code, check, ready, waiting string }{
		{"fr", "Vérifiez votre caméra et le son", "Votre caméra et votre micro sont activés", "Vous êtes en salle d’attente"},
		{"en", "Check your camera and sound", "Your camera and microphone are on", "You are in the waiting room"},
	} {
		if lang.code == "en" {
			for _, p := range []*page{staff, client} {
				p.submit(`form[action="/lang"]`)
			}
			staff.do(chromedp.Navigate(srv.base + room))
		}
		client.expectIn("#room-setup", lang.check)
		client.axe()
		shots(client, lang.code+"-setup")
		client.click(`#room-start`)
		client.expectIn("#room-status", lang.ready)
		client.waitFor(10*time.Second, "the microphone level moves", `document.getElementById("mic-level").value > 0`)
		client.axe()
		shots(client, lang.code+"-check")
		client.click(`#room-join`)
		client.expectIn("#room-status", lang.waiting)
		staff.enterRoom()
		admit(staff, client)
		client.waitFor(20*time.Second, "the line graded", `window.foyerRoom.quality().mine !== ""`)
		client.axe()
		staff.axe()
		shots(client, lang.code+"-session")
		shots(staff, lang.code+"-session-staff")
		staff.click(`#room-leave`)
		client.do(chromedp.Navigate(srv.base + client.location()))
	}
}

// shots saves the page upright and sideways on a 375 px phone and on a
// desktop, when FOYER_SCREENSHOTS names a folder.
func shots(p *page, name string) {
	p.t.Helper()
	dir := os.Getenv("FOYER_SCREENSHOTS")
	if dir == "" {
		return
	}
	defer p.restoreViewport()
	for _, vp := range []struct {
		suffix string
		w, h   int64
	}{{"portrait", 375, 812}, {"landscape", 812, 375}, {"desktop", 1280, 900}} {
		p.do(chromedp.EmulateViewport(vp.w, vp.h))
		if vp.suffix == "landscape" {
			// Where a phone held sideways shows the room: scrolled to it.
			if _, err := chromedp.Run(p.ctx, chromedp.Evaluate[bool](`document.getElementById("room").scrollIntoView(), true`)); err != nil {
				p.t.Fatal(err)
			}
		}
		buf, err := chromedp.Run(p.ctx, chromedp.CaptureScreenshot())
		if err != nil {
			p.t.Fatalf("screenshot: %v", err)
		}
		if err := os.WriteFile(filepath.Join(dir, "room-"+name+"-"+vp.suffix+".png"), buf, 0o644); err != nil {
			p.t.Fatal(err)
		}
	}
}
