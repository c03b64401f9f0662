package video

import (
	"encoding/json"
	"errors"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"foyer/store"
)

// MaxMessage is the largest signalling message a browser may send: an SDP
// offer for one audio and one video track is 3 to 8 KiB.
const MaxMessage = 16 << 10

// A browser may send MessageRate messages a second on average, in bursts of
// MessageBurst (ICE candidates come a dozen at once). More is not a browser
// doing WebRTC, and the connection is closed.
const (
	MessageRate  = 10
	MessageBurst = 60
)

// outQueue is how many messages may wait for a slow browser before it is dropped.
const outQueue = 64

// Errors Receive returns; the caller closes the connection.
var (
	// ErrRate: the browser sent too many messages.
	ErrRate = errors.New("video: too many signalling messages")
	// ErrBadMessage: the message is not one this party may send.
	ErrBadMessage = errors.New("video: unexpected signalling message")
	// ErrLeave: the party left on purpose.
	ErrLeave = errors.New("video: left")
)

// Reasons a room closes a connection, sent to the browser as "closed".
const (
	ReasonReplaced  = "replaced"  // the same party joined from another tab or device
	ReasonMoved     = "moved"     // the appointment was rescheduled
	ReasonCancelled = "cancelled" // the appointment was cancelled
	ReasonEnded     = "ended"     // the room's window closed
	ReasonSignedOut = "signed_out"
	ReasonSlow      = "slow"    // the browser did not read its messages
	ReasonRemoved   = "removed" // the person's access was taken away (portal access removed, client archived)
	// ReasonRestarting: Foyer is stopping, to start again; the browser
	// comes back by itself once it answers.
	ReasonRestarting = "restarting"
)

// Connection quality a browser reports to the other party (Message.Quality).
const (
	QualityGood         = "good"
	QualityFair         = "fair"
	QualityPoor         = "poor"
	QualityReconnecting = "reconnecting"
)

// maxDrops bounds the drops one room records: a browser reports them, and
// however flaky its network (or however hostile its script), the
// appointment's record stays short.
const maxDrops = 20

// Message is one signalling message. Browsers send offer, answer, candidate,
// restart, media, quality, drop, recovered, share, admit and leave; the hub
// sends the others.
type Message struct {
	Type      string          `json:"type"`
	SDP       string          `json:"sdp,omitempty"`
	Candidate json.RawMessage `json:"candidate,omitempty"`
	// Audio, Video, Screen and AudioOnly say, on "media", what the party
	// sends: microphone on, camera on, sharing their screen, and whether
	// they chose to send sound only (a poor line).
	Audio     *bool `json:"audio,omitempty"`
	Video     *bool `json:"video,omitempty"`
	Screen    *bool `json:"screen,omitempty"`
	AudioOnly *bool `json:"audio_only,omitempty"`
	// Quality is, on "quality", how the party's connection is: good, fair,
	// poor or reconnecting.
	Quality string `json:"quality,omitempty"`
	// Allowed says, on "share", whether the practitioner lets the client
	// share their screen.
	Allowed *bool `json:"allowed,omitempty"`
	// Name is the client's name, on "knock".
	Name string `json:"name,omitempty"`
	// Reason says why, on "peer-left" (left or dropped) and "closed".
	Reason string `json:"reason,omitempty"`
	// Present says, on "waiting", whether the practitioner is in the room.
	Present bool `json:"present,omitempty"`
	// ICEServers are sent on "welcome".
	ICEServers []ICEServer `json:"iceServers,omitempty"`
}

// Peer is one party's connection to a room.
type Peer struct {
	room   *room
	party  store.VideoParty
	person string
	name   string
	out    chan []byte
	done   chan struct{}
	lim    *rate.Limiter

	reason string // why the hub closed it; set before done closes
}

// Out is what to write to the browser.
func (p *Peer) Out() <-chan []byte { return p.out }

// Done closes when the hub ends the connection; Reason then says why.
func (p *Peer) Done() <-chan struct{} { return p.done }

// Reason says why the hub ended the connection.
func (p *Peer) Reason() string {
	<-p.done
	return p.reason
}

type room struct {
	id       uint64
	slot     int64
	peers    map[store.VideoParty]*Peer
	admitted bool
	// shareAllowed: the practitioner lets the client share their screen.
	shareAllowed bool
	// down: a browser reported the media connection lost, not yet back;
	// drops counts the drops recorded.
	down  bool
	drops int
}

func (r *room) other(p *Peer) *Peer {
	if p.party == store.PartyPractitioner {
		return r.peers[store.PartyClient]
	}
	return r.peers[store.PartyPractitioner]
}

// Hub holds the open rooms, in memory only.
type Hub struct {
	mu    sync.Mutex
	rooms map[uint64]*room
	now   func() time.Time
	// turn, when Foyer runs one, has its credentials revoked with the rooms
	// and people that lose access.
	turn *TURN
	// closing is why the hub ended every room (Shutdown); a join from then on
	// is ended at once, for the same reason.
	closing string
}

