package video

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"time"
)

// PeerPolicy decides which addresses a TURN relay may send to. A relay is a
// way out of the server's own network: without a policy, a stranger with a
// room credential could reach the services of the machine itself and of its
// LAN (a database on 0.0.0.0, a router's admin page). By default it refuses
// private and special ranges and the machine's own addresses; Allow opens
// chosen networks again (a practice whose two parties share one LAN).
type PeerPolicy struct {
	// Allow are networks the relay may reach even though they are private
	// (FOYER_TURN_ALLOW_PEERS). The machine's own addresses stay refused.
	Allow []netip.Prefix
	// Relay is the address this server hands out for its relays, and
	// MinPort..MaxPort their ports: another relay of this server is a peer
	// like any other (both parties relayed), its other ports are not.
	Relay            netip.Addr
	MinPort, MaxPort uint16
	// Own lists the machine's addresses; nil reads the interfaces (tests set it).
	Own func() []netip.Addr

	mu      sync.Mutex
	own     map[netip.Addr]bool
	ownRead time.Time
}

// ownTTL is how long the list of the machine's addresses is kept before it is
// read again (an address can change under a running server: DHCP, a VPN).
const ownTTL = 10 * time.Second

// special are ranges no relay peer is ever in: private, shared, reserved
// and documentation networks whose packets would stay inside a site.
var special = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8",       // "this network"
		"10.0.0.0/8",      // RFC 1918
		"100.64.0.0/10",   // shared address space (carrier-grade NAT), RFC 6598
		"127.0.0.0/8",     // loopback
		"169.254.0.0/16",  // link-local
		"172.16.0.0/12",   // RFC 1918
		"192.0.0.0/24",    // IETF protocol assignments
		"192.0.2.0/24",    // documentation (TEST-NET-1), RFC 5737
		"192.168.0.0/16",  // RFC 1918
		"198.18.0.0/15",   // benchmarking
		"198.51.100.0/24", // documentation (TEST-NET-2)
		"203.0.113.0/24",  // documentation (TEST-NET-3)
		"224.0.0.0/4",     // multicast
		"240.0.0.0/4",     // reserved, and the broadcast address
		"::/128",          // unspecified
		"::1/128",         // loopback
		"fc00::/7",        // unique local
		"fe80::/10",       // link-local
		"ff00::/8",        // multicast
		"100::/64",        // discard
		"2001:db8::/32",   // documentation
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

// errPeerRefused is what a relay write to a refused peer returns.
var errPeerRefused = errors.New("turn: peer address refused by the relay policy")

// embedded gives the IPv4 address an IPv6 one carries (IPv4-mapped,
// NAT64 64:ff9b::/96, 6to4 2002::/16), so a private IPv4 address cannot be
// reached under an IPv6 disguise.
func embedded(a netip.Addr) (netip.Addr, bool) {
	if a.Is4In6() {
		return a.Unmap(), true
	}
	if !a.Is6() {
		return netip.Addr{}, false
	}
	b := a.As16()
	switch {
	case b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b: // 64:ff9b::/96
		return netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}), true
	case b[0] == 0x20 && b[1] == 0x02: // 2002::/16
		return netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}), true
	}
	return netip.Addr{}, false
}

// PeerIP reports whether a relay may create a permission for ip (TURN
// permissions are per address; the port is checked on every packet by
// Peer).
func (p *PeerPolicy) PeerIP(ip net.IP) bool {
	a, ok := netip.AddrFromSlice(ip)
	if !ok {
		return false
	}
	a = a.Unmap()
	if a == p.Relay {
		return true // another relay of this server; Peer checks the port
	}
	return p.allowed(a)
}

// Peer reports whether a relay may send to addr (ip and port).
func (p *PeerPolicy) Peer(addr netip.AddrPort) bool {
	a := addr.Addr().Unmap()
	if a == p.Relay {
		return addr.Port() >= p.MinPort && addr.Port() <= p.MaxPort
	}
	return p.allowed(a)
}

func (p *PeerPolicy) allowed(a netip.Addr) bool {
	if !a.IsValid() || a.Zone() != "" {
		return false
	}
	if p.isOwn(a) {
		return false
	}
	if v4, ok := embedded(a); ok {
		if p.isOwn(v4) {
			return false
		}
		a = v4
	}
	for _, n := range p.Allow {
		if n.Contains(a) {
			return true
		}
	}
	for _, n := range special {
		if n.Contains(a) {
			return false
		}
	}
	return true
}

func (p *PeerPolicy) isOwn(a netip.Addr) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.own == nil || time.Since(p.ownRead) > ownTTL {
		p.own = map[netip.Addr]bool{}
		var list []netip.Addr
		if p.Own != nil {
			list = p.Own()
		} else {
			list = interfaceAddrs()
		}
		for _, o := range list {
			p.own[o.Unmap().WithZone("")] = true
		}
		if p.Relay.IsValid() {
			p.own[p.Relay] = true
		}
		p.ownRead = time.Now()
	}
	return p.own[a.WithZone("")]
}

func interfaceAddrs() []netip.Addr {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	out := make([]netip.Addr, 0, len(addrs))
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(n.IP); ok {
				out = append(out, ip.Unmap())
			}
		}
	}
	return out
}

// ParseAllowPeers reads FOYER_TURN_ALLOW_PEERS: CIDRs separated by commas.
func ParseAllowPeers(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range splitComma(s) {
		n, err := netip.ParsePrefix(f)
		if err != nil {
			if a, err2 := netip.ParseAddr(f); err2 == nil {
				n = netip.PrefixFrom(a, a.BitLen())
			} else {
				return nil, errors.New("FOYER_TURN_ALLOW_PEERS: " + f + " is not a network such as 192.168.1.0/24")
			}
		}
		out = append(out, n.Masked())
	}
	return out, nil
}

// policedConn is a relay socket that sends only to peers the policy allows:
// the per-packet check that TURN's per-address permissions cannot make.
type policedConn struct {
	net.PacketConn
	policy *PeerPolicy
}

func (c policedConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	u, ok := addr.(*net.UDPAddr)
	if !ok {
		return 0, errPeerRefused
	}
	if !c.policy.Peer(u.AddrPort()) {
		return 0, errPeerRefused
	}
	return c.PacketConn.WriteTo(b, addr)
}
