package video

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/turn/v4"
)

// loopbackTURN starts a TURN server on loopback sockets it binds itself
// (UDP on port 0, TCP on the same port), so no port is probed, closed and
// bound again by someone else in between.
func loopbackTURN(t *testing.T, cfg TURNConfig, now func() time.Time) (*TURN, string) {
	t.Helper()
	var udp net.PacketConn
	var tcp net.Listener
	for try := 0; ; try++ {
		u, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		l, err := net.Listen("tcp4", u.LocalAddr().String())
		if err == nil {
			udp, tcp = u, l
			break
		}
		u.Close()
		if try == 20 {
			t.Fatalf("no loopback port free for both UDP and TCP: %v", err)
		}
	}
	addr := udp.LocalAddr().String()
	cfg.Addr, cfg.UDP, cfg.TCP = addr, udp, tcp
	if cfg.MinPort == 0 {
		cfg.MinPort, cfg.MaxPort = 50000, 50100
	}
	srv, err := StartTURN(cfg, now, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv, addr
}

// turnClient allocates a relay on the server at addr with the given
// credentials; the caller closes both.
func turnClient(t *testing.T, addr, user, pass string) (*turn.Client, net.PacketConn, error) {
	t.Helper()
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c, err := turn.NewClient(&turn.ClientConfig{TURNServerAddr: addr, STUNServerAddr: addr, Username: user, Password: pass, Realm: "127.0.0.1", Conn: conn, RTO: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Listen(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); conn.Close() })
	relay, err := c.Allocate()
	if err != nil {
		return c, nil, err
	}
	t.Cleanup(func() { relay.Close() })
	return c, relay, nil
}

// TestTURNCredentials: a credential derived for a room allocates a relay
// until the room closes, and not after; a forged one never does.
func TestTURNCredentials(t *testing.T) {
	start := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	var now atomic.Int64 // the TURN server reads the clock from its own goroutines
	now.Store(start.Unix())
	clock := func() time.Time { return time.Unix(now.Load(), 0) }
	srv, addr := loopbackTURN(t, TURNConfig{}, clock)
	ice := srv.Credentials(1, "client-7", start.Add(time.Hour))
	if !strings.HasPrefix(ice.URLs[0], "turn:"+addr) || !strings.HasPrefix(ice.Username, strconv.FormatInt(start.Add(time.Hour).Unix(), 10)+":1.client-7.") {
		t.Fatalf("credentials: %+v", ice)
	}
	if _, _, err := turnClient(t, addr, ice.Username, ice.Credential); err != nil {
		t.Fatalf("valid credentials refused: %v", err)
	}
	if _, _, err := turnClient(t, addr, ice.Username, "forged"); err == nil {
		t.Fatal("a wrong password allocated a relay")
	}
	now.Add(3600)
	if _, _, err := turnClient(t, addr, ice.Username, ice.Credential); err == nil {
		t.Fatal("expired credentials allocated a relay")
	}
}

// TestPeerPolicy: the relay refuses private, shared, special and the
// machine's own addresses, including under an IPv6 disguise; the allow-list
// opens a LAN again but never the machine itself.
func TestPeerPolicy(t *testing.T) {
	own := []netip.Addr{netip.MustParseAddr("8.8.4.4"), netip.MustParseAddr("2001:4860::8844")}
	p := &PeerPolicy{Relay: netip.MustParseAddr("8.8.4.4"), MinPort: 49160, MaxPort: 49200, Own: func() []netip.Addr { return own }}
	refused := []string{
		"10.0.0.1", "10.255.3.4", "172.16.0.1", "172.31.255.254", "192.168.1.20", "100.64.0.1", "100.127.255.254",
		"127.0.0.1", "127.3.2.1", "169.254.1.1", "0.0.0.0", "0.1.2.3", "224.0.0.1", "239.255.255.250", "255.255.255.255",
		"240.0.0.1", "198.18.0.1", "192.0.0.8", "192.0.2.2", "198.51.100.7", "203.0.113.200", "::", "::1", "fc00::1", "fd12:3456::1", "fe80::1", "ff02::1",
		"::ffff:10.0.0.1", "::ffff:127.0.0.1", "64:ff9b::a00:1", "2002:a00:1::1", "2002:7f00:1::",
		"2001:4860::8844",                    // the machine's own IPv6 address
		"::ffff:8.8.4.4", "64:ff9b::808:404", // its IPv4 address, disguised
	}
	for _, s := range refused {
		if p.PeerIP(net.ParseIP(s)) && s != "::ffff:8.8.4.4" {
			t.Errorf("permission for %s granted", s)
		}
		if p.Peer(netip.AddrPortFrom(netip.MustParseAddr(s), 5432)) {
			t.Errorf("relay to %s:5432 allowed", s)
		}
	}
	for _, s := range []string{"8.8.8.8", "1.1.1.1", "100.63.255.255", "100.128.0.1", "172.32.0.1", "2606:4700::1111", "2002:808:808::1"} {
		if !p.PeerIP(net.ParseIP(s)) || !p.Peer(netip.AddrPortFrom(netip.MustParseAddr(s), 5432)) {
			t.Errorf("public peer %s refused", s)
		}
	}
	// Another relay of this server (both parties relayed) is a peer; the
	// server's other ports are not.
	if !p.Peer(netip.MustParseAddrPort("8.8.4.4:49170")) {
		t.Error("relay to relay refused")
	}
	for _, ap := range []string{"8.8.4.4:22", "8.8.4.4:5432", "8.8.4.4:49159", "8.8.4.4:49201"} {
		if p.Peer(netip.MustParseAddrPort(ap)) {
			t.Errorf("relay to the server's own %s allowed", ap)
		}
	}
	allow, err := ParseAllowPeers("192.168.1.0/24, 10.1.2.3")
	if err != nil {
		t.Fatal(err)
	}
	lan := &PeerPolicy{Allow: allow, Own: func() []netip.Addr { return []netip.Addr{netip.MustParseAddr("192.168.1.5")} }}
	for s, want := range map[string]bool{"192.168.1.20": true, "10.1.2.3": true, "10.1.2.4": false, "192.168.2.1": false, "192.168.1.5": false, "127.0.0.1": false} {
		if got := lan.Peer(netip.AddrPortFrom(netip.MustParseAddr(s), 9)); got != want {
			t.Errorf("with the allow-list, %s: allowed=%v, want %v", s, got, want)
		}
	}
	if _, err := ParseAllowPeers("192.168.1.0/33"); err == nil {
		t.Error("a bad network was accepted")
	}
}

// TestTURNRelayRefusesTheMachine: an allocated relay cannot send to a
// service listening on the machine, by its loopback or by any of its own
// addresses, nor into a private network; two relays of the server reach
// each other.
func TestTURNRelayRefusesTheMachine(t *testing.T) {
	clock := func() time.Time { return time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC) }
	srv, addr := loopbackTURN(t, TURNConfig{}, clock)
	ice := srv.Credentials(1, "staff-1", clock().Add(time.Hour))
	_, a, err := turnClient(t, addr, ice.Username, ice.Credential)
	if err != nil {
		t.Fatal(err)
	}
	_, b, err := turnClient(t, addr, ice.Username, ice.Credential)
	if err != nil {
		t.Fatal(err)
	}

	// A service on all interfaces, as an attacker found one.
	service, err := net.ListenPacket("udp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer service.Close()
	port := service.LocalAddr().(*net.UDPAddr).Port
	targets := []string{"127.0.0.1"}
	for _, o := range interfaceAddrs() {
		if o.Is4() && !o.IsLoopback() {
			targets = append(targets, o.String())
		}
	}
	targets = append(targets, "10.0.0.1", "192.168.1.1")
	for _, ip := range targets {
		_, _ = a.WriteTo([]byte("hello "+ip), &net.UDPAddr{IP: net.ParseIP(ip), Port: port})
	}

	// Relay to relay works: b lets a in, a sends, b reads.
	if _, err := b.WriteTo([]byte("open"), a.LocalAddr()); err != nil {
		t.Fatalf("b to a: %v", err)
	}
	if _, err := a.WriteTo([]byte("ping"), b.LocalAddr()); err != nil {
		t.Fatalf("a to b: %v", err)
	}
	buf := make([]byte, 64)
	_ = b.SetReadDeadline(time.Now().Add(3 * time.Second))
	n, _, err := b.ReadFrom(buf)
	if err != nil || string(buf[:n]) != "ping" {
		t.Fatalf("relay to relay: %q, %v", buf[:n], err)
	}

	// By then anything sent to the service would have arrived.
	_ = service.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if n, from, err := service.ReadFrom(buf); err == nil {
		t.Fatalf("the relay reached the machine's own service from %v: %q", from, buf[:n])
	} else if ne := (net.Error)(nil); !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatal(err)
	}
}

