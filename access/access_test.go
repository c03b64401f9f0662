package access

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"foyer/store"
)

// practice is a store with two practitioners and their clients, seen by
// every kind of viewer.
type practice struct {
	st *store.Store
	// X is Pat's client, with a portal account; Y is Sam's, with one too.
	x, y store.Client
	// apX is Pat's paid video session with X; apXBySam a session Sam holds
	// for X (standing in), unpaid; apY Sam's paid video session with Y.
	apX, apXBySam, apY store.Appointment
	// shX went to X; shXLawyer is about X, sent to X's lawyer.
	shX, shXLawyer store.Share
	viewers        map[string]Viewer
}

var t0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

func newPractice(t *testing.T) *practice {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	p := &practice{st: st, viewers: map[string]Viewer{}}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	staff := map[string]store.Role{"owner": store.RoleOwner, "admin": store.RoleAdmin, "pat": store.RolePractitioner, "sam": store.RolePractitioner}
	ids := map[string]uint64{}
	for _, name := range []string{"owner", "admin", "pat", "sam"} {
		s := &store.Staff{Name: name, Email: name + "@example.org", Role: staff[name], Active: true, Lang: "en"}
		must(st.CreateStaff(s))
		ids[name] = s.ID
		p.viewers[name] = Staff(*s, "192.0.2.1")
	}
	p.x = store.Client{FirstName: "Xavier", LastName: "X", Lang: "en", PractitionerID: ids["pat"]}
	p.y = store.Client{FirstName: "Yvonne", LastName: "Y", Lang: "en", PractitionerID: ids["sam"]}
	must(st.CreateClient(&p.x))
	must(st.CreateClient(&p.y))
	for name, cl := range map[string]*store.Client{"client X": &p.x, "client Y": &p.y} {
		a, _, err := st.SetClientCredentials(cl.ID, fmt.Sprintf("c%d@example.org", cl.ID), "hash", "en")
		must(err)
		p.viewers[name] = Portal(a, "198.51.100.1")
	}
	p.viewers["nobody"] = Viewer{}
	p.apX = store.Appointment{ClientID: p.x.ID, PractitionerID: ids["pat"], Start: t0, Minutes: 50, Kind: store.KindVideo, Paid: true, PaidAt: t0}
	p.apXBySam = store.Appointment{ClientID: p.x.ID, PractitionerID: ids["sam"], Start: t0.Add(24 * time.Hour), Minutes: 50, Kind: store.KindInPerson}
	p.apY = store.Appointment{ClientID: p.y.ID, PractitionerID: ids["sam"], Start: t0.Add(2 * time.Hour), Minutes: 50, Kind: store.KindVideo, Paid: true, PaidAt: t0}
	for _, a := range []*store.Appointment{&p.apX, &p.apXBySam, &p.apY} {
		must(st.CreateAppointment(a))
	}
	p.shX = store.Share{Kind: store.ShareFiles, ClientID: p.x.ID, StaffID: ids["pat"], Recipients: []store.ShareRecipient{{Name: "Xavier X", ClientID: p.x.ID, Lang: "en"}}, State: store.ShareActive}
	p.shXLawyer = store.Share{Kind: store.ShareFiles, ClientID: p.x.ID, StaffID: ids["pat"], Recipients: []store.ShareRecipient{{Name: "Maître L", Email: "l@example.org", Lang: "fr"}}, State: store.ShareActive}
	must(st.CreateShare(&p.shX, "token-x", nil, nil))
	must(st.CreateShare(&p.shXLawyer, "token-lawyer", nil, nil))
	pr := store.Preso{Title: "Plan", OwnerID: ids["pat"], ContactIDs: []uint64{p.x.ID}, CreatedAt: t0}
	must(st.CreatePreso(&pr, ids["pat"]))
	return p
}

