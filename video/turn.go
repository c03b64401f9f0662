package video

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1" //nolint:gosec // TURN REST credentials are HMAC-SHA1 by definition (draft-uberti-behave-turn-rest)
	"encoding/base64"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
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
}

// TURN is an embedded TURN server whose credentials Foyer derives per
// session: usable only until the room closes, and by nobody else.
type TURN struct {
	server *turn.Server
	secret []byte
	url    string
	now    func() time.Time
	policy *PeerPolicy
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
	t := &TURN{secret: secret, url: "turn:" + net.JoinHostPort(host, port), now: now}
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
	lf := logging.NewDefaultLoggerFactory()
	lf.DefaultLogLevel = logging.LogLevelWarn
	t.server, err = turn.NewServer(turn.ServerConfig{
		Realm:             cfg.Realm,
		AuthHandler:       t.auth,
		LoggerFactory:     lf,
		PacketConnConfigs: []turn.PacketConnConfig{{PacketConn: udp, RelayAddressGenerator: relay(), PermissionHandler: permit}},
		ListenerConfigs:   []turn.ListenerConfig{{Listener: tcp, RelayAddressGenerator: relay(), PermissionHandler: permit}},
	})
	if err != nil {
		udp.Close()
		tcp.Close()
		return nil, fmt.Errorf("TURN: %w", err)
	}
	log.Info("TURN server listening", "addr", cfg.Addr, "relay_ports", fmt.Sprintf("%d-%d", cfg.MinPort, cfg.MaxPort), "allow_peers", cfg.AllowPeers)
	return t, nil
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

// Credentials gives the party of a room a TURN entry valid until until
// (the close of the room), in the TURN REST form: user "expiry:who",
// password base64(HMAC-SHA1(secret, user)).
func (t *TURN) Credentials(who string, until time.Time) ICEServer {
	user := strconv.FormatInt(until.Unix(), 10) + ":" + who
	return ICEServer{URLs: []string{t.url + "?transport=udp", t.url + "?transport=tcp"}, Username: user, Credential: t.password(user)}
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
	if !ok || err != nil || t.now().Unix() >= n {
		return nil, false
	}
	return turn.GenerateAuthKey(user, realm, t.password(user)), true
}
