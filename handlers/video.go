package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/coder/websocket"
	"github.com/labstack/echo/v4"

	"foyer/access"
	"foyer/store"
	"foyer/video"
	"foyer/views"
)

// limitVideoConnect bounds how often one person opens the room's connection:
// a reconnecting browser needs a few, a loop needs many.
var limitVideoConnect = policy{every: 3 * time.Second, burst: 10}

// videoRecheck is how often an open connection checks that its session and
// appointment still stand (sign-out elsewhere, deactivation, archive).
const videoRecheck = 30 * time.Second

// roomLink is the Join button of a video appointment, on the agenda, the
// client record and My Account.
type roomLink struct {
	URL   string
	Open  bool
	Opens string
	// Today: Opens is a time of today, else a date and time.
	Today bool
}

// window is the practice's video room window.
func (h *Handler) window() video.Window {
	p, _ := h.currentPractice()
	return video.WindowOf(p)
}

// roomLinkFor says whether a's room can be joined now, else when it opens;
// nil when there is no room to offer (in person, cancelled, over).
func (h *Handler) roomLinkFor(pg *views.Page, a store.Appointment, url string) *roomLink {
	w, now := h.window(), h.now()
	switch w.StateAt(a, now) {
	case video.Open:
		return &roomLink{URL: url, Open: true}
	case video.NotYet:
		opens := w.Opens(a)
		l := &roomLink{URL: url, Opens: pg.DateTime(opens)}
		if y, m, d := opens.In(h.zone()).Date(); now.In(h.zone()).Year() == y && now.In(h.zone()).Month() == m && now.In(h.zone()).Day() == d {
			l.Opens, l.Today = pg.Time(opens), true
		}
		return l
	}
	return nil
}

func staffRoomURL(a store.Appointment) string  { return urlFor(routeStaffRoom, a.ID) }
func clientRoomURL(a store.Appointment) string { return urlFor(routeClientRoom, a.ID) }

// roomParty is one side of a room request, once authorised.
type roomParty struct {
	appt   store.Appointment
	client store.Client
	party  store.VideoParty
	// who names the person in the hub, TURN usernames and limits.
	who string
	// other is the name of the other party, shown on the page.
	other string
}

// room loads the route's video session for v if v is one of its two
// parties (access.Policy.Room), else 404: an admin who can see the record is
// still not a party to the session.
func (h *Handler) room(c echo.Context, v access.Viewer) (store.Appointment, store.Client, error) {
	id, err := strconv.ParseUint(c.Param("id"), 10, 64)
	if err != nil {
		return store.Appointment{}, store.Client{}, errNotFound
	}
	a, cl, err := h.access.Room(v, id)
	return a, cl, accessErr(err)
}

// staffRoom is the practitioner's side of the route's room.
func (h *Handler) staffRoom(c echo.Context) (roomParty, error) {
	v := staffViewer(c)
	a, cl, err := h.room(c, v)
	if err != nil {
		return roomParty{}, err
	}
	return roomParty{appt: a, client: cl, party: store.PartyPractitioner, who: video.StaffPerson(v.StaffID),
		other: cl.FirstName + " " + cl.LastName}, nil
}

// clientRoom is the client's side of the route's room.
func (h *Handler) clientRoom(c echo.Context) (roomParty, error) {
	v := portalViewer(c)
	a, cl, err := h.room(c, v)
	if err != nil {
		return roomParty{}, err
	}
	other := ""
	if st, err := h.store.Staff(a.PractitionerID); err == nil {
		other = st.Name
	}
	return roomParty{appt: a, client: cl, party: store.PartyClient, who: video.ClientPerson(cl.ID), other: other}, nil
}

type roomData struct {
	Appt         apptView
	With         string
	Practitioner bool
	State        string // not_yet, open, over, cancelled
	Opens        string
	Closes       string
	Socket       string
	Attended     bool
	AttendedURL  string
	Back         string
	Log          []string
	// CallNumber is who to phone when the connection does not come back:
	// the practice for the client, the client for the practitioner; CallTel
	// is the same number for a tel: link.
	CallNumber, CallTel string
	// Messages are what the room's script says, in the page's language.
	Messages []roomMessage
}