// Every loader, for every kind of viewer: who gets through, and who gets
// ErrNotFound, exactly as if the data did not exist.
func TestWhoMaySeeWhat(t *testing.T) {
	p := newPractice(t)
	pol := New(p.st, nil, func() time.Time { return t0 })
	loaders := []struct {
		name string
		load func(Viewer) error
		// allowed lists the viewers let through; every other one gets ErrNotFound.
		allowed []string
	}{
		{"client record", func(v Viewer) error { _, err := pol.Client(v, p.x.ID, Read); return err },
			[]string{"owner", "admin", "pat", "client X"}},
		{"client record, changed", func(v Viewer) error { _, err := pol.Client(v, p.x.ID, Change); return err },
			[]string{"owner", "admin", "pat", "client X"}},
		{"appointments", func(v Viewer) error { _, err := pol.Appointments(v, p.x); return err },
			[]string{"owner", "admin", "pat", "client X"}},
		{"appointment", func(v Viewer) error { _, _, err := pol.Appointment(v, p.apX.ID, Read); return err },
			[]string{"owner", "admin", "pat", "client X"}},
		{"appointment a colleague holds", func(v Viewer) error { _, _, err := pol.Appointment(v, p.apXBySam.ID, Change); return err },
			[]string{"owner", "admin", "pat", "sam", "client X"}},
		{"receipt", func(v Viewer) error { _, _, err := pol.Receipt(v, p.apX.ID); return err },
			[]string{"owner", "admin", "pat", "client X"}},
		{"receipt of another client", func(v Viewer) error { _, _, err := pol.Receipt(v, p.apY.ID); return err },
			[]string{"owner", "admin", "sam", "client Y"}},
		{"receipt of an unpaid session", func(v Viewer) error { _, _, err := pol.Receipt(v, p.apXBySam.ID); return err },
			nil},
		{"video room", func(v Viewer) error { _, _, err := pol.Room(v, p.apX.ID); return err },
			[]string{"pat", "client X"}},
		{"room of an in-person session", func(v Viewer) error { _, _, err := pol.Room(v, p.apXBySam.ID); return err },
			nil},
		{"shares list", func(v Viewer) error { _, err := pol.Shares(v, p.x.ID); return err },
			[]string{"owner", "admin", "pat", "client X"}},
		{"share sent to the client", func(v Viewer) error { return pol.Share(v, p.shX, Read) },
			[]string{"owner", "admin", "pat", "client X"}},
		{"share sent to their lawyer", func(v Viewer) error { return pol.Share(v, p.shXLawyer, Change) },
			[]string{"owner", "admin", "pat"}},
		{"presos of a client", func(v Viewer) error { _, err := pol.Presos(v, p.x.ID); return err },
			[]string{"owner", "admin", "pat"}},
		{"missing client", func(v Viewer) error { _, err := pol.Client(v, 9999, Read); return err },
			nil},
		{"missing appointment", func(v Viewer) error { _, _, err := pol.Appointment(v, 9999, Read); return err },
			nil},
	}
	for _, l := range loaders {
		for name, v := range p.viewers {
			want := false
			for _, a := range l.allowed {
				want = want || a == name
			}
			err := l.load(v)
			switch {
			case want && err != nil:
				t.Errorf("%s, %s: %v, want allowed", l.name, name, err)
			case !want && !errors.Is(err, ErrNotFound):
				t.Errorf("%s, %s: %v, want ErrNotFound", l.name, name, err)
			}
		}
	}
}

