package video

import (
	"encoding/json"
	"errors"
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
	ReasonSlow      = "slow" // the browser did not read its messages
)

// Message is one signalling message. Browsers send offer, answer, candidate,
// restart, media, admit and leave; the hub sends the others.
type Message struct {
	Type      string          `json:"type"`
	SDP       string          `json:"sdp,omitempty"`
	Candidate json.RawMessage `json:"candidate,omitempty"`
	Audio     *bool           `json:"audio,omitempty"`
	Video     *bool           `json:"video,omitempty"`
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
	room  *room
	party store.VideoParty
	name  string
	out   chan []byte
	done  chan struct{}
	lim   *rate.Limiter

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
}

// NewHub makes an empty hub reading time from now.
func NewHub(now func() time.Time) *Hub {
	return &Hub{rooms: map[uint64]*room{}, now: now}
}

// Join puts party into the room of appointment id booked for slot. A room
// still holding an older slot of the appointment is closed first; a party
// already in the room (another tab, or a connection not yet known to be
// dead) is replaced. name is shown to the practitioner when the client knocks.
func (h *Hub) Join(id uint64, slot int64, party store.VideoParty, name string) *Peer {
	h.mu.Lock()
	defer h.mu.Unlock()
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
	p := &Peer{room: r, party: party, name: name, out: make(chan []byte, outQueue), done: make(chan struct{}),
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
			h.sendLocked(cl, Message{Type: "admitted"})
		}
		h.readyLocked(r)
	case party == store.PartyClient:
		// Admitted earlier, the practitioner away for now.
		h.sendLocked(cl, Message{Type: "admitted"})
	}
	return p
}

// readyLocked tells both parties to (re)connect: the practitioner's browser
// makes the offer, with an ICE restart when it had a connection already.
func (h *Hub) readyLocked(r *room) {
	for _, p := range r.peers {
		h.sendLocked(p, Message{Type: "ready"})
	}
}

// Receive handles one message from p's browser: relays it to the other party,
// or acts on it (admit, leave). An error means the connection must close.
func (h *Hub) Receive(p *Peer, raw []byte) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !p.lim.AllowN(h.now(), 1) {
		return ErrRate
	}
	r := p.room
	if r.peers[p.party] != p {
		return nil // already replaced or closed; its last words do not count
	}
	if len(raw) > MaxMessage {
		return ErrBadMessage
	}
	var m Message
	if err := json.Unmarshal(raw, &m); err != nil {
		return ErrBadMessage
	}
	other := r.other(p)
	practitioner := p.party == store.PartyPractitioner
	switch m.Type {
	case "admit":
		if !practitioner {
			return ErrBadMessage
		}
		if other == nil || r.admitted {
			return nil
		}
		r.admitted = true
		h.sendLocked(other, Message{Type: "admitted"})
		h.readyLocked(r)
		return nil
	case "leave":
		return ErrLeave
	case "offer", "answer":
		if (m.Type == "offer") != practitioner || m.SDP == "" {
			return ErrBadMessage
		}
		m = Message{Type: m.Type, SDP: m.SDP}
	case "candidate":
		if len(m.Candidate) == 0 || (m.Candidate[0] != '{' && string(m.Candidate) != "null") {
			return ErrBadMessage
		}
		m = Message{Type: m.Type, Candidate: m.Candidate}
	case "restart":
		if practitioner {
			return ErrBadMessage
		}
		m = Message{Type: m.Type}
	case "media":
		m = Message{Type: m.Type, Audio: m.Audio, Video: m.Video}
	default:
		return ErrBadMessage
	}
	// Nothing passes before the client is admitted; a message racing the
	// other party's departure is dropped.
	if other != nil && r.admitted {
		h.sendLocked(other, m)
	}
	return nil
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
	if other := r.other(p); other != nil {
		h.sendLocked(other, Message{Type: "peer-left", Reason: how})
	}
	if len(r.peers) == 0 && h.rooms[r.id] == r {
		delete(h.rooms, r.id)
	}
}

// Close ends the room of appointment id, if open, telling both browsers why.
func (h *Hub) Close(id uint64, reason string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if r := h.rooms[id]; r != nil {
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
