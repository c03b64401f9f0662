package e2e

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/sys/unix"
)

// The network tests build their network themselves, with nothing outside
// the machine: a network namespace for one party (its own loopback, and a
// veth pair to this namespace when the test cuts a link), and in-test
// relays that carry only what the test lets through. They need root; where
// namespaces cannot be made they skip, except under CI, where they must run.

// netns is a network namespace made by the test, deleted at its end.
type netns struct {
	t    *testing.T
	name string
}

var netnsCount atomic.Int32

// skipOrFail skips the test with why, or fails it under CI.
func skipOrFail(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatal("CI is set but " + why)
	}
	t.Skip(why)
}

func newNetns(t *testing.T) *netns {
	t.Helper()
	if os.Geteuid() != 0 {
		skipOrFail(t, "network namespaces need root: run the network tests as root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		skipOrFail(t, "the ip command (iproute2) is missing")
	}
	n := &netns{t: t, name: fmt.Sprintf("foyer-e2e-%d-%d", os.Getpid(), netnsCount.Add(1))}
	if out, err := exec.Command("ip", "netns", "add", n.name).CombinedOutput(); err != nil {
		skipOrFail(t, fmt.Sprintf("unable to make a network namespace: %v %s", err, out))
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", n.name).Run() })
	n.ip("link", "set", "lo", "up")
	return n
}

// ip runs an ip command inside the namespace.
func (n *netns) ip(args ...string) {
	n.t.Helper()
	mustRun(n.t, "ip", append([]string{"netns", "exec", n.name, "ip"}, args...)...)
}

func mustRun(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v %s", name, strings.Join(args, " "), err, out)
	}
}

// in runs fn on a thread inside the namespace: the sockets it makes there
// stay in the namespace.
func (n *netns) in(fn func() error) error {
	runtime.LockOSThread()
	self, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", unix.Gettid()))
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer self.Close()
	target, err := os.Open("/var/run/netns/" + n.name)
	if err != nil {
		runtime.UnlockOSThread()
		return err
	}
	defer target.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return err
	}
	ferr := fn()
	if err := unix.Setns(int(self.Fd()), unix.CLONE_NEWNET); err != nil {
		// The thread stays locked, so it ends with this goroutine instead
		// of serving others from the wrong namespace.
		return err
	}
	runtime.UnlockOSThread()
	return ferr
}

// listen opens a TCP listener inside the namespace.
func (n *netns) listen(addr string) net.Listener {
	n.t.Helper()
	var ln net.Listener
	if err := n.in(func() (err error) { ln, err = net.Listen("tcp4", addr); return }); err != nil {
		n.t.Fatalf("listen in %s on %s: %v", n.name, addr, err)
	}
	n.t.Cleanup(func() { ln.Close() })
	return ln
}

// listenUDP opens a UDP socket inside the namespace.
func (n *netns) listenUDP(addr string) net.PacketConn {
	n.t.Helper()
	var c net.PacketConn
	if err := n.in(func() (err error) { c, err = net.ListenPacket("udp4", addr); return }); err != nil {
		n.t.Fatalf("listen in %s on udp %s: %v", n.name, addr, err)
	}
	n.t.Cleanup(func() { c.Close() })
	return c
}

// dial connects from inside the namespace.
func (n *netns) dial(addr string) (net.Conn, error) {
	var c net.Conn
	err := n.in(func() (err error) { c, err = net.DialTimeout("tcp4", addr, 5*time.Second); return })
	return c, err
}

// forward carries every connection ln accepts to what dial gives, both ways.
func forward(t *testing.T, ln net.Listener, dial func() (net.Conn, error)) {
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				up, err := dial()
				if err != nil {
					return
				}
				defer up.Close()
				done := make(chan struct{}, 2)
				go func() { io.Copy(up, c); done <- struct{}{} }()
				go func() { io.Copy(c, up); done <- struct{}{} }()
				<-done
			}()
		}
	}()
}

