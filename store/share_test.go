package store

import (
	"reflect"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func TestShareByTokenIsNeverStaleNorShared(t *testing.T) {
	s := openTest(t)
	sh := Share{Kind: ShareFiles, State: ShareActive, ExpiresAt: time.Now().Add(time.Hour),
		Recipients: []ShareRecipient{{Name: "Ana", Mobiles: []string{"+33612345678"}}}, Snapshot: []uint64{7}}
	if err := s.CreateShare(&sh, "tok", nil, nil); err != nil {
		t.Fatal(err)
	}
	got, err := s.ShareByToken("tok")
	if err != nil || got.ID != sh.ID || got.Recipients[0].Name != "Ana" {
		t.Fatalf("%+v %v", got, err)
	}
	// A caller changing what it got changes nothing kept.
	got.Recipients[0].Name, got.Recipients[0].Mobiles[0], got.Snapshot[0] = "Eve", "+0", 0
	again, err := s.ShareByToken("tok")
	if err != nil || again.Recipients[0].Name != "Ana" || again.Recipients[0].Mobiles[0] != "+33612345678" || again.Snapshot[0] != 7 {
		t.Fatalf("kept share changed by a caller: %+v %v", again, err)
	}
	// Every write shows at once.
	for _, st := range []ShareState{ShareLocked, ShareActive, ShareExpired} {
		if _, err := s.ChangeShare(sh.ID, func(ch *ShareChange) error { ch.Share.State = st; return nil }); err != nil {
			t.Fatal(err)
		}
		if got, err := s.ShareByToken("tok"); err != nil || got.State != st {
			t.Fatalf("after the change to %s: %s %v", st, got.State, err)
		}
	}
	if _, err := s.ShareByToken("other"); err != ErrNotFound {
		t.Fatalf("unknown token: %v", err)
	}
}

func TestClientArchivedShowsAtOnce(t *testing.T) {
	s := openTest(t)
	c := Client{FirstName: "Ana", LastName: "Martin", PractitionerID: 1}
	if err := s.CreateClient(&c); err != nil {
		t.Fatal(err)
	}
	for _, want := range []bool{false, true, false} {
		if _, err := s.UpdateClient(c.ID, func(c *Client) error { c.Archived = want; return nil }); err != nil {
			t.Fatal(err)
		}
		for range 2 { // decoded, then kept
			if got, err := s.ClientArchived(c.ID); err != nil || got != want {
				t.Fatalf("archived %v, want %v (%v)", got, want, err)
			}
		}
	}
	if _, err := s.ClientArchived(c.ID + 1); err != ErrNotFound {
		t.Fatalf("missing client: %v", err)
	}
}

// A code record written before codes were kept per number keeps working:
// the code waiting and the one before it still let their people in, and the
// codes sent still count against the number the last one went to.
func TestShareCodeKeptBeforeIsFolded(t *testing.T) {
	s := openTest(t)
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	legacy := `{"hash":"AQI=","recipient":1,"channel":"sms","target":"+33622222432","expires_at":"2026-03-02T09:08:00Z",
		"tries":1,"tries_by":{"ab":3},"prev_hash":"AwQ=","prev_expires_at":"2026-03-02T09:05:00Z","prev_recipient":0,
		"prev_channel":"sms","prev_target":"+33611111678","sent":["2026-03-02T08:55:00Z","2026-03-02T08:58:00Z"]}`
	if err := s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketShareCodes).Put(itob(5), []byte(legacy)) }); err != nil {
		t.Fatal(err)
	}
	c, err := s.ShareCode(5)
	if err != nil {
		t.Fatal(err)
	}
	want := []WaitingCode{
		{Hash: []byte{3, 4}, Recipient: 0, Channel: ChannelSMS, Target: "+33611111678", ExpiresAt: now.Add(5 * time.Minute)},
		{Hash: []byte{1, 2}, Recipient: 1, Channel: ChannelSMS, Target: "+33622222432", ExpiresAt: now.Add(8 * time.Minute), Tries: 3},
	}
	if !reflect.DeepEqual(c.Waiting, want) {
		t.Fatalf("waiting %+v", c.Waiting)
	}
	if sent := c.SentTo[CodeTargetKey(ChannelSMS, "+33622222432")]; len(sent) != 2 || len(c.SentTo) != 1 {
		t.Fatalf("sent %+v", c.SentTo)
	}
	if c.Hash != nil || c.Sent != nil || c.PrevTarget != "" || c.TriesBy != nil {
		t.Fatalf("old fields left: %+v", c)
	}
}

// The code sends of a number are one record across shares, kept under a
// keyed hash (the number is not in the file), and dropped once past use.
func TestCodeSendsAcrossSharesAndDropped(t *testing.T) {
	s := openTest(t)
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	var ids []uint64
	for _, tok := range []string{"a", "b"} {
		sh := Share{Kind: ShareFiles, State: ShareActive, ExpiresAt: now.Add(time.Hour)}
		if err := s.CreateShare(&sh, tok, nil, nil); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, sh.ID)
	}
	number, other := CodeTargetKey(ChannelSMS, "+33611223304"), CodeTargetKey(ChannelSMS, "+33611223305")
	if _, err := s.ChangeShare(ids[0], func(ch *ShareChange) error {
		if err := ch.SetCodeSends(other, []time.Time{now.Add(-2 * time.Hour)}); err != nil {
			return err
		}
		return ch.SetCodeSends(number, []time.Time{now.Add(-30 * time.Minute), now})
	}); err != nil {
		t.Fatal(err)
	}
	sends := func(id uint64, key string) (got []time.Time) {
		t.Helper()
		if err := s.ReadShare(id, func(_ Share, r LinkTx) error {
			var err error
			got, err = r.CodeSends(key)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return got
	}
	if got := sends(ids[1], number); len(got) != 2 || !got[1].Equal(now) {
		t.Fatalf("another share reads %v", got)
	}
	if err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketCodeSends).ForEach(func(k, v []byte) error {
			if string(k) == number || string(k) == other {
				t.Fatalf("the number is a key in the clear: %q", k)
			}
			return nil
		})
	}); err != nil {
		t.Fatal(err)
	}
	if err := s.DropCodeSends(now.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := sends(ids[1], other); len(got) != 0 {
		t.Fatalf("a number's sends past the hour kept: %v", got)
	}
	if got := sends(ids[1], number); len(got) != 2 {
		t.Fatalf("a number's sends within the hour dropped: %v", got)
	}
	if _, err := s.ChangeShare(ids[1], func(ch *ShareChange) error { return ch.SetCodeSends(number, nil) }); err != nil {
		t.Fatal(err)
	}
	if got := sends(ids[0], number); len(got) != 0 {
		t.Fatalf("none set, still %v", got)
	}
}
