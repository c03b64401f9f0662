package video

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1" //nolint:gosec // TURN REST credentials are HMAC-SHA1 by definition (draft-uberti-behave-turn-rest)
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/logging"
	"github.com/pion/turn/v4"
)

// TURNConfig is the embedded TURN server's configuration.
type TURNConfig struct {
	// Addr is the public host:port browsers reach the TURN server at; it
	// listens on that port (UDP and TCP) on every interface, and relays from
	// the host's address.
	Addr string
	// MinPort and MaxPort bound the UDP ports relays are opened on.
	MinPort, MaxPort uint16
	// Realm is the TURN realm (the public host name).
	Realm string
	// AllowPeers are private networks the relay may reach all the same
	// (FOYER_TURN_ALLOW_PEERS); see PeerPolicy.
	AllowPeers []netip.Prefix
	// UDP and TCP, when set, are the sockets to serve on instead of binding
	// Addr's port on every interface (tests pass loopback sockets).
	UDP net.PacketConn
	TCP net.Listener
	// Own lists the machine's addresses for the peer policy; nil reads the
	// interfaces.
	Own func() []netip.Addr

	// TLSAddr, when set, is where the server also listens for TURN over TLS
	// (turns:), for browsers behind firewalls that let only HTTPS out: :5349,
	// or port 443 of a second address (203.0.113.6:443).
	TLSAddr string
	// TLSPublic is the host:port browsers are given for turns:, when it is
	// not the portal's own host name at TLSAddr's port (a second name for a
	// second address, or an SNI-routing front on 443). The certificate must
	// be valid for its host.
	TLSPublic string
	// GetCertificate gives the certificate of TURN over TLS: the portal's
	// HTTPS one.
	GetCertificate func(*tls.ClientHelloInfo) (*tls.Certificate, error)
	// TLSListener, when set, is the TCP socket to serve TURN over TLS on
	// instead of binding TLSAddr (tests pass a loopback socket).
	TLSListener net.Listener
}

// TURN is an embedded TURN server whose credentials Foyer derives per
// session: usable only until the room closes, and by nobody else.
type TURN struct {
	server *turn.Server
	secret []byte
	url    string
	// tlsURL is the turns: URL, or "" without TURN over TLS.
	tlsURL string
	now    func() time.Time
	policy *PeerPolicy

	// serial numbers the credentials handed out; a revocation voids those of
	// a room or a person numbered up to then (see Revoke).
	serial  atomic.Uint64
	mu      sync.Mutex
	revoked map[string]revocation
	// latest is the furthest expiry of any credential handed out: a
	// revocation is kept until then, when everything it voids has expired.
	latest int64
}

// revocation voids the credentials numbered up to serial; it is kept until
// until (Unix seconds), when all of them have expired anyway.
type revocation struct {
	serial uint64
	until  int64
}

// ParsePorts reads a port range such as 49160-49200.
func ParsePorts(s string) (lo, hi uint16, err error) {
	a, b, ok := strings.Cut(s, "-")
	x, err1 := strconv.ParseUint(strings.TrimSpace(a), 10, 16)
	y, err2 := strconv.ParseUint(strings.TrimSpace(b), 10, 16)
	if !ok || err1 != nil || err2 != nil || x == 0 || x > y {
		return 0, 0, fmt.Errorf("%q is not a port range such as 49160-49200", s)
	}
	return uint16(x), uint16(y), nil
}

