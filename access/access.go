// Package access decides who may see a client's data, in one place: every
// loader of a client's record, appointments, receipts, document shares,
// presos and video room asks the Policy, and no handler compares roles or
// practitioners itself.
//
// The rule: owners and admins see every client; a practitioner sees their
// own clients, and the sessions they hold for a colleague's client; a portal
// client sees their own record and what hangs from it, nothing else. A
// refusal reads as not found (ErrNotFound), the same as a record that does
// not exist: nobody learns that a record they may not see is there.
//
// Each loader tells the Policy who asks (a Viewer), which client, and what
// they do with it (Read or Change). That is where the access journal records
// each use of a client's data: the Policy hands every Access it allows to its
// Journal.
package access

import (
	"errors"
	"slices"
	"time"

	"foyer/store"
)

// ErrNotFound is the answer for data that does not exist or that the viewer
// may not see: the two read alike on purpose.
var ErrNotFound = errors.New("access: not found")

// Viewer is who asks: a staff member or a portal client. Make one with Staff
// or Portal; the zero Viewer sees nothing.
type Viewer struct {
	// StaffID and Role are a staff member's.
	StaffID uint64
	Role    store.Role
	// AccountID is a portal account's, ClientID the record it is linked to.
	AccountID, ClientID uint64
	// Addr is where the request came from, for the journal.
	Addr string
}

// Staff is a staff member as a viewer, asking from addr.
func Staff(st store.Staff, addr string) Viewer {
	return Viewer{StaffID: st.ID, Role: st.Role, Addr: addr}
}

// Portal is a portal account as a viewer, asking from addr: it sees the
// record it is linked to, none while it is linked to none.
func Portal(a store.Account, addr string) Viewer {
	return Viewer{AccountID: a.ID, ClientID: a.ClientID, Addr: addr}
}

// IsAdmin reports whether role sees every client (owners and admins do);
// the same roles triage prospects and manage staff.
func IsAdmin(role store.Role) bool { return role == store.RoleOwner || role == store.RoleAdmin }

// IsOwner reports whether role is the practice's owner's.
func IsOwner(role store.Role) bool { return role == store.RoleOwner }

// IsAdmin reports whether v is an owner or an admin.
func (v Viewer) IsAdmin() bool { return v.StaffID != 0 && IsAdmin(v.Role) }

// IsOwner reports whether v is the practice's owner.
func (v Viewer) IsOwner() bool { return v.StaffID != 0 && IsOwner(v.Role) }

// Scope is the practitioner a list of clients or sessions is narrowed to for
// v: 0, everyone's, for owners and admins; their own for a practitioner.
func (v Viewer) Scope() uint64 {
	if v.IsAdmin() {
		return 0
	}
	return v.StaffID
}

// MaySeeClient is the rule itself: owners and admins see every client, a
// practitioner their own, a portal client their own record while it is not
// archived (archiving ends portal access).
func MaySeeClient(v Viewer, cl store.Client) bool {
	switch {
	case v.StaffID != 0:
		return v.IsAdmin() || cl.PractitionerID == v.StaffID
	case v.ClientID != 0:
		return cl.ID == v.ClientID && !cl.Archived
	}
	return false
}

// MaySeeAppointment: whoever may see the session's client, and the
// practitioner who holds it (a colleague standing in sees that session, not
// the rest of the record).
func MaySeeAppointment(v Viewer, a store.Appointment, cl store.Client) bool {
	if a.ClientID != cl.ID {
		return false
	}
	return MaySeeClient(v, cl) || (v.StaffID != 0 && a.PractitionerID == v.StaffID)
}

// MayJoinRoom: a video session's room is for its two parties, its
// practitioner and its client. An admin who may see the record is not a party.
func MayJoinRoom(v Viewer, a store.Appointment, cl store.Client) bool {
	if a.Kind != store.KindVideo || a.ClientID != cl.ID {
		return false
	}
	switch {
	case v.StaffID != 0:
		return a.PractitionerID == v.StaffID
	case v.ClientID != 0:
		return MaySeeClient(v, cl)
	}
	return false
}

