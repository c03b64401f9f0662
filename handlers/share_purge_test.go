package handlers

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"foyer/store"
)

// Ending one share purges that share, in the request that ends it, through
// the share engine; no request sweeps every share. A share left past its
// date (the periodic sweep has not run) stays as it was until the sweep.
func TestEndingOneSharePurgesItAlone(t *testing.T) {
	t.Parallel()
	for _, end := range []struct {
		name string
		do   func(t *testing.T, a *testApp, owner, client *browser, clientPath string, id uint64)
	}{
		{"Expire now", func(t *testing.T, a *testApp, owner, _ *browser, _ string, id uint64) {
			if r := owner.post(fmt.Sprintf("/shares/%d/expire", id), nil); r.Code != http.StatusSeeOther {
				t.Fatalf("expire: %d", r.Code)
			}
		}},
		{"This wasn't me", func(t *testing.T, a *testApp, _, client *browser, _ string, id uint64) {
			if r := client.post(fmt.Sprintf("/portal/shares/%d/not-me", id), nil); r.Code != http.StatusSeeOther {
				t.Fatalf("not me: %d", r.Code)
			}
		}},
		{"client archived", func(t *testing.T, a *testApp, owner, _ *browser, clientPath string, _ uint64) {
			if r := owner.post(clientPath+"/archive", nil); r.Code != http.StatusSeeOther {
				t.Fatalf("archive: %d", r.Code)
			}
		}},
	} {
		t.Run(end.name, func(t *testing.T) {
			a := newTestApp(t)
			owner := a.setUp()
			// Share 1, for another client, is past its date; the sweep has not run.
			other := owner.newClient("lang", "en", "email", "bob@example.org", "first_name", "Bob", "phone_0", "06 11 22 33 44")
			if r := owner.shareUpload(other, []string{"recipient", "client", "verify", "1"}, upFile{"old.txt", []byte("old")}); r.Code != http.StatusSeeOther {
				t.Fatalf("share 1: %d", r.Code)
			}
			if _, err := a.st.ChangeShare(1, func(ch *store.ShareChange) error {
				ch.Share.ExpiresAt = a.now().Add(-time.Minute)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			clientPath, client := a.clientWithPortal(owner, "ana@example.org", "a long password here", "lang", "en", "first_name", "Ana", "last_name", "Martin")
			if r := owner.shareUpload(clientPath, []string{"recipient", "client", "verify", "1"}, upFile{"bilan.pdf", []byte("A")}); r.Code != http.StatusSeeOther {
				t.Fatalf("share 2: %d", r.Code)
			}
			blob := func(id uint64) uint64 {
				sh, err := a.st.Share(id)
				if err != nil {
					t.Fatal(err)
				}
				return sh.Snapshot[0]
			}
			oldBlob, newBlob := blob(1), blob(2)

			end.do(t, a, owner, client, clientPath, 2)

			sh, _ := a.st.Share(2)
			if sh.State != store.ShareExpired || !sh.Purged {
				t.Fatalf("the share ended: %s, purged %v", sh.State, sh.Purged)
			}
			if _, err := a.st.Blob(newBlob); err == nil {
				t.Fatal("its file is still stored")
			}
			old, _ := a.st.Share(1)
			if old.State != store.ShareActive || old.Purged {
				t.Fatalf("the request swept another share: %s, purged %v", old.State, old.Purged)
			}
			if _, err := a.st.Blob(oldBlob); err != nil {
				t.Fatalf("the request purged another share's file: %v", err)
			}
			// The periodic job still does its part.
			a.sweepShares()
			if old, _ = a.st.Share(1); old.State != store.ShareExpired || !old.Purged {
				t.Fatalf("after the sweep: %s, purged %v", old.State, old.Purged)
			}
		})
	}
}

// Expiring a preso's link, or deleting the preso, purges its snapshot's
// content at once: what the numbers name (the slides' titles) stays.
func TestPresoExpirePurgesItsSnapshot(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	mia := a.addClient("Mia", "Martin", a.ownerID())
	id, _ := sharePreso(t, a, owner, "anyone", mia)
	sh, _ := a.st.Share(1)
	if _, err := a.st.Snapshot(sh.Snapshot[0]); err != nil {
		t.Fatal(err)
	}
	if r := owner.post(presoPath(id, "/share/1/expire"), nil); r.Code != http.StatusSeeOther {
		t.Fatalf("expire: %d", r.Code)
	}
	if snap, err := a.st.Snapshot(sh.Snapshot[0]); err != nil || !snap.Outline || snap.Slides[0].Body != "" || snap.Slides[0].Title != "Hello" {
		t.Fatalf("the expired link's snapshot: %+v %v", snap, err)
	}
	if sh, _ = a.st.Share(1); !sh.Purged {
		t.Fatal("the link is not marked purged")
	}
}