// lossyRelay carries UDP between the browsers of a namespace and a server of
// this one, holding every datagram for delay and dropping loss of them, each
// way: the network of a bad mobile line, made in the test because the
// kernel has no netem. Each browser address gets its own socket towards the
// server, as behind a NAT.
type lossyRelay struct {
	delay  time.Duration
	loss   float64
	server *net.UDPAddr
	front  net.PacketConn

	mu    sync.Mutex
	backs map[string]net.PacketConn
	sent  atomic.Int64
	lost  atomic.Int64
}

func newLossyRelay(t *testing.T, front net.PacketConn, server string, delay time.Duration, loss float64) *lossyRelay {
	sa, err := net.ResolveUDPAddr("udp4", server)
	if err != nil {
		t.Fatal(err)
	}
	r := &lossyRelay{delay: delay, loss: loss, server: sa, front: front, backs: map[string]net.PacketConn{}}
	t.Cleanup(func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, b := range r.backs {
			b.Close()
		}
	})
	go r.run(t)
	return r
}

// pass sends b to to through c after the delay, unless the line loses it.
func (r *lossyRelay) pass(c net.PacketConn, b []byte, to net.Addr) {
	r.sent.Add(1)
	if rand.Float64() < r.loss {
		r.lost.Add(1)
		return
	}
	p := append([]byte(nil), b...)
	time.AfterFunc(r.delay, func() { c.WriteTo(p, to) })
}

func (r *lossyRelay) run(t *testing.T) {
	buf := make([]byte, 65536)
	for {
		n, from, err := r.front.ReadFrom(buf)
		if err != nil {
			return
		}
		r.mu.Lock()
		back := r.backs[from.String()]
		if back == nil {
			back, err = net.ListenPacket("udp4", "127.0.0.1:0")
			if err != nil {
				r.mu.Unlock()
				continue
			}
			r.backs[from.String()] = back
			go func() {
				b := make([]byte, 65536)
				for {
					n, _, err := back.ReadFrom(b)
					if err != nil {
						return
					}
					r.pass(r.front, b[:n], from)
				}
			}()
		}
		r.mu.Unlock()
		r.pass(back, buf[:n], r.server)
	}
}

// vethPair links the namespace to this one: here at hostIP, there at
// nsIP, with the namespace's default route through it. It returns the
// name of this side's interface, for cutting the link.
func (n *netns) vethPair(hostIP, nsIP string) string {
	n.t.Helper()
	here := fmt.Sprintf("fyh%d%d", os.Getpid()%10000, netnsCount.Load())
	there := fmt.Sprintf("fyn%d%d", os.Getpid()%10000, netnsCount.Load())
	if out, err := exec.Command("ip", "link", "add", here, "type", "veth", "peer", "name", there).CombinedOutput(); err != nil {
		skipOrFail(n.t, fmt.Sprintf("unable to make a veth pair: %v %s", err, out))
	}
	n.t.Cleanup(func() { exec.Command("ip", "link", "del", here).Run() })
	mustRun(n.t, "ip", "link", "set", there, "netns", n.name)
	mustRun(n.t, "ip", "addr", "add", hostIP+"/30", "dev", here)
	mustRun(n.t, "ip", "link", "set", here, "up")
	n.ip("addr", "add", nsIP+"/30", "dev", there)
	n.ip("link", "set", there, "up")
	n.ip("route", "add", "default", "via", hostIP)
	return here
}

// browser starts Chromium inside the namespace, with fake media devices
// granted without asking. env is added to its environment (HOME, to trust a
// test certificate authority). chromedp talks to it over a pipe, which the
// namespace does not cut.
func (n *netns) browser(env ...string) context.Context {
	n.t.Helper()
	ipPath, err := exec.LookPath("ip")
	if err != nil {
		n.t.Fatal(err)
	}
	return mediaBrowser(n.t, chromedp.Flag("use-fake-ui-for-media-stream", true), chromedp.Env(env...),
		chromedp.ModifyCmdFunc(func(cmd *exec.Cmd) {
			cmd.Args = append([]string{"ip", "netns", "exec", n.name, cmd.Path}, cmd.Args[1:]...)
			cmd.Path = ipPath
		}))
}