// roomMessage is one sentence the room's script shows, by its key.
type roomMessage struct{ Key, Text string }

// roomScriptMessages are the sentences the room's script may show; each
// takes the other party's name as Name.
var roomScriptMessages = []string{
	"video.js.connecting", "video.js.waiting_arrive", "video.js.waiting_admit", "video.js.admitted", "video.js.connected",
	"video.js.reconnecting", "video.js.reconnecting_media", "video.js.recovered", "video.js.you_left",
	"video.js.closed_moved", "video.js.closed_cancelled", "video.js.closed_ended", "video.js.closed_replaced",
	"video.js.closed_signed_out", "video.js.closed_not_open", "video.js.closed_slow", "video.js.closed_removed", "video.js.closed_restarting",
	"video.js.audio_only", "video.js.err_denied", "video.js.err_missing", "video.js.err_busy", "video.js.err_insecure",
	"video.js.err_unsupported", "video.js.err_failed", "video.js.help_chrome", "video.js.help_edge", "video.js.help_firefox",
	"video.js.help_safari", "video.js.help_ios", "video.js.help_android", "video.js.help_other", "video.js.attended_failed",
	"video.js.waiting_staff", "video.js.peer_left", "video.js.peer_dropped", "video.js.peer_removed", "video.js.remote_muted",
	"video.js.remote_camera_off", "video.js.remote_audio_only", "video.js.remote_sharing", "video.js.ready",
	"video.js.q_good", "video.js.q_fair", "video.js.q_poor", "video.js.q_reconnecting", "video.js.q_unknown",
	"video.js.share_missing", "video.js.share_denied", "video.js.share_failed", "video.js.share_allowed", "video.js.share_stopped",
	"video.js.camera_back", "video.js.camera_lost", "video.js.device_switched", "video.js.default_device", "video.js.device_n",
	"video.mute", "video.unmute", "video.camera_off", "video.camera_on", "video.attended_done", "video.devices", "video.devices_hide",
}

// staffRoomPage and clientRoomPage show the room: its controls while it is
// open, else when it opens, that it is over, or that it was cancelled.
func (h *Handler) staffRoomPage(c echo.Context) error {
	rp, err := h.staffRoom(c)
	if err != nil {
		return err
	}
	return h.roomPage(c, rp, h.page(c, "video.title"), roomURLs{socket: urlFor(routeStaffRoomSocket, rp.appt.ID),
		attended: urlFor(routeStaffRoomAttended, rp.appt.ID), back: urlFor(routeClient, rp.appt.ClientID) + "#appointments"})
}

func (h *Handler) clientRoomPage(c echo.Context) error {
	rp, err := h.clientRoom(c)
	if err != nil {
		return err
	}
	return h.roomPage(c, rp, h.portalPage(c, "video.title"), roomURLs{socket: urlFor(routeClientRoomSocket, rp.appt.ID), back: "/portal/account"})
}

// roomURLs are the paths a room page links to: its WebSocket, where the
// practitioner marks the session attended (none for the client), and back.
type roomURLs struct{ socket, attended, back string }