// MaySeeShare: staff who may see the client a document share was made from;
// a portal client a share sent to themselves, not one sent to someone else
// about them (a lawyer, a relative). cl is the share's client.
func MaySeeShare(v Viewer, sh store.Share, cl store.Client) bool {
	if sh.ClientID == 0 || sh.ClientID != cl.ID || !MaySeeClient(v, cl) {
		return false
	}
	if v.StaffID != 0 {
		return true
	}
	return slices.ContainsFunc(sh.Recipients, func(r store.ShareRecipient) bool { return r.ClientID == v.ClientID })
}

// Op is what a viewer does with a client's data. Today whoever may read may
// change; the journal records which it was.
type Op uint8

// The operations.
const (
	Read Op = iota + 1
	Change
)

func (o Op) String() string {
	if o == Change {
		return "change"
	}
	return "read"
}

// Item names the part of a client's data an access is about.
type Item string

// The items.
const (
	ItemRecord       Item = "record"
	ItemAppointments Item = "appointments"
	ItemAppointment  Item = "appointment"
	ItemReceipt      Item = "receipt"
	ItemShares       Item = "shares"
	ItemShare        Item = "share"
	ItemPresos       Item = "presos"
	ItemVideoRoom    Item = "video_room"
)

// Access is one use of a client's data the Policy allowed: who, which
// client, what, and when.
type Access struct {
	Viewer   Viewer
	ClientID uint64
	Item     Item
	// ItemID is the appointment's or the share's ID, 0 for the record and lists.
	ItemID uint64
	Op     Op
	At     time.Time
}

// Journal records the accesses the Policy allows.
type Journal interface {
	Record(Access)
}

// Policy loads a client's data for a viewer, or answers ErrNotFound.
type Policy struct {
	st      *store.Store
	journal Journal
	now     func() time.Time
}

// New makes the Policy over st. journal may be nil: nothing is recorded.
func New(st *store.Store, journal Journal, now func() time.Time) *Policy {
	return &Policy{st: st, journal: journal, now: now}
}

// admit passes an allowed access to the journal and a refused one back as ErrNotFound.
func (p *Policy) admit(allowed bool, a Access) error {
	if !allowed {
		return ErrNotFound
	}
	if p.journal != nil {
		a.At = p.now().UTC()
		p.journal.Record(a)
	}
	return nil
}

// notFound turns the store's not found into the Policy's.
func notFound(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return ErrNotFound
	}
	return err
}

// client loads a client record; a portal viewer only ever loads their own.
func (p *Policy) client(v Viewer, id uint64) (store.Client, error) {
	if v.StaffID == 0 && id != v.ClientID {
		return store.Client{}, ErrNotFound
	}
	cl, err := p.st.Client(id)
	return cl, notFound(err)
}

// Client loads client id's record for v to read or change.
func (p *Policy) Client(v Viewer, id uint64, op Op) (store.Client, error) {
	cl, err := p.client(v, id)
	if err != nil {
		return store.Client{}, err
	}
	if err := p.admit(MaySeeClient(v, cl), Access{Viewer: v, ClientID: cl.ID, Item: ItemRecord, Op: op}); err != nil {
		return store.Client{}, err
	}
	return cl, nil
}

// Appointments lists the sessions of cl, a record v was given by Client, oldest first.
func (p *Policy) Appointments(v Viewer, cl store.Client) ([]store.Appointment, error) {
	if err := p.admit(MaySeeClient(v, cl), Access{Viewer: v, ClientID: cl.ID, Item: ItemAppointments, Op: Read}); err != nil {
		return nil, err
	}
	return p.st.ClientAppointments(cl.ID)
}

// appointment loads a session and its client; a portal viewer's look-up
// goes through the store query that only finds their own rows.
func (p *Policy) appointment(v Viewer, id uint64) (store.Appointment, store.Client, error) {
	var a store.Appointment
	var err error
	if v.StaffID != 0 {
		a, err = p.st.Appointment(id)
	} else {
		a, err = p.st.ClientAppointment(v.ClientID, id)
	}
	if err != nil {
		return a, store.Client{}, notFound(err)
	}
	cl, err := p.st.Client(a.ClientID)
	return a, cl, notFound(err)
}