// NewHub makes an empty hub reading time from now; turn (nil without the
// embedded TURN server) loses its credentials when Close or EndPerson end
// someone's access.
func NewHub(now func() time.Time, turn *TURN) *Hub {
	return &Hub{rooms: map[uint64]*room{}, now: now, turn: turn}
}

// StaffPerson names a member of staff in rooms, for EndPerson and for the
// TURN credentials they are given.
func StaffPerson(id uint64) string { return "staff-" + strconv.FormatUint(id, 10) }

// ClientPerson names a client in rooms (see StaffPerson).
func ClientPerson(id uint64) string { return "client-" + strconv.FormatUint(id, 10) }

// Join puts party, person, into the room of appointment id booked for slot.
// A room still holding an older slot of the appointment is closed first; a
// party already in the room (another tab, or a connection not yet known to
// be dead) is replaced. name is shown to the practitioner when the client knocks.
func (h *Hub) Join(id uint64, slot int64, party store.VideoParty, person, name string) *Peer {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closing != "" {
		// Stopping: the peer is ended before it is in any room.
		p := &Peer{room: &room{id: id, peers: map[store.VideoParty]*Peer{}}, party: party, person: person, name: name,
			out: make(chan []byte, outQueue), done: make(chan struct{})}
		h.kickLocked(p, h.closing)
		return p
	}
	r := h.rooms[id]
	if r != nil && r.slot != slot {
		h.closeLocked(r, ReasonMoved)
		r = nil
	}
	if r == nil {
		r = &room{id: id, slot: slot, peers: map[store.VideoParty]*Peer{}}
		h.rooms[id] = r
	}
	if old := r.peers[party]; old != nil {
		h.kickLocked(old, ReasonReplaced)
	}
	p := &Peer{room: r, party: party, person: person, name: name, out: make(chan []byte, outQueue), done: make(chan struct{}),
		lim: rate.NewLimiter(MessageRate, MessageBurst)}
	r.peers[party] = p
	pr, cl := r.peers[store.PartyPractitioner], r.peers[store.PartyClient]
	switch {
	case cl != nil && !r.admitted:
		h.sendLocked(cl, Message{Type: "waiting", Present: pr != nil})
		if pr != nil {
			h.sendLocked(pr, Message{Type: "knock", Name: cl.name})
		}
	case cl != nil && pr != nil:
		if party == store.PartyClient {
			h.admittedLocked(r, cl)
		}
		h.readyLocked(r)
	case party == store.PartyClient:
		// Admitted earlier, the practitioner away for now.
		h.admittedLocked(r, cl)
	}
	return p
}

// admittedLocked lets the client in, with what the practitioner allowed.
func (h *Hub) admittedLocked(r *room, cl *Peer) {
	h.sendLocked(cl, Message{Type: "admitted"})
	if r.shareAllowed {
		h.sendLocked(cl, Message{Type: "share", Allowed: &r.shareAllowed})
	}
}

// readyLocked tells both parties to (re)connect: the practitioner's browser
// makes the offer, with an ICE restart when it had a connection already.
func (h *Hub) readyLocked(r *room) {
	for _, p := range r.peers {
		h.sendLocked(p, Message{Type: "ready"})
	}
}

// Receive handles one message from p's browser: relays it to the other party,
// or acts on it (admit, leave, a drop or recovery of the media connection).
// An error means the connection must close. rec, when not nil, is what the
// caller writes on the appointment (outside the hub's lock): a drop or a
// recovery of the session's connection.
func (h *Hub) Receive(p *Peer, raw []byte) (rec *store.VideoEvent, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	now := h.now()
	if !p.lim.AllowN(now, 1) {
		return nil, ErrRate
	}
	r := p.room
	if r.peers[p.party] != p {
		return nil, nil // already replaced or closed; its last words do not count
	}
	if len(raw) > MaxMessage {
		return nil, ErrBadMessage
	}
	var m Message
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, ErrBadMessage
	}
	other := r.other(p)
	practitioner := p.party == store.PartyPractitioner
	switch m.Type {
	case "admit":
		if !practitioner {
			return nil, ErrBadMessage
		}
		if other == nil || r.admitted {
			return nil, nil
		}
		r.admitted = true
		h.admittedLocked(r, other)
		h.readyLocked(r)
		return nil, nil
	case "leave":
		return nil, ErrLeave
	case "offer", "answer":
		if (m.Type == "offer") != practitioner || m.SDP == "" {
			return nil, ErrBadMessage
		}
		m = Message{Type: m.Type, SDP: m.SDP}
	case "candidate":
		if len(m.Candidate) == 0 || (m.Candidate[0] != '{' && string(m.Candidate) != "null") {
			return nil, ErrBadMessage
		}
		m = Message{Type: m.Type, Candidate: m.Candidate}
	case "restart":
		if practitioner {
			return nil, ErrBadMessage
		}
		m = Message{Type: m.Type}
	case "media":
		m = Message{Type: m.Type, Audio: m.Audio, Video: m.Video, Screen: m.Screen, AudioOnly: m.AudioOnly}
	case "quality":
		switch m.Quality {
		case QualityGood, QualityFair, QualityPoor, QualityReconnecting:
		default:
			return nil, ErrBadMessage
		}
		m = Message{Type: m.Type, Quality: m.Quality}
	case "share":
		if !practitioner || m.Allowed == nil {
			return nil, ErrBadMessage
		}
		r.shareAllowed = *m.Allowed
		m = Message{Type: m.Type, Allowed: m.Allowed}
	case "drop", "recovered":
		return h.dropLocked(r, p, m.Type == "drop", now), nil
	default:
		return nil, ErrBadMessage
	}
	// Nothing passes before the client is admitted; a message racing the
	// other party's departure is dropped.
	if other != nil && r.admitted {
		h.sendLocked(other, m)
	}
	return nil, nil
}