func (h *Handler) roomPage(c echo.Context, rp roomParty, pg *views.Page, u roomURLs) error {
	names, _, err := h.staffDirectory()
	if err != nil {
		return err
	}
	w, a := h.window(), rp.appt
	d := roomData{Appt: h.apptView(pg, a, names), With: rp.other, Practitioner: rp.party == store.PartyPractitioner, Back: u.back,
		Opens: pg.DateTime(w.Opens(a)), Closes: pg.Time(w.Closes(a)), Attended: a.Status == store.StatusAttended, AttendedURL: u.attended}
	status := http.StatusOK
	switch w.StateAt(a, h.now()) {
	case video.Cancelled:
		d.State, status = "cancelled", http.StatusGone
	case video.NotYet:
		d.State = "not_yet"
	case video.Over:
		d.State = "over"
	default:
		d.State = "open"
		d.Socket = u.socket + "?slot=" + strconv.FormatInt(video.Slot(a), 10)
		// This page alone may use the camera and microphone, and open the
		// room's WebSocket (named outright: older browsers do not count ws: as 'self').
		hd := c.Response().Header()
		hd.Set("Permissions-Policy", "camera=(self), microphone=(self), display-capture=(self), speaker-selection=(self), geolocation=()")
		hd.Set("Content-Security-Policy", strings.Replace(cspPolicy, "connect-src 'self'", "connect-src 'self' "+h.socketOrigin(), 1))
	}
	if d.Practitioner {
		d.Log = videoLog(pg, a.Video, rp.other, names[a.PractitionerID])
		if len(rp.client.Phones) > 0 {
			d.CallTel = rp.client.Phones[0].Number
		}
	} else if p, _ := h.currentPractice(); p.Phone != "" {
		if e164, _, ok := parsePhone(p.Phone, p.PhoneRegion); ok {
			d.CallTel = e164
		}
	}
	if d.CallTel != "" {
		p, _ := h.currentPractice()
		d.CallNumber = displayPhone(d.CallTel, p.PhoneRegion)
	}
	if d.State == "open" {
		for _, id := range roomScriptMessages {
			d.Messages = append(d.Messages, roomMessage{Key: id[strings.LastIndexByte(id, '.')+1:], Text: pg.T(id, "Name", rp.other, "Device", "{device}", "N", "{n}")})
		}
	}
	pg.Data = d
	return h.render(c, status, "video_room", pg)
}

// socketOrigin is the ws: or wss: origin of the public base URL.
func (h *Handler) socketOrigin() string {
	if h.cfg.Secure() {
		return "wss://" + h.cfg.BaseURL.Host
	}
	return "ws://" + h.cfg.BaseURL.Host
}

// videoLog is an appointment's video log, for staff, one line an event: who
// joined and left, and when the connection between them dropped and came
// back (after how long). It names both parties, so the French needs no gender.
func videoLog(pg *views.Page, events []store.VideoEvent, client, practitioner string) []string {
	var out []string
	var dropped time.Time
	for _, e := range events {
		switch e.Event {
		case store.VideoDrop:
			dropped = e.At
			out = append(out, pg.T("video.log_drop", "When", pg.Time(e.At)))
			continue
		case store.VideoRecovered:
			secs := 0
			if !dropped.IsZero() {
				secs = int(e.At.Sub(dropped).Round(time.Second) / time.Second)
			}
			out = append(out, pg.N("video.log_recovered", secs, "When", pg.Time(e.At)))
			continue
		}
		what := "video.log_left"
		if e.Joined {
			what = "video.log_joined"
		}
		who := practitioner
		if e.Party == store.PartyClient {
			who = client
		}
		out = append(out, pg.T(what, "Who", who, "When", pg.Time(e.At)))
	}
	return out
}

// markAttendedFromRoom marks the session attended without leaving the room.
func (h *Handler) markAttendedFromRoom(c echo.Context) error {
	rp, err := h.staffRoom(c)
	if err != nil {
		return err
	}
	if rp.appt.Status == store.StatusCancelled {
		return httpError(http.StatusConflict, "error.bad_request")
	}
	if _, err := h.store.UpdateAppointment(rp.appt.ID, func(a *store.Appointment) error {
		if a.Status == store.StatusBooked {
			a.Status = store.StatusAttended
		}
		return nil
	}); err != nil {
		return err
	}
	if c.Request().Header.Get("X-Requested-With") == "fetch" {
		return c.NoContent(http.StatusNoContent)
	}
	h.setFlash(c, "flash.saved")
	return h.redirect(c, staffRoomURL(rp.appt))
}

func (h *Handler) staffRoomSocket(c echo.Context) error {
	rp, err := h.staffRoom(c)
	if err != nil {
		return err
	}
	return h.roomSocket(c, rp)
}