// TestTURNRevoke: once a person's or a room's credentials are revoked, they
// make no new relay and an existing relay can open no new permission (its
// next refresh fails); credentials handed out afterwards work, and other
// rooms and people are untouched.
func TestTURNRevoke(t *testing.T) {
	clock := func() time.Time { return time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC) }
	srv, addr := loopbackTURN(t, TURNConfig{}, clock)
	until := clock().Add(time.Hour)
	client := srv.Credentials(1, "client-7", until)
	staff := srv.Credentials(1, "staff-1", until)
	other := srv.Credentials(2, "client-8", until)
	_, relay, err := turnClient(t, addr, client.Username, client.Credential)
	if err != nil {
		t.Fatal(err)
	}
	_, peer, err := turnClient(t, addr, staff.Username, staff.Credential)
	if err != nil {
		t.Fatal(err)
	}

	srv.Revoke(ClientPerson(7))
	if _, _, err := turnClient(t, addr, client.Username, client.Credential); err == nil {
		t.Fatal("a revoked credential allocated a relay")
	}
	if _, err := relay.WriteTo([]byte("x"), peer.LocalAddr()); err == nil {
		t.Fatal("a relay of a revoked credential opened a permission")
	}
	for _, ok := range []ICEServer{staff, other, srv.Credentials(1, "client-7", until)} {
		if _, _, err := turnClient(t, addr, ok.Username, ok.Credential); err != nil {
			t.Fatalf("%s refused after another revocation: %v", ok.Username, err)
		}
	}

	// A room's revocation (its appointment cancelled) voids both parties'.
	srv.Revoke(RoomKey(1))
	if _, _, err := turnClient(t, addr, staff.Username, staff.Credential); err == nil {
		t.Fatal("the credential of a closed room allocated a relay")
	}
	if _, _, err := turnClient(t, addr, other.Username, other.Credential); err != nil {
		t.Fatalf("another room's credential refused: %v", err)
	}
	// A user name that is not one Foyer made is refused, even with its right password.
	forged := "1795604400:1.client-7"
	if _, _, err := turnClient(t, addr, forged, srv.password(forged)); err == nil {
		t.Fatal("a user name without a serial allocated a relay")
	}
}