// dropLocked decides whether a drop or recovery of the media connection that
// p's browser saw goes on the record: both browsers see the same drop, so
// the room records the first report of each, only while both parties are
// in a session, and at most maxDrops drops.
func (h *Hub) dropLocked(r *room, p *Peer, drop bool, now time.Time) *store.VideoEvent {
	if !r.admitted || r.other(p) == nil || drop == r.down {
		return nil
	}
	ev := store.VideoRecovered
	if drop {
		if r.drops >= maxDrops {
			return nil
		}
		r.drops++
		ev = store.VideoDrop
	}
	r.down = drop
	return &store.VideoEvent{At: now.UTC(), Party: p.party, Event: ev}
}

// Leave takes p out of its room, telling the other party how it went:
// "left" on purpose, "dropped" when the connection was lost.
func (h *Hub) Leave(p *Peer, how string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	r := p.room
	if r.peers[p.party] != p {
		return
	}
	delete(r.peers, p.party)
	r.down = false
	if other := r.other(p); other != nil {
		h.sendLocked(other, Message{Type: "peer-left", Reason: how})
	}
	if len(r.peers) == 0 && h.rooms[r.id] == r {
		delete(h.rooms, r.id)
	}
}

// Close ends the room of appointment id, if open, telling both browsers why
// (the appointment moved, was cancelled or deleted): their TURN credentials
// for it stop working too.
func (h *Hub) Close(id uint64, reason string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if r := h.rooms[id]; r != nil {
		h.closeLocked(r, reason)
	}
	if h.turn != nil {
		h.turn.Revoke(RoomKey(id))
	}
}

// EndPerson takes person out of every room at once, telling the other party,
// and voids the TURN credentials they were given: their access was removed
// (portal access taken away, client archived, staff deactivated).
func (h *Hub) EndPerson(person, reason string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, r := range h.rooms {
		for _, p := range r.peers {
			if p.person != person {
				continue
			}
			h.kickLocked(p, reason)
			if other := r.other(p); other != nil {
				h.sendLocked(other, Message{Type: "peer-left", Reason: reason})
			}
		}
		if len(r.peers) == 0 {
			delete(h.rooms, r.id)
		}
	}
	if h.turn != nil {
		h.turn.Revoke(person)
	}
}

// Shutdown ends every room at once, telling each browser why (a restart),
// and ends every join from then on: Foyer is stopping. Each connection's
// goroutine sees its peer Done and says goodbye.
func (h *Hub) Shutdown(reason string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closing = reason
	for _, r := range h.rooms {
		h.closeLocked(r, reason)
	}
}

// Rooms counts the open rooms and, of those, the ones both parties are in.
func (h *Hub) Rooms() (open, full int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, r := range h.rooms {
		open++
		if len(r.peers) == 2 {
			full++
		}
	}
	return open, full
}

func (h *Hub) closeLocked(r *room, reason string) {
	for _, p := range r.peers {
		h.kickLocked(p, reason)
	}
	delete(h.rooms, r.id)
}

// kickLocked ends p's connection; the caller's goroutine sees Done and closes it.
func (h *Hub) kickLocked(p *Peer, reason string) {
	if p.room.peers[p.party] == p {
		delete(p.room.peers, p.party)
	}
	select {
	case <-p.done:
	default:
		p.reason = reason
		close(p.done)
	}
}

func (h *Hub) sendLocked(p *Peer, m Message) {
	raw, err := json.Marshal(m)
	if err != nil {
		return // Message always encodes
	}
	select {
	case p.out <- raw:
	default:
		h.kickLocked(p, ReasonSlow)
		if other := p.room.other(p); other != nil {
			h.sendLocked(other, Message{Type: "peer-left", Reason: "dropped"})
		}
	}
}