func (h *Handler) clientRoomSocket(c echo.Context) error {
	rp, err := h.clientRoom(c)
	if err != nil {
		return err
	}
	return h.roomSocket(c, rp)
}

// roomSocket carries one party's signalling. Who may connect was settled by
// the route's guard and staffRoom/clientRoom; whether the room is open now is
// told to the browser over the socket, so it can say why.
func (h *Handler) roomSocket(c echo.Context, rp roomParty) error {
	if !h.limits.allow("video-ws:"+rp.who, limitVideoConnect) {
		return httpError(http.StatusTooManyRequests, "error.too_many")
	}
	// Accept checks that the Origin is this host: another site cannot open
	// the room with the visitor's cookies.
	conn, err := websocket.Accept(c.Response(), c.Request(), nil)
	if err != nil {
		return nil // Accept has answered
	}
	// The server does not wait for a connection it handed over: HangUp does.
	h.sockets.Add(1)
	defer h.sockets.Done()
	defer conn.CloseNow()
	conn.SetReadLimit(video.MaxMessage)
	ctx, cancel := context.WithCancel(c.Request().Context())
	defer cancel()

	w, a := h.window(), rp.appt
	reason := ""
	switch w.StateAt(a, h.now()) {
	case video.Cancelled:
		reason = video.ReasonCancelled
	case video.NotYet:
		reason = "not_open"
	case video.Over:
		reason = video.ReasonEnded
	}
	if slot, _ := strconv.ParseInt(c.QueryParam("slot"), 10, 64); reason == "" && slot != video.Slot(a) {
		reason = video.ReasonMoved
	}
	if reason != "" {
		writeMessage(ctx, conn, video.Message{Type: "closed", Reason: reason})
		conn.Close(websocket.StatusNormalClosure, reason)
		return nil
	}

	ice := append([]video.ICEServer(nil), h.cfg.ICEServers...)
	if h.cfg.TURN != nil {
		ice = append(ice, h.cfg.TURN.Credentials(a.ID, rp.who, w.Closes(a)))
	}
	if err := writeMessage(ctx, conn, video.Message{Type: "welcome", ICEServers: ice}); err != nil {
		return nil
	}
	peer := h.rooms.Join(a.ID, video.Slot(a), rp.party, rp.who, rp.client.FirstName+" "+rp.client.LastName)
	h.recordVideo(a.ID, rp.party, true)

	// The reader hands messages to the hub; this goroutine writes.
	how := make(chan string, 1)
	go func() {
		for {
			_, raw, err := conn.Read(ctx)
			if err != nil {
				how <- "dropped"
				return
			}
			rec, err := h.rooms.Receive(peer, raw)
			if rec != nil {
				h.recordVideoEvent(a.ID, *rec)
			}
			switch {
			case errors.Is(err, video.ErrLeave):
				how <- "left"
				return
			case err != nil:
				conn.Close(websocket.StatusPolicyViolation, err.Error())
				how <- "dropped"
				return
			}
		}
	}()
	tick := time.NewTicker(videoRecheck)
	defer tick.Stop()
	sessID := currentSession(c).ID
	for {
		select {
		case raw := <-peer.Out():
			wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
			err := conn.Write(wctx, websocket.MessageText, raw)
			wcancel()
			if err != nil {
				h.rooms.Leave(peer, "dropped")
				h.recordVideo(a.ID, rp.party, false)
				return nil
			}
		case <-peer.Done():
			if peer.Reason() != video.ReasonReplaced {
				h.recordVideo(a.ID, rp.party, false)
			}
			writeMessage(ctx, conn, video.Message{Type: "closed", Reason: peer.Reason()})
			code := websocket.StatusNormalClosure
			if peer.Reason() == video.ReasonRestarting {
				// 1012: the browser comes back once the server answers again.
				code = websocket.StatusServiceRestart
			}
			conn.Close(code, peer.Reason())
			return nil
		case left := <-how:
			// Tell the other party first: the close handshake may wait on a slow browser.
			h.rooms.Leave(peer, left)
			h.recordVideo(a.ID, rp.party, false)
			if left == "left" {
				conn.Close(websocket.StatusNormalClosure, "left")
			}
			return nil
		case <-tick.C:
			if r := h.roomStillOpen(rp, sessID); r != "" {
				h.rooms.Leave(peer, "dropped")
				h.recordVideo(a.ID, rp.party, false)
				writeMessage(ctx, conn, video.Message{Type: "closed", Reason: r})
				conn.Close(websocket.StatusNormalClosure, r)
				return nil
			}
		}
	}
}

