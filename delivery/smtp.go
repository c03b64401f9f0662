package delivery

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/url"
	"strconv"

	"github.com/wneessen/go-mail"
)

// SMTP sends email through an SMTP server.
type SMTP struct {
	host string
	opts []mail.Option
	from string
	// MessageIDHost is the domain of Message-IDs: the public base URL's host
	// (the machine's own name says nothing to recipients, and can be empty).
	MessageIDHost string
}

// ParseSMTPURL builds an SMTP driver from a URL:
//
//	smtp://user:pass@host:587          STARTTLS, required
//	smtp://host:25?tls=opportunistic   STARTTLS when offered
//	smtp://host:1025?tls=none          no TLS (a relay on the same machine)
//	smtps://user:pass@host:465         implicit TLS
func ParseSMTPURL(raw, from string) (*SMTP, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("delivery: SMTP URL: %w", err)
	}
	if u.Hostname() == "" {
		return nil, errors.New("delivery: SMTP URL has no host")
	}
	if from == "" {
		return nil, errors.New("delivery: a sender address (FOYER_MAIL_FROM) is needed with SMTP")
	}
	opts := []mail.Option{}
	auth := mail.SMTPAuthAutoDiscover
	port := 0
	if p := u.Port(); p != "" {
		port, err = strconv.Atoi(p)
		if err != nil || port < 1 || port > 65535 {
			return nil, errors.New("delivery: SMTP URL has a bad port")
		}
	}
	switch u.Scheme {
	case "smtps":
		opts = append(opts, mail.WithSSL())
		if port == 0 {
			port = 465
		}
	case "smtp":
		switch u.Query().Get("tls") {
		case "", "starttls":
			opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
		case "opportunistic":
			opts = append(opts, mail.WithTLSPolicy(mail.TLSOpportunistic))
		case "none":
			// The operator chose plain text (a relay on the same host): go-mail
			// refuses PLAIN without TLS unless told so explicitly.
			opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
			auth = mail.SMTPAuthPlainNoEnc
		default:
			return nil, errors.New("delivery: SMTP URL tls= must be starttls, opportunistic or none")
		}
		if port == 0 {
			port = 587
		}
	default:
		return nil, errors.New("delivery: SMTP URL scheme must be smtp or smtps")
	}
	opts = append(opts, mail.WithPort(port))
	if u.User != nil && u.User.Username() != "" {
		pass, _ := u.User.Password()
		opts = append(opts, mail.WithSMTPAuth(auth), mail.WithUsername(u.User.Username()), mail.WithPassword(pass))
	}
	if _, err := mail.NewClient(u.Hostname(), opts...); err != nil {
		return nil, fmt.Errorf("delivery: SMTP settings: %w", err)
	}
	return &SMTP{host: u.Hostname(), opts: opts, from: from}, nil
}

// Send sends one email with its text and HTML parts.
func (s *SMTP) Send(ctx context.Context, m Outgoing) error {
	msg := mail.NewMsg()
	if err := msg.From(s.from); err != nil {
		return fmt.Errorf("delivery: sender: %w", err)
	}
	if err := msg.To(m.To); err != nil {
		return fmt.Errorf("delivery: recipient: %w", err)
	}
	host := s.MessageIDHost
	if host == "" {
		host = "localhost"
	}
	id := m.Key
	if id == "" {
		id = rand.Text()
	}
	msg.SetMessageIDWithValue(id + "@" + host)
	msg.Subject(m.Subject)
	msg.SetGenHeader(mail.HeaderContentLang, m.Lang)
	msg.SetBodyString(mail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(mail.TypeTextHTML, m.HTML)
	}
	c, err := mail.NewClient(s.host, s.opts...)
	if err != nil {
		return err
	}
	return c.DialAndSendWithContext(ctx, msg)
}
