package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/coder/websocket"
	"github.com/labstack/echo/v4"

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

func staffRoomURL(a store.Appointment) string  { return fmt.Sprintf("/appointments/%d/video", a.ID) }
func clientRoomURL(a store.Appointment) string { return fmt.Sprintf("/portal/video/%d", a.ID) }

// roomParty is one side of a room request, once authorised.
type roomParty struct {
	appt   store.Appointment
	client store.Client
	party  store.VideoParty
	// who names the party in TURN usernames and limits.
	who string
	// other is the name of the other party, shown on the page.
	other string
}

// staffRoom loads the appointment for its own practitioner only: an admin
// who can see the record is still not a party to the session.
func (h *Handler) staffRoom(c echo.Context) (roomParty, error) {
	u := currentUser(c)
	id, err := strconv.ParseUint(c.Param("id"), 10, 64)
	if err != nil {
		return roomParty{}, echo.ErrNotFound
	}
	a, err := h.store.Appointment(id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (a.PractitionerID != u.ID || a.Kind != store.KindVideo)) {
		return roomParty{}, echo.ErrNotFound
	} else if err != nil {
		return roomParty{}, err
	}
	cl, err := h.store.Client(a.ClientID)
	if err != nil {
		return roomParty{}, err
	}
	return roomParty{appt: a, client: cl, party: store.PartyPractitioner, who: "staff-" + strconv.FormatUint(u.ID, 10),
		other: cl.FirstName + " " + cl.LastName}, nil
}

// clientRoom loads the appointment through the query that only finds the
// signed-in client's own rows.
func (h *Handler) clientRoom(c echo.Context) (roomParty, error) {
	acct := currentAccount(c)
	id, err := strconv.ParseUint(c.Param("id"), 10, 64)
	if err != nil {
		return roomParty{}, echo.ErrNotFound
	}
	a, err := h.store.ClientAppointment(acct.ClientID, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && a.Kind != store.KindVideo) {
		return roomParty{}, echo.ErrNotFound
	} else if err != nil {
		return roomParty{}, err
	}
	cl, err := h.store.Client(a.ClientID)
	if err != nil {
		return roomParty{}, err
	}
	if cl.Archived {
		return roomParty{}, echo.ErrNotFound
	}
	other := ""
	if st, err := h.store.Staff(a.PractitionerID); err == nil {
		other = st.Name
	}
	return roomParty{appt: a, client: cl, party: store.PartyClient, who: "account-" + strconv.FormatUint(acct.ID, 10), other: other}, nil
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
}

// staffRoomPage and clientRoomPage show the room: its controls while it is
// open, else when it opens, that it is over, or that it was cancelled.
func (h *Handler) staffRoomPage(c echo.Context) error {
	rp, err := h.staffRoom(c)
	if err != nil {
		return err
	}
	return h.roomPage(c, rp, h.page(c, "video.title"), staffRoomURL(rp.appt), fmt.Sprintf("/clients/%d#appointments", rp.appt.ClientID))
}

func (h *Handler) clientRoomPage(c echo.Context) error {
	rp, err := h.clientRoom(c)
	if err != nil {
		return err
	}
	return h.roomPage(c, rp, h.portalPage(c, "video.title"), clientRoomURL(rp.appt), "/portal/account")
}

func (h *Handler) roomPage(c echo.Context, rp roomParty, pg *views.Page, url, back string) error {
	names, _, err := h.staffDirectory()
	if err != nil {
		return err
	}
	w, a := h.window(), rp.appt
	d := roomData{Appt: h.apptView(pg, a, names), With: rp.other, Practitioner: rp.party == store.PartyPractitioner, Back: back,
		Opens: pg.DateTime(w.Opens(a)), Closes: pg.Time(w.Closes(a)), Attended: a.Status == store.StatusAttended, AttendedURL: url + "/attended"}
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
		d.Socket = fmt.Sprintf("%s/ws?slot=%d", url, video.Slot(a))
		// This page alone may use the camera and microphone, and open the
		// room's WebSocket (named outright: older browsers do not count ws: as 'self').
		hd := c.Response().Header()
		hd.Set("Permissions-Policy", "camera=(self), microphone=(self), geolocation=(), display-capture=()")
		hd.Set("Content-Security-Policy", strings.Replace(cspPolicy, "connect-src 'self'", "connect-src 'self' "+h.socketOrigin(), 1))
	}
	if d.Practitioner {
		for _, e := range a.Video {
			d.Log = append(d.Log, videoEventText(pg, e, rp.other, names[a.PractitionerID]))
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

// videoEventText is one line of an appointment's video log, for staff; it
// names both parties, so the French needs no gender.
func videoEventText(pg *views.Page, e store.VideoEvent, client, practitioner string) string {
	what := "video.log_left"
	if e.Joined {
		what = "video.log_joined"
	}
	who := practitioner
	if e.Party == store.PartyClient {
		who = client
	}
	return pg.T(what, "Who", who, "When", pg.Time(e.At))
}

// markAttendedFromRoom marks the session attended without leaving the room.
func (h *Handler) markAttendedFromRoom(c echo.Context) error {
	rp, err := h.staffRoom(c)
	if err != nil {
		return err
	}
	if rp.appt.Status == store.StatusCancelled {
		return echo.NewHTTPError(http.StatusConflict, "error.bad_request")
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
		return echo.NewHTTPError(http.StatusTooManyRequests, "error.too_many")
	}
	// Accept checks that the Origin is this host: another site cannot open
	// the room with the visitor's cookies.
	conn, err := websocket.Accept(c.Response(), c.Request(), nil)
	if err != nil {
		return nil // Accept has answered
	}
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
		ice = append(ice, h.cfg.TURN.Credentials(fmt.Sprintf("%d-%s", a.ID, rp.who), w.Closes(a)))
	}
	if err := writeMessage(ctx, conn, video.Message{Type: "welcome", ICEServers: ice}); err != nil {
		return nil
	}
	peer := h.rooms.Join(a.ID, video.Slot(a), rp.party, rp.client.FirstName+" "+rp.client.LastName)
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
			switch err := h.rooms.Receive(peer, raw); {
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
			conn.Close(websocket.StatusNormalClosure, peer.Reason())
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
	if rp.party == store.PartyPractitioner {
		st, err := h.store.Staff(sess.UserID)
		if err != nil || !st.Active || st.ID != rp.appt.PractitionerID {
			return video.ReasonSignedOut
		}
	} else {
		acct, err := h.store.Account(sess.AccountID)
		if err != nil || acct.ClientID != rp.appt.ClientID {
			return video.ReasonSignedOut
		}
		if cl, err := h.store.Client(rp.appt.ClientID); err != nil || cl.Archived {
			return video.ReasonSignedOut
		}
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

// recordVideo writes a join or leave on the appointment; the room goes on if it fails.
func (h *Handler) recordVideo(id uint64, party store.VideoParty, joined bool) {
	if err := h.store.RecordVideo(id, store.VideoEvent{At: h.now().UTC(), Party: party, Joined: joined}); err != nil {
		h.log.Error("unable to record a video join or leave", "appointment", id, "err", err)
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