// roomStillOpen re-reads what let the connection in; it returns why the
// connection must end, or "". Being in a session is activity: it keeps the
// sign-in from timing out while the call goes on.
func (h *Handler) roomStillOpen(rp roomParty, sessID string) string {
	now := h.now()
	sess, err := h.store.Session(sessID)
	if err != nil || now.Sub(sess.LastSeen) > h.cfg.IdleTimeout || now.Sub(sess.CreatedAt) > h.cfg.SessionLifetime {
		return video.ReasonSignedOut
	}
	// Who the session is now, asked again whether they are still a party.
	var v access.Viewer
	if rp.party == store.PartyPractitioner {
		st, err := h.store.Staff(sess.UserID)
		if err != nil || !st.Active {
			return video.ReasonSignedOut
		}
		v = access.Staff(st, "")
	} else {
		acct, err := h.store.Account(sess.AccountID)
		if err != nil {
			return video.ReasonSignedOut
		}
		v = access.Portal(acct, "")
	}
	if cl, err := h.store.Client(rp.appt.ClientID); err != nil || !access.MayJoinRoom(v, rp.appt, cl) {
		return video.ReasonSignedOut
	}
	a, err := h.store.Appointment(rp.appt.ID)
	if err != nil {
		return video.ReasonCancelled
	}
	switch {
	case a.Status == store.StatusCancelled:
		return video.ReasonCancelled
	case !a.Start.Equal(rp.appt.Start) || a.Kind != store.KindVideo:
		return video.ReasonMoved
	case h.window().StateAt(a, now) != video.Open:
		return video.ReasonEnded
	}
	sess.LastSeen = now.UTC()
	if err := h.store.SaveSession(sessID, sess); err != nil {
		h.log.Error("unable to keep a video session signed in", "err", err)
	}
	return ""
}

// recordVideo writes a join or leave on the appointment.
func (h *Handler) recordVideo(id uint64, party store.VideoParty, joined bool) {
	h.recordVideoEvent(id, store.VideoEvent{At: h.now().UTC(), Party: party, Joined: joined})
}

// recordVideoEvent writes an event of the session on the appointment; the room goes on if it fails.
func (h *Handler) recordVideoEvent(id uint64, e store.VideoEvent) {
	if err := h.store.RecordVideo(id, e); err != nil {
		h.log.Error("unable to record a video event", "appointment", id, "err", err)
	}
}

// roomGoodbye is how long a stop waits for the video rooms' browsers to
// answer its goodbye: a browser that has gone quiet (a laptop shut) does not
// hold the stop up, its socket is cut instead.
const roomGoodbye = 3 * time.Second

// HangUp tells every video room that Foyer is restarting and closes their
// WebSockets cleanly (1012, service restart), then returns once they are
// closed, after roomGoodbye, or when ctx ends. The HTTP server hands those
// connections over and does not wait for them on a stop; this is their stop.
func (h *Handler) HangUp(ctx context.Context) {
	h.rooms.Shutdown(video.ReasonRestarting)
	done := make(chan struct{})
	go func() { h.sockets.Wait(); close(done) }()
	t := time.NewTimer(roomGoodbye)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		h.log.Warn("video rooms still saying goodbye were cut", "after", roomGoodbye)
	case <-ctx.Done():
	}
}

func writeMessage(ctx context.Context, conn *websocket.Conn, m video.Message) error {
	raw, err := json.Marshal(m)
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return conn.Write(wctx, websocket.MessageText, raw)
}
