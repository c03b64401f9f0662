package journal

import (
	"slices"
	"time"

	"foyer/access"
)

// The access policy (package access) decides who may see a client's data and
// tells its Journal of every use it allows: AccessLog makes those entries.

// The parts of a record a look at it also shows (the record page lists them).
const (
	PartAppointments = string(access.ItemAppointments)
	PartShares       = string(access.ItemShares)
	PartPresos       = string(access.ItemPresos)
)

// lookSpan is how close in time the parts of one look at a record come.
const lookSpan = 2 * time.Second

// lookBack is how many recent entries a part is matched against: other
// staff's requests may come in between.
const lookBack = 16

// AccessLog is the access policy's journal: each use of a client's data the
// policy lets a staff member make becomes an entry. A client looking at
// their own data in the portal is not journaled (the journal is of the
// practice's accesses). The lists a record's page shows with it (sessions,
// document shares, presos) join the entry of that look at the record, as
// its Also, rather than each making an entry of its own.
func (j *Journal) AccessLog() access.Journal { return accessLog{j} }

type accessLog struct{ j *Journal }

// Record journals one access.
func (l accessLog) Record(a access.Access) {
	if a.Viewer.StaffID == 0 {
		return
	}
	e := Entry{At: a.At, StaffID: a.Viewer.StaffID, ClientID: a.ClientID, ItemID: a.ItemID, Addr: a.Viewer.Addr, Action: actionOf(a.Item, a.Op)}
	switch a.Item {
	case access.ItemAppointments, access.ItemShares, access.ItemPresos:
		l.j.recordPart(e, string(a.Item))
		return
	}
	l.j.Record(e)
}

// actionOf is the action an access to item is journaled as.
func actionOf(item access.Item, op access.Op) Action {
	change := op == access.Change
	switch item {
	case access.ItemRecord:
		return pick(change, RecordChange, RecordRead)
	case access.ItemAppointment:
		return pick(change, AppointmentChange, AppointmentRead)
	case access.ItemReceipt:
		return ReceiptRead
	case access.ItemShare:
		return pick(change, ShareChange, ShareRead)
	case access.ItemVideoRoom:
		return VideoJoin
	case access.ItemAppointments, access.ItemShares, access.ItemPresos:
		return ListRead
	}
	return Action(string(item) + "_" + op.String())
}

func pick(change bool, ifChange, ifRead Action) Action {
	if change {
		return ifChange
	}
	return ifRead
}

// recordPart adds part to the pending entry of the same staff member's look
// at the same record, made within lookSpan from the same address; without
// one, the part is an entry of its own (ListRead, Also part).
func (j *Journal) recordPart(e Entry, part string) {
	if e.At.IsZero() {
		e.At = j.now()
	}
	j.mu.Lock()
	for i := len(j.pending) - 1; i >= 0 && i >= len(j.pending)-lookBack; i-- {
		p := &j.pending[i]
		if p.StaffID != e.StaffID || p.ClientID != e.ClientID || p.Addr != e.Addr ||
			(p.Action != string(RecordRead) && p.Action != string(RecordChange)) {
			continue
		}
		if d := e.At.Sub(p.At); d < 0 || d > lookSpan {
			continue
		}
		if !slices.Contains(p.Also, part) {
			p.Also = append(p.Also, part)
		}
		j.mu.Unlock()
		return
	}
	j.mu.Unlock()
	e.Also = []string{part}
	j.Record(e)
}