// Appointment loads session id and its client for v to read or change.
func (p *Policy) Appointment(v Viewer, id uint64, op Op) (store.Appointment, store.Client, error) {
	return p.session(v, id, ItemAppointment, op, MaySeeAppointment)
}

// Receipt loads paid session id and its client, for v to download its receipt.
func (p *Policy) Receipt(v Viewer, id uint64) (store.Appointment, store.Client, error) {
	return p.session(v, id, ItemReceipt, Read, func(v Viewer, a store.Appointment, cl store.Client) bool {
		return a.Paid && MaySeeAppointment(v, a, cl)
	})
}

// Room loads video session id and its client for v to join its room.
func (p *Policy) Room(v Viewer, id uint64) (store.Appointment, store.Client, error) {
	return p.session(v, id, ItemVideoRoom, Read, MayJoinRoom)
}

// session loads session id and its client for v, if rule lets v at item.
func (p *Policy) session(v Viewer, id uint64, item Item, op Op, rule func(Viewer, store.Appointment, store.Client) bool) (store.Appointment, store.Client, error) {
	a, cl, err := p.appointment(v, id)
	if err == nil {
		err = p.admit(rule(v, a, cl), Access{Viewer: v, ClientID: cl.ID, Item: item, ItemID: a.ID, Op: op})
	}
	if err != nil {
		return store.Appointment{}, store.Client{}, err
	}
	return a, cl, nil
}

// Share lets v read or change document share sh (found by the share engine).
func (p *Policy) Share(v Viewer, sh store.Share, op Op) error {
	if sh.ClientID == 0 {
		return ErrNotFound
	}
	cl, err := p.client(v, sh.ClientID)
	if err != nil {
		return err
	}
	return p.admit(MaySeeShare(v, sh, cl), Access{Viewer: v, ClientID: cl.ID, Item: ItemShare, ItemID: sh.ID, Op: op})
}

// Shares lists the shares made from client clientID's record that v may
// see, newest first: every one for staff, those sent to the client
// themselves for the client.
func (p *Policy) Shares(v Viewer, clientID uint64) ([]store.Share, error) {
	cl, err := p.client(v, clientID)
	if err != nil {
		return nil, err
	}
	if err := p.admit(MaySeeClient(v, cl), Access{Viewer: v, ClientID: cl.ID, Item: ItemShares, Op: Read}); err != nil {
		return nil, err
	}
	all, err := p.st.SharesOfClient(cl.ID)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(sh store.Share) bool { return !MaySeeShare(v, sh, cl) }), nil
}

// Presos lists the presos client clientID is a contact of, once v may see
// the client; which of them v may open is the presos' own rule.
func (p *Policy) Presos(v Viewer, clientID uint64) ([]store.Preso, error) {
	cl, err := p.client(v, clientID)
	if err != nil {
		return nil, err
	}
	if err := p.admit(v.StaffID != 0 && MaySeeClient(v, cl), Access{Viewer: v, ClientID: cl.ID, Item: ItemPresos, Op: Read}); err != nil {
		return nil, err
	}
	return p.st.ClientPresos(cl.ID)
}

// SearchClients is store.SearchClients narrowed to the clients v may see.
// A list shows names and contacts only; opening a record is an access of its own.
func (p *Policy) SearchClients(v Viewer, f store.ClientFilter) ([]store.Client, int, error) {
	if v.StaffID == 0 {
		return nil, 0, nil
	}
	if own := v.Scope(); own != 0 {
		f.PractitionerID = own
	}
	return p.st.SearchClients(f)
}

// Agenda is store.Agenda narrowed to the sessions v holds, everyone's for
// owners and admins.
func (p *Policy) Agenda(v Viewer, from, to time.Time, limit int) ([]store.AgendaEntry, bool, error) {
	if v.StaffID == 0 {
		return nil, false, nil
	}
	return p.st.Agenda(from, to, v.Scope(), limit)
}