// StartTURN starts the TURN server; Close stops it.
func StartTURN(cfg TURNConfig, now func() time.Time, log *slog.Logger) (*TURN, error) {
	host, port, err := net.SplitHostPort(cfg.Addr)
	if err != nil || host == "" {
		return nil, fmt.Errorf("FOYER_TURN_ADDR %q must be the public host:port browsers reach, such as 203.0.113.5:3478", cfg.Addr)
	}
	ip := net.ParseIP(host)
	if ip == nil {
		ips, err := net.LookupIP(host)
		if err != nil || len(ips) == 0 {
			return nil, fmt.Errorf("FOYER_TURN_ADDR: unable to resolve %s: %v", host, err)
		}
		ip = ips[0]
		for _, c := range ips {
			if c.To4() != nil {
				ip = c
				break
			}
		}
	}
	if cfg.Realm == "" {
		cfg.Realm = host
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	t := &TURN{secret: secret, url: "turn:" + net.JoinHostPort(host, port), now: now, revoked: map[string]revocation{}}
	udp, tcp := cfg.UDP, cfg.TCP
	if udp == nil {
		if udp, err = net.ListenPacket("udp", ":"+port); err != nil {
			return nil, fmt.Errorf("TURN: unable to listen on UDP port %s: %w", port, err)
		}
	}
	if tcp == nil {
		if tcp, err = net.Listen("tcp", ":"+port); err != nil {
			udp.Close()
			return nil, fmt.Errorf("TURN: unable to listen on TCP port %s: %w", port, err)
		}
	}
	relayIP, _ := netip.AddrFromSlice(ip)
	t.policy = &PeerPolicy{Allow: cfg.AllowPeers, Relay: relayIP.Unmap(), MinPort: cfg.MinPort, MaxPort: cfg.MaxPort, Own: cfg.Own}
	relay := func() turn.RelayAddressGenerator {
		return &policedGenerator{
			RelayAddressGenerator: &turn.RelayAddressGeneratorPortRange{RelayAddress: ip, Address: "0.0.0.0", MinPort: cfg.MinPort, MaxPort: cfg.MaxPort},
			policy:                t.policy,
		}
	}
	permit := func(_ net.Addr, peer net.IP) bool { return t.policy.PeerIP(peer) }
	listeners := []turn.ListenerConfig{{Listener: tcp, RelayAddressGenerator: relay(), PermissionHandler: permit}}
	if cfg.TLSAddr != "" || cfg.TLSListener != nil {
		tl, public, err := listenTLS(cfg, cfg.Realm)
		if err != nil {
			udp.Close()
			tcp.Close()
			return nil, err
		}
		t.tlsURL = "turns:" + public
		listeners = append(listeners, turn.ListenerConfig{Listener: tl, RelayAddressGenerator: relay(), PermissionHandler: permit})
	}
	lf := logging.NewDefaultLoggerFactory()
	lf.DefaultLogLevel = logging.LogLevelWarn
	t.server, err = turn.NewServer(turn.ServerConfig{
		Realm:             cfg.Realm,
		AuthHandler:       t.auth,
		LoggerFactory:     lf,
		PacketConnConfigs: []turn.PacketConnConfig{{PacketConn: udp, RelayAddressGenerator: relay(), PermissionHandler: permit}},
		ListenerConfigs:   listeners,
	})
	if err != nil {
		for _, l := range listeners {
			l.Listener.Close()
		}
		udp.Close()
		return nil, fmt.Errorf("TURN: %w", err)
	}
	log.Info("TURN server listening", "addr", cfg.Addr, "tls", t.tlsURL, "relay_ports", fmt.Sprintf("%d-%d", cfg.MinPort, cfg.MaxPort), "allow_peers", cfg.AllowPeers)
	return t, nil
}

// tlsHandshakeTimeout bounds a TLS handshake on the TURN port: a connection
// that never finishes one must not hold a goroutine and a socket for ever.
const tlsHandshakeTimeout = 10 * time.Second

// listenTLS opens TURN over TLS and says the host:port browsers are given
// for it: TLSPublic, else the portal's name (the certificate's) at the
// listening port.
func listenTLS(cfg TURNConfig, name string) (net.Listener, string, error) {
	if cfg.GetCertificate == nil {
		return nil, "", errors.New("FOYER_TURN_TLS_ADDR needs a certificate: the portal's HTTPS one, or -tls-cert and -tls-key")
	}
	ln := cfg.TLSListener
	if ln == nil {
		if _, _, err := net.SplitHostPort(cfg.TLSAddr); err != nil {
			return nil, "", fmt.Errorf("FOYER_TURN_TLS_ADDR %q must be an address to listen on, such as :5349 or 203.0.113.6:443", cfg.TLSAddr)
		}
		var err error
		if ln, err = net.Listen("tcp", cfg.TLSAddr); err != nil {
			return nil, "", fmt.Errorf("TURN: unable to listen for TLS on %s: %w", cfg.TLSAddr, err)
		}
	}
	public := cfg.TLSPublic
	if public == "" {
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		public = net.JoinHostPort(name, port)
	} else if h, p, err := net.SplitHostPort(public); err != nil || h == "" || p == "" {
		ln.Close()
		return nil, "", fmt.Errorf("FOYER_TURN_TLS_PUBLIC %q must be the host:port browsers reach, such as turn.example.org:443", public)
	}
	conf := &tls.Config{GetCertificate: cfg.GetCertificate, MinVersion: tls.VersionTLS12}
	return tlsListener{Listener: ln, conf: conf}, public, nil
}

// tlsListener serves TLS, its handshake bounded in time (pion reads from
// each connection at once, and a bare tls.Conn would wait for ever).
type tlsListener struct {
	net.Listener
	conf *tls.Config
}

func (l tlsListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &tlsConn{Conn: tls.Server(c, l.conf)}, nil
}

type tlsConn struct {
	*tls.Conn
	once sync.Once
	err  error
}

func (c *tlsConn) Read(b []byte) (int, error) {
	c.once.Do(func() {
		_ = c.Conn.SetDeadline(time.Now().Add(tlsHandshakeTimeout))
		c.err = c.Conn.Handshake()
		_ = c.Conn.SetDeadline(time.Time{})
	})
	if c.err != nil {
		return 0, c.err
	}
	return c.Conn.Read(b)
}

// policedGenerator hands out relay sockets that send only where the peer
// policy allows.
type policedGenerator struct {
	turn.RelayAddressGenerator
	policy *PeerPolicy
}

func (g *policedGenerator) AllocatePacketConn(network string, requestedPort int) (net.PacketConn, net.Addr, error) {
	conn, addr, err := g.RelayAddressGenerator.AllocatePacketConn(network, requestedPort)
	if err != nil {
		return nil, nil, err
	}
	return policedConn{PacketConn: conn, policy: g.policy}, addr, nil
}

// Close stops the TURN server and its relays.
func (t *TURN) Close() error { return t.server.Close() }

// Credentials gives person, a party of the room of appointment appt, a TURN
// entry valid until until (the close of the room), in the TURN REST form:
// user "expiry:appt.person.serial", password base64(HMAC-SHA1(secret, user)).
// Its URLs come in the order browsers should prefer them: UDP, TCP, then TLS
// (which passes firewalls that let only HTTPS out).
func (t *TURN) Credentials(appt uint64, person string, until time.Time) ICEServer {
	exp := until.Unix()
	t.mu.Lock()
	t.latest = max(t.latest, exp)
	t.mu.Unlock()
	user := fmt.Sprintf("%d:%d.%s.%d", exp, appt, person, t.serial.Add(1))
	urls := []string{t.url + "?transport=udp", t.url + "?transport=tcp"}
	if t.tlsURL != "" {
		urls = append(urls, t.tlsURL+"?transport=tcp")
	}
	return ICEServer{URLs: urls, Username: user, Credential: t.password(user)}
}

// Revoke voids the credentials handed out so far for key (a room's
// RoomKey, or a person): their relays stop at their next refresh (a
// browser refreshes its permissions every few minutes), and no new relay
// is made with them. Credentials handed out afterwards work.
func (t *TURN) Revoke(key string) {
	now := t.now().Unix()
	t.mu.Lock()
	defer t.mu.Unlock()
	for k, r := range t.revoked {
		if r.until <= now {
			delete(t.revoked, k)
		}
	}
	t.revoked[key] = revocation{serial: t.serial.Load(), until: t.latest}
}

// RoomKey names the credentials of the room of appointment appt, for Revoke.
func RoomKey(appt uint64) string { return "room-" + strconv.FormatUint(appt, 10) }

// void reports whether user's credential was revoked.
func (t *TURN) void(user string) bool {
	_, rest, _ := strings.Cut(user, ":")
	parts := strings.Split(rest, ".")
	if len(parts) != 3 {
		return true
	}
	appt, err1 := strconv.ParseUint(parts[0], 10, 64)
	serial, err2 := strconv.ParseUint(parts[2], 10, 64)
	if err1 != nil || err2 != nil {
		return true
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range []string{RoomKey(appt), parts[1]} {
		if r, ok := t.revoked[k]; ok && serial <= r.serial {
			return true
		}
	}
	return false
}

func (t *TURN) password(user string) string {
	m := hmac.New(sha1.New, t.secret)
	m.Write([]byte(user))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// auth answers the TURN server: the key of a user whose credentials have not expired.
func (t *TURN) auth(user, realm string, _ net.Addr) ([]byte, bool) {
	exp, _, ok := strings.Cut(user, ":")
	n, err := strconv.ParseInt(exp, 10, 64)
	if !ok || err != nil || t.now().Unix() >= n || t.void(user) {
		return nil, false
	}
	return turn.GenerateAuthKey(user, realm, t.password(user)), true
}
