package main

import (
	"strings"
	"testing"
	"time"

	"foyer/share"
	"foyer/store"
)

// The scaled demo adds what it says: clients found by search, prospects, and
// for one client in demoShareEvery an ended document share with its history,
// listed on the client's record and holding nothing any more.
func TestDemoScale(t *testing.T) {
	dir := t.TempDir()
	var out strings.Builder
	cfg := config{addr: ":8080", data: dir, scale: 40, idleTimeout: 30 * time.Minute, lifetime: 12 * time.Hour, shutdownTimeout: 15 * time.Second, logFormat: "text"}
	if err := demo(cfg, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "Added 40 clients, 40 prospects, 164 sessions, 200 sent messages and 10 document shares (70 events)") {
		t.Fatalf("demo said:\n%s", out.String())
	}
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	clients, total, err := st.SearchClients(store.ClientFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	shared := 0
	for _, c := range clients {
		shares, err := st.SharesOfClient(c.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, sh := range shares {
			shared++
			if sh.State != store.ShareExpired || !sh.Purged || sh.Live() || len(sh.Snapshot) != 0 {
				t.Errorf("client %d: demo share %+v is not an ended, purged share", c.ID, sh)
			}
			events, err := st.ShareEvents(sh.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(events) != demoShareEvents || events[0].Type != share.EventSent || events[len(events)-1].Type != share.EventPurged {
				t.Errorf("share %d: events %+v", sh.ID, events)
			}
		}
	}
	if shared != 10 {
		t.Errorf("%d clients of %d hold a demo share, want 10", shared, total)
	}
}