// testCertificate makes a self-signed certificate for 127.0.0.1.
func testCertificate(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// TestTURNOverTLS: with a certificate, the server also speaks TURN over TLS,
// offered last (UDP, TCP, then TLS), and a client allocates a relay through
// it; a connection that never finishes its handshake is cut.
func TestTURNOverTLS(t *testing.T) {
	clock := func() time.Time { return time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC) }
	cert, pool := testCertificate(t)
	tl, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv, addr := loopbackTURN(t, TURNConfig{TLSListener: tl, Realm: "127.0.0.1",
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return &cert, nil }}, clock)
	ice := srv.Credentials(1, "client-7", clock().Add(time.Hour))
	want := []string{"turn:" + addr + "?transport=udp", "turn:" + addr + "?transport=tcp", "turns:" + tl.Addr().String() + "?transport=tcp"}
	if strings.Join(ice.URLs, " ") != strings.Join(want, " ") {
		t.Fatalf("URLs %v, want %v", ice.URLs, want)
	}

	conn, err := tls.Dial("tcp", tl.Addr().String(), &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatalf("TLS handshake: %v", err)
	}
	c, err := turn.NewClient(&turn.ClientConfig{TURNServerAddr: tl.Addr().String(), STUNServerAddr: tl.Addr().String(), Username: ice.Username,
		Password: ice.Credential, Realm: "127.0.0.1", Conn: turn.NewSTUNConn(conn)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Listen(); err != nil {
		t.Fatal(err)
	}
	relay, err := c.Allocate()
	if err != nil {
		t.Fatalf("allocate over TLS: %v", err)
	}
	defer relay.Close()
	if _, port, _ := net.SplitHostPort(relay.LocalAddr().String()); port < "50000" || port > "50100" {
		t.Fatalf("relay %v outside the relay ports", relay.LocalAddr())
	}
	// A peer that reads what the relay sends (a UDP relay of the server, as
	// when both parties are relayed) receives it: media pass over TLS.
	_, peer, err := turnClient(t, addr, ice.Username, ice.Credential)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := peer.WriteTo([]byte("open"), relay.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	if _, err := relay.WriteTo([]byte("over tls"), peer.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	_ = peer.SetReadDeadline(time.Now().Add(3 * time.Second))
	if n, _, err := peer.ReadFrom(buf); err != nil || string(buf[:n]) != "over tls" {
		t.Fatalf("relayed over TLS: %q %v", buf[:n], err)
	}
}

// TestTURNTLSNeedsACertificate: TURN over TLS without a certificate stops
// Foyer at start with a message naming the setting.
func TestTURNTLSNeedsACertificate(t *testing.T) {
	_, err := StartTURN(TURNConfig{Addr: "127.0.0.1:0", TLSAddr: "127.0.0.1:0", MinPort: 50000, MaxPort: 50100,
		UDP: mustUDP(t), TCP: mustTCP(t)}, time.Now, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err == nil || !strings.Contains(err.Error(), "FOYER_TURN_TLS_ADDR needs a certificate") {
		t.Fatalf("no certificate: %v", err)
	}
}

func mustUDP(t *testing.T) net.PacketConn {
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func mustTCP(t *testing.T) net.Listener {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}