// Lists hold what the viewer may see and no more.
func TestListsAreNarrowedToTheViewer(t *testing.T) {
	p := newPractice(t)
	pol := New(p.st, nil, func() time.Time { return t0 })
	for name, want := range map[string]int{"owner": 2, "admin": 2, "pat": 2, "client X": 1} {
		got, err := pol.Shares(p.viewers[name], p.x.ID)
		if err != nil || len(got) != want {
			t.Errorf("%s sees %d shares of X (%v), want %d", name, len(got), err, want)
		}
	}
	if got, _ := pol.Shares(p.viewers["client X"], p.x.ID); len(got) == 1 && got[0].ID != p.shX.ID {
		t.Errorf("client X sees share %d, want the one sent to them, %d", got[0].ID, p.shX.ID)
	}
	for name, want := range map[string]int{"owner": 2, "admin": 2, "pat": 1, "sam": 1, "client X": 0, "nobody": 0} {
		got, total, err := pol.SearchClients(p.viewers[name], store.ClientFilter{Limit: 10})
		if err != nil || len(got) != want || total != want {
			t.Errorf("%s finds %d clients (total %d, %v), want %d", name, len(got), total, err, want)
		}
	}
	// An owner may still narrow a search to one practitioner; a practitioner cannot widen theirs.
	got, _, _ := pol.SearchClients(p.viewers["owner"], store.ClientFilter{PractitionerID: p.y.PractitionerID, Limit: 10})
	if len(got) != 1 || got[0].ID != p.y.ID {
		t.Errorf("owner narrowed to Sam finds %v", got)
	}
	got, _, _ = pol.SearchClients(p.viewers["pat"], store.ClientFilter{PractitionerID: p.y.PractitionerID, Limit: 10})
	if len(got) != 1 || got[0].ID != p.x.ID {
		t.Errorf("Pat asking for Sam's clients finds %v, want Pat's own", got)
	}
	for name, want := range map[string]int{"owner": 3, "admin": 3, "pat": 1, "sam": 2, "client X": 0} {
		got, _, err := pol.Agenda(p.viewers[name], t0.Add(-time.Hour), t0.Add(48*time.Hour), 10)
		if err != nil || len(got) != want {
			t.Errorf("%s's agenda has %d sessions (%v), want %d", name, len(got), err, want)
		}
	}
}

// An archived client's record is out of the portal's reach, even for a
// session left from before the archive.
func TestArchivedClientLosesThePortal(t *testing.T) {
	p := newPractice(t)
	pol := New(p.st, nil, func() time.Time { return t0 })
	before := p.viewers["client X"]
	if _, err := p.st.ArchiveClient(p.x.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := pol.Client(before, p.x.ID, Read); !errors.Is(err, ErrNotFound) {
		t.Errorf("record: %v", err)
	}
	if _, _, err := pol.Room(before, p.apX.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("room: %v", err)
	}
	if _, err := pol.Client(p.viewers["pat"], p.x.ID, Read); err != nil {
		t.Errorf("Pat still sees the archived record: %v", err)
	}
}

type journal []Access

func (j *journal) Record(a Access) { *j = append(*j, a) }

// The journal hears who read or changed what of which client, and nothing of refusals.
func TestTheJournalHearsEveryAllowedAccess(t *testing.T) {
	p := newPractice(t)
	var j journal
	pol := New(p.st, &j, func() time.Time { return t0 })
	pat, sam, x := p.viewers["pat"], p.viewers["sam"], p.viewers["client X"]
	pol.Client(pat, p.x.ID, Change)
	pol.Client(sam, p.x.ID, Read) // refused: not recorded
	pol.Receipt(x, p.apX.ID)
	pol.Share(pat, p.shXLawyer, Read)
	want := []Access{
		{Viewer: pat, ClientID: p.x.ID, Item: ItemRecord, Op: Change, At: t0},
		{Viewer: x, ClientID: p.x.ID, Item: ItemReceipt, ItemID: p.apX.ID, Op: Read, At: t0},
		{Viewer: pat, ClientID: p.x.ID, Item: ItemShare, ItemID: p.shXLawyer.ID, Op: Read, At: t0},
	}
	if len(j) != len(want) {
		t.Fatalf("journal heard %d accesses, want %d: %+v", len(j), len(want), j)
	}
	for i := range want {
		if j[i] != want[i] {
			t.Errorf("access %d: %+v, want %+v", i, j[i], want[i])
		}
	}
	if j[0].Viewer.Addr != "192.0.2.1" || j[0].Op.String() != "change" {
		t.Errorf("the journal lacks where from or what: %+v", j[0])
	}
}
