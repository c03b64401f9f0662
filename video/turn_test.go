package video

import (
	"io"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/turn/v4"
)

// TestTURNCredentials: a credential derived for a room allocates a relay
// until the room closes, and not after; a forged one never does.
func TestTURNCredentials(t *testing.T) {
	probe, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := probe.LocalAddr().String()
	probe.Close()
	start := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	var now atomic.Int64 // the TURN server reads the clock from its own goroutines
	now.Store(start.Unix())
	clock := func() time.Time { return time.Unix(now.Load(), 0) }
	srv, err := StartTURN(TURNConfig{Addr: addr, MinPort: 50000, MaxPort: 50100}, clock, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ice := srv.Credentials("1-account-7", start.Add(time.Hour))
	if !strings.HasPrefix(ice.URLs[0], "turn:"+addr) || !strings.HasSuffix(ice.Username, ":1-account-7") {
		t.Fatalf("credentials: %+v", ice)
	}
	allocate := func(user, pass string) error {
		conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		c, err := turn.NewClient(&turn.ClientConfig{TURNServerAddr: addr, STUNServerAddr: addr, Username: user, Password: pass, Realm: "127.0.0.1", Conn: conn, RTO: 100 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.Listen(); err != nil {
			t.Fatal(err)
		}
		relay, err := c.Allocate()
		if err == nil {
			relay.Close()
		}
		return err
	}
	if err := allocate(ice.Username, ice.Credential); err != nil {
		t.Fatalf("valid credentials refused: %v", err)
	}
	if err := allocate(ice.Username, "forged"); err == nil {
		t.Fatal("a wrong password allocated a relay")
	}
	now.Add(3600)
	if err := allocate(ice.Username, ice.Credential); err == nil {
		t.Fatal("expired credentials allocated a relay")
	}
	if publicPeer(nil, net.ParseIP("127.0.0.1")) || publicPeer(nil, net.ParseIP("169.254.1.1")) || !publicPeer(nil, net.ParseIP("198.51.100.7")) {
		t.Fatal("the relay may reach the host itself")
	}
}
