// Package deliverytest runs a real SMTP server in the test process, the way
// net/http/httptest runs an HTTP server: tests send through Foyer's SMTP
// driver and read back what a mail server would have received.
package deliverytest

import (
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Message is one email as the server received it.
type Message struct {
	From    string
	To      []string
	Subject string
	Header  mail.Header
	Text    string // the text/plain part
	HTML    string // the text/html part
	Raw     string
}

// SMTPServer is an SMTP server on loopback.
type SMTPServer struct {
	Addr string
	// User and Password, when set, are required (AUTH PLAIN).
	User, Password string

	srv  *smtp.Server
	mu   sync.Mutex
	msgs []Message
	cond *sync.Cond
}

// NewSMTPServer starts a server on a free loopback port; it stops when the test ends.
func NewSMTPServer(t testing.TB, user, password string) *SMTPServer {
	t.Helper()
	s := &SMTPServer{User: user, Password: password}
	s.cond = sync.NewCond(&s.mu)
	s.srv = smtp.NewServer(s)
	s.srv.Domain = "localhost"
	s.srv.AllowInsecureAuth = true
	s.srv.ReadTimeout, s.srv.WriteTimeout = 10*time.Second, 10*time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Addr = ln.Addr().String()
	go s.srv.Serve(ln)
	t.Cleanup(func() { s.srv.Close() })
	return s
}

// URL is the FOYER_SMTP_URL that reaches this server.
func (s *SMTPServer) URL() string {
	if s.User != "" {
		return "smtp://" + s.User + ":" + s.Password + "@" + s.Addr + "?tls=none"
	}
	return "smtp://" + s.Addr + "?tls=none"
}

// Messages returns every message received so far.
func (s *SMTPServer) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// WaitFor returns the first message to rcpt, waiting up to timeout for it.
func (s *SMTPServer) WaitFor(rcpt string, timeout time.Duration) (Message, error) {
	deadline := time.Now().Add(timeout)
	for {
		for _, m := range s.Messages() {
			for _, to := range m.To {
				if strings.EqualFold(to, rcpt) {
					return m, nil
				}
			}
		}
		if time.Now().After(deadline) {
			return Message{}, errors.New("deliverytest: no message to " + rcpt)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// NewSession implements smtp.Backend.
func (s *SMTPServer) NewSession(*smtp.Conn) (smtp.Session, error) {
	return &session{srv: s}, nil
}

type session struct {
	srv    *SMTPServer
	authed bool
	from   string
	to     []string
}

func (ss *session) AuthMechanisms() []string {
	if ss.srv.User == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != ss.srv.User || pass != ss.srv.Password {
			return errors.New("invalid credentials")
		}
		ss.authed = true
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.srv.User != "" && !ss.authed {
		return smtp.ErrAuthRequired
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m := Message{From: ss.from, To: ss.to, Raw: string(raw)}
	if parsed, err := mail.ReadMessage(strings.NewReader(string(raw))); err == nil {
		m.Header = parsed.Header
		m.Subject, _ = new(mime.WordDecoder).DecodeHeader(parsed.Header.Get("Subject"))
		m.Text, m.HTML = parts(parsed.Header.Get("Content-Type"), parsed.Header.Get("Content-Transfer-Encoding"), parsed.Body)
	}
	ss.srv.mu.Lock()
	ss.srv.msgs = append(ss.srv.msgs, m)
	ss.srv.mu.Unlock()
	return nil
}

func (ss *session) Reset()        { ss.from, ss.to = "", nil }
func (ss *session) Logout() error { return nil }

// parts walks a MIME body and returns its text and HTML parts, decoded.
func parts(contentType, encoding string, body io.Reader) (text, html string) {
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		mt = "text/plain"
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextPart()
			if err != nil {
				return
			}
			t, h := parts(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p)
			text, html = text+t, html+h
		}
	}
	data, _ := io.ReadAll(decode(encoding, body))
	if mt == "text/html" {
		return "", string(data)
	}
	return string(data), ""
}
