// Package s3test runs versitygw, an S3 server over a plain directory, on
// loopback for the tests of Foyer's backups, and a TCP proxy in front of it
// that can refuse, cut or slow the connections: a real S3 server, and a
// network that fails as networks do.
package s3test

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"foyer/testtool"
)

// The root user and the bucket of every server.
const (
	Access = "foyer-test-access"
	Secret = "foyer-test-secret-0123456789"
	Bucket = "foyer-backups"
)

// Server is a running versitygw.
type Server struct {
	// Addr is its host:port; Dir the directory its bucket lives in.
	Addr, Dir string
	bin       string
	cmd       *exec.Cmd
	log       string
}

// Binary finds the versitygw binary (see testtool.Find).
func Binary(t testing.TB) string {
	t.Helper()
	return testtool.Find(t, "versitygw", "FOYER_VERSITYGW", "go install github.com/versity/versitygw/cmd/versitygw@v1.8.0")
}

// Start runs versitygw with the POSIX backend in a fresh directory, with
// one bucket, until the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	return StartIn(t, t.TempDir())
}

// StartIn is Start with the bucket in dir (on another disk, or in memory,
// as a storage on another machine would be).
func StartIn(t testing.TB, dir string) *Server {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	s := &Server{bin: Binary(t), Dir: dir, log: filepath.Join(t.TempDir(), "versitygw.log")}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Addr = ln.Addr().String()
	ln.Close()
	s.Restart(t)
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() {
			out, _ := os.ReadFile(s.log)
			t.Logf("versitygw log (last 4 KB):\n%s", tail(out, 4096))
		}
	})
	c := s.Client(t)
	if err := c.MakeBucket(context.Background(), Bucket, minio.MakeBucketOptions{}); err != nil {
		t.Fatalf("make bucket: %v", err)
	}
	return s
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// Restart starts the server again on the same address and directory.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	logf, err := os.OpenFile(s.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	s.cmd = exec.Command(s.bin, "--port", s.Addr, "--access", Access, "--secret", Secret, "--quiet", "posix", s.Dir)
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	logf.Close()
	deadline := time.Now().Add(20 * time.Second)
	for {
		conn, err := net.Dial("tcp", s.Addr)
		if err == nil {
			conn.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("versitygw did not listen on %s: %v", s.Addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop stops the server (its data stays).
func (s *Server) Stop() {
	if s.cmd != nil && s.cmd.ProcessState == nil {
		s.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { s.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			s.cmd.Process.Kill()
			<-done
		}
	}
}

// URL is a backup URL for the bucket at addr (the server's, or a proxy's), under prefix.
func URL(addr, prefix string) string {
	return fmt.Sprintf("s3://%s:%s@%s/%s/%s?tls=false&region=us-east-1", Access, Secret, addr, Bucket, prefix)
}

// Client is an S3 client of the server, to look at the bucket as the storage sees it.
func (s *Server) Client(t testing.TB) *minio.Client {
	t.Helper()
	c, err := minio.New(s.Addr, &minio.Options{Creds: credentials.NewStaticV4(Access, Secret, ""), Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Objects lists every object in the bucket (key → size) and the uploads
// begun and not completed.
func (s *Server) Objects(t testing.TB) (objects map[string]int64, unfinished int) {
	t.Helper()
	c := s.Client(t)
	objects = map[string]int64{}
	for o := range c.ListObjects(context.Background(), Bucket, minio.ListObjectsOptions{Recursive: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		objects[o.Key] = o.Size
	}
	for u := range c.ListIncompleteUploads(context.Background(), Bucket, "", true) {
		if u.Err != nil {
			t.Fatal(u.Err)
		}
		unfinished++
	}
	return objects, unfinished
}

// Proxy forwards TCP connections to a server, and can be told to refuse
// them, cut them after some bytes, or slow them down.
type Proxy struct {
	Addr   string
	target string
	ln     net.Listener

	mu sync.Mutex
	// refuse closes every new connection at once.
	refuse bool
	// cutAt is the count of bytes sent (Sent) past which the network drops:
	// every connection is closed and new ones refused (0: never).
	cutAt int64
	// rate is the most bytes a second sent to the server (0: no limit).
	rate int64
	// Sent counts the bytes sent to the server, all connections together.
	Sent  atomic.Int64
	conns map[net.Conn]bool
}

// StartProxy forwards to target until the test ends.
func StartProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{Addr: ln.Addr().String(), target: target, ln: ln, conns: map[net.Conn]bool{}}
	t.Cleanup(func() { ln.Close(); p.closeAll() })
	go p.serve()
	return p
}

// Refuse makes the proxy close new connections at once (and closes the
// open ones), as a storage that is down; Refuse(false) heals it.
func (p *Proxy) Refuse(on bool) {
	p.mu.Lock()
	p.refuse = on
	if !on {
		p.cutAt = 0
	}
	p.mu.Unlock()
	if on {
		p.closeAll()
	}
}

// CutAfter makes the network drop once n more bytes went to the server,
// all connections together: every connection is closed and new ones are
// refused, as a line that goes down in the middle of an upload, until
// CutAfter(0) or Refuse(false).
func (p *Proxy) CutAfter(n int64) {
	p.mu.Lock()
	p.cutAt = 0
	if n > 0 {
		p.cutAt = p.Sent.Load() + n
	} else {
		p.refuse = false
	}
	p.mu.Unlock()
}

// Limit slows what goes to the server to bytesPerSecond (0: no limit).
func (p *Proxy) Limit(bytesPerSecond int64) {
	p.mu.Lock()
	p.rate = bytesPerSecond
	p.mu.Unlock()
}

func (p *Proxy) closeAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		c.Close()
	}
}

func (p *Proxy) serve() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		refuse := p.refuse
		if !refuse {
			p.conns[client] = true
		}
		p.mu.Unlock()
		if refuse {
			client.Close()
			continue
		}
		go p.forward(client)
	}
}

func (p *Proxy) forward(client net.Conn) {
	defer func() {
		p.mu.Lock()
		delete(p.conns, client)
		p.mu.Unlock()
		client.Close()
	}()
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer server.Close()
	go func() {
		io.Copy(client, server)
		client.Close()
	}()
	buf := make([]byte, 32<<10)
	var sent int64
	start := time.Now()
	for {
		n, err := client.Read(buf)
		if n > 0 {
			p.mu.Lock()
			cut, rate := p.cutAt, p.rate
			p.mu.Unlock()
			if cut > 0 && p.Sent.Load()+int64(n) > cut {
				p.Refuse(true)
				return
			}
			if _, werr := server.Write(buf[:n]); werr != nil {
				return
			}
			sent += int64(n)
			p.Sent.Add(int64(n))
			if rate > 0 {
				// Behind schedule? Wait until the bytes sent fit the rate.
				if ahead := time.Duration(float64(sent)/float64(rate)*float64(time.Second)) - time.Since(start); ahead > 0 {
					time.Sleep(ahead)
				}
			}
		}
		if err != nil {
			return
		}
	}
}

// Size formats n bytes for a test's log.
func Size(n int64) string { return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MiB" }
