package journal

import (
	"slices"
	"testing"
	"time"

	"foyer/access"
	"foyer/store"
)

// TestAccessLog: what the access policy allows becomes entries; the lists a
// record's page shows join the entry of that look at the record, even with
// another staff member's request between; a client's look at their own
// data is not journaled.
func TestAccessLog(t *testing.T) {
	j, _, c := newJournal(t, t.TempDir())
	log := j.AccessLog()
	pat := access.Viewer{StaffID: 2, Role: store.RolePractitioner, Addr: "192.0.2.2"}
	ada := access.Viewer{StaffID: 3, Role: store.RoleAdmin, Addr: "192.0.2.3"}
	client := access.Viewer{AccountID: 9, ClientID: 7, Addr: "198.51.100.9"}
	at := func(d time.Duration) time.Time { return c.now().Add(d) }
	for _, a := range []access.Access{
		{Viewer: pat, ClientID: 7, Item: access.ItemRecord, Op: access.Read, At: at(0)},
		{Viewer: ada, ClientID: 8, Item: access.ItemRecord, Op: access.Read, At: at(1 * time.Millisecond)},
		{Viewer: pat, ClientID: 7, Item: access.ItemAppointments, Op: access.Read, At: at(2 * time.Millisecond)},
		{Viewer: pat, ClientID: 7, Item: access.ItemPresos, Op: access.Read, At: at(3 * time.Millisecond)},
		{Viewer: pat, ClientID: 7, Item: access.ItemShares, Op: access.Read, At: at(4 * time.Millisecond)},
		{Viewer: client, ClientID: 7, Item: access.ItemRecord, Op: access.Read, At: at(5 * time.Millisecond)},
		{Viewer: pat, ClientID: 7, Item: access.ItemReceipt, ItemID: 4, Op: access.Read, At: at(time.Second)},
		{Viewer: pat, ClientID: 7, Item: access.ItemAppointment, ItemID: 4, Op: access.Change, At: at(2 * time.Second)},
		{Viewer: pat, ClientID: 7, Item: access.ItemVideoRoom, ItemID: 5, Op: access.Read, At: at(3 * time.Second)},
		// Lists seen long after the record: an entry of their own.
		{Viewer: pat, ClientID: 7, Item: access.ItemShares, Op: access.Read, At: at(time.Minute)},
	} {
		log.Record(a)
	}
	list, _, err := j.List(store.JournalFilter{})
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(list)
	want := []struct {
		staff  uint64
		client uint64
		action Action
		also   []string
	}{
		{2, 7, RecordRead, []string{PartAppointments, PartPresos, PartShares}},
		{3, 8, RecordRead, nil},
		{2, 7, ReceiptRead, nil},
		{2, 7, AppointmentChange, nil},
		{2, 7, VideoJoin, nil},
		{2, 7, ListRead, []string{PartShares}},
	}
	if len(list) != len(want) {
		t.Fatalf("%d entries, want %d: %+v", len(list), len(want), list)
	}
	for i, w := range want {
		e := list[i]
		if e.StaffID != w.staff || e.ClientID != w.client || e.Action != string(w.action) || !slices.Equal(e.Also, w.also) {
			t.Errorf("entry %d: %+v, want %+v", i, e, w)
		}
	}
	if list[0].Addr != "192.0.2.2" {
		t.Errorf("address: %q", list[0].Addr)
	}
	if _, err := j.Verify(); err != nil {
		t.Fatal(err)
	}
}
