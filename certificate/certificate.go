// Package certificate issues and checks signing certificates: the PDF
// evidence of a preso signature (what was shown, who signed and how they
// were identified, every step with its time; the rules of what the trail
// holds are package preso's Evidence), sealed with the practice's own key as
// a detached CMS signature (.p7s), optionally timestamped by a timestamp
// authority (RFC 3161), and checked by anyone at /verify.
//
// Why a detached .p7s and not a signature inside the PDF (PAdES): the PDF
// stays an ordinary file every reader opens without a warning about an
// unknown signer (a self-signed seal would show one), anyone can check the
// pair with a stock openssl, and no Go module that writes PAdES is kept and
// served at a version Foyer's Go accepts.
//
// A certificate is issued once, soon after the signature (the jobs call
// IssueDue), or at the first download, and kept: the same bytes are served
// ever after, and /verify compares against them. It knows nothing of HTTP.
package certificate

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"foyer/locales"
	"foyer/preso"
	"foyer/store"
)

// MaxPDF is the largest certificate /verify reads; a certificate is kept
// well under it (slide images are drawn at print size, see maxImageSide).
const MaxPDF = 24 << 20

// MaxP7S is the largest .p7s /verify reads (one is a few KiB).
const MaxP7S = 256 << 10

// Config is what the certificates work with.
type Config struct {
	Store   *store.Store
	Presos  *preso.Service
	Catalog *locales.Catalog
	// BaseURL is the practice's public address (/verify is under it).
	BaseURL *url.URL
	// TSA is the URL of the timestamp authority the practice names, "" for none.
	TSA string
	// HTTP asks the timestamp authority (http.DefaultClient when nil).
	HTTP *http.Client
	Log  *slog.Logger
	Now  func() time.Time
}

// Service issues and checks certificates.
type Service struct {
	cfg Config
	// mu makes issuing one at a time: it is heavy (a PDF with every slide),
	// and the jobs and a download may ask for the same one.
	mu   sync.Mutex
	seal *Seal
}

// New returns the certificates of cfg.
func New(cfg Config) *Service {
	if cfg.HTTP == nil {
		cfg.HTTP = http.DefaultClient
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Service{cfg: cfg}
}

// Seal returns the practice's seal, made at first use.
func (s *Service) Seal() (*Seal, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.loadSeal()
}

func (s *Service) loadSeal() (*Seal, error) {
	if s.seal != nil {
		return s.seal, nil
	}
	pr, err := s.cfg.Store.Practice()
	if err != nil {
		return nil, err
	}
	if s.seal, err = loadSeal(s.cfg.Store, pr.Name, s.cfg.Now()); err != nil {
		return nil, err
	}
	return s.seal, nil
}

// Of returns signature sigID's certificate, issuing it first if it was not yet.
func (s *Service) Of(ctx context.Context, sigID uint64) (store.Certificate, error) {
	c, err := s.cfg.Store.CertificateOf(sigID)
	if errors.Is(err, store.ErrNotFound) {
		return s.Issue(ctx, sigID)
	}
	return c, err
}

// Issue issues signature sigID's certificate (or returns the one issued):
// it gathers the evidence, draws the PDF in the language the signer signed
// in, seals it, asks the timestamp authority if one is set (a failure
// leaves it to the jobs to stamp later), and keeps it.
func (s *Service) Issue(ctx context.Context, sigID uint64) (store.Certificate, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.cfg.Store
	if c, err := st.CertificateOf(sigID); !errors.Is(err, store.ErrNotFound) {
		return c, err
	}
	ev, err := s.cfg.Presos.Evidence(sigID)
	if err != nil {
		return store.Certificate{}, err
	}
	seal, err := s.loadSeal()
	if err != nil {
		return store.Certificate{}, err
	}
	pr, err := st.Practice()
	if err != nil {
		return store.Certificate{}, err
	}
	zone, err := time.LoadLocation(pr.TimeZone)
	if err != nil {
		zone = time.UTC
	}
	var logo []byte
	if pr.LogoType != "" {
		logo, _, _ = st.Logo()
	}
	lang := s.lang(ev, pr)
	now := s.cfg.Now().UTC().Truncate(time.Second)
	d := document{ID: NewID(), IssuedAt: now, Evidence: ev, Practice: pr, Logo: logo, Zone: zone,
		VerifyURL: s.link("/verify"), PEMURL: s.link("/verify/practice.pem"), Fingerprint: seal.Fingerprint(), Image: st.SlideImage}
	var pdf bytes.Buffer
	if err := render(&pdf, d, s.cfg.Catalog.Get(lang)); err != nil {
		return store.Certificate{}, err
	}
	p7s, stamp, err := s.sealPDF(ctx, seal, pdf.Bytes())
	if err != nil {
		return store.Certificate{}, err
	}
	sum := sha256.Sum256(pdf.Bytes())
	blob := store.Blob{Name: "signing-certificate.pdf", Type: "application/pdf", Attached: true, CreatedAt: now}
	if err := st.CreateBlob(&blob, bytes.NewReader(pdf.Bytes()), int64(pdf.Len())); err != nil {
		return store.Certificate{}, err
	}
	facts := ev.Signature
	facts.Drawing = nil
	c := store.Certificate{SignatureID: sigID, Lang: lang, BlobID: blob.ID, Size: int64(pdf.Len()), PDFSHA256: hex.EncodeToString(sum[:]),
		P7S: p7s, IssuedAt: now, Title: ev.Title, Signature: facts, StampedAt: stamp.At, TSA: stamp.By}
	if err := st.SaveCertificate(c, d.ID, sum[:], s.cfg.TSA != ""); err != nil {
		_ = st.DeleteBlob(blob.ID)
		return c, err
	}
	return c, nil
}

// lang is the language of a certificate: the one the signer signed in,
// since it quotes what they read; else their client record's; else the
// practice's.
func (s *Service) lang(ev preso.Evidence, pr store.Practice) string {
	if locales.IsSupported(ev.Signature.Lang) {
		return ev.Signature.Lang
	}
	if ev.Signature.ContactID != 0 {
		if cl, err := s.cfg.Store.Client(ev.Signature.ContactID); err == nil && locales.IsSupported(cl.Lang) {
			return cl.Lang
		}
	}
	return pr.DefaultLang
}

func (s *Service) link(path string) string {
	if s.cfg.BaseURL == nil {
		return path
	}
	return strings.TrimRight(s.cfg.BaseURL.String(), "/") + path
}

// sealPDF signs pdf with the seal, with a timestamp when a timestamp
// authority is set and answers.
func (s *Service) sealPDF(ctx context.Context, seal *Seal, pdf []byte) ([]byte, Stamp, error) {
	var ask func([]byte) ([]byte, error)
	var stamp Stamp
	if s.cfg.TSA != "" {
		ask = func(digest []byte) ([]byte, error) {
			token, err := askTSA(ctx, s.cfg.HTTP, s.cfg.TSA, digest)
			if err == nil {
				_, stamp, err = readToken(token, digest)
			}
			return token, err
		}
	}
	p7s, stamped, stampErr, err := seal.sign(pdf, ask)
	if err != nil {
		return nil, Stamp{}, err
	}
	if stampErr != nil {
		s.cfg.Log.Warn("the timestamp authority did not timestamp a signing certificate; it is sealed without, and will be stamped later", "tsa", s.cfg.TSA, "err", stampErr)
	}
	if !stamped {
		stamp = Stamp{}
	}
	return p7s, stamp, nil
}

// IssueDue issues the certificates of the signatures made since the last
// call, and stamps those a timestamp authority did not answer for; it
// returns how many it issued or stamped. One that fails does not hold the
// others back.
func (s *Service) IssueDue(ctx context.Context) (int, error) {
	issue, stamp, err := s.cfg.Store.DueCertificates()
	if err != nil {
		return 0, err
	}
	n := 0
	var failed error
	for _, id := range issue {
		if _, err := s.Issue(ctx, id); err != nil {
			if errors.Is(err, preso.ErrNoEvidence) || errors.Is(err, preso.ErrNotFound) {
				// Nothing more can be said of it than the signature: stop trying.
				err = s.cfg.Store.NotDue(id)
			}
			failed = errors.Join(failed, fmt.Errorf("certificate of signature %d: %w", id, err))
			continue
		}
		n++
	}
	for _, id := range stamp {
		ok, err := s.restamp(ctx, id)
		if err != nil {
			failed = errors.Join(failed, err)
		} else if ok {
			n++
		}
	}
	return n, failed
}

// restamp seals an issued certificate again with a timestamp: the PDF is
// unchanged, the .p7s replaced by one whose signature the authority stamped.
func (s *Service) restamp(ctx context.Context, sigID uint64) (bool, error) {
	st := s.cfg.Store
	if s.cfg.TSA == "" {
		return false, st.NotDue(sigID)
	}
	c, err := st.CertificateOf(sigID)
	if err != nil {
		return false, err
	}
	pdf, err := s.PDF(c)
	if err != nil {
		return false, err
	}
	s.mu.Lock()
	seal, err := s.loadSeal()
	s.mu.Unlock()
	if err != nil {
		return false, err
	}
	p7s, stamp, err := s.sealPDF(ctx, seal, pdf)
	if err != nil || stamp.At.IsZero() {
		return false, err
	}
	return true, st.Restamp(sigID, p7s, stamp.At, stamp.By)
}

// PDF reads a certificate's PDF.
func (s *Service) PDF(c store.Certificate) ([]byte, error) {
	r, err := s.cfg.Store.OpenBlob(c.BlobID)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var buf bytes.Buffer
	if _, err := r.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Outcome is what /verify answers.
type Outcome string

// The answers of a check.
const (
	// Authentic: the file is a certificate this practice issued, unchanged:
	// its SHA-256 is the one kept, and the seal verifies.
	Authentic Outcome = "authentic"
	// Altered: the file names a certificate this practice issued, but its
	// bytes are not those issued (or the .p7s given does not verify).
	Altered Outcome = "altered"
	// Known: the ID typed is that of a certificate this practice issued
	// (without the file, nothing is said of a copy).
	Known Outcome = "known"
	// Unknown: this practice issued no such certificate.
	Unknown Outcome = "unknown"
)

// Check is the answer of /verify: the outcome and, when a certificate was
// found, its stored facts and nothing else.
type Check struct {
	Outcome Outcome
	// Certificate is the certificate found (nil for Unknown), ID its printed ID.
	Certificate *store.Certificate
	ID          string
	// P7SGiven says a .p7s came with the file, P7SValid that it verified.
	P7SGiven, P7SValid bool
	// Stamp is the timestamp the kept .p7s carries, checked (zero for none).
	Stamp Stamp
}

// idPattern finds the ID in a certificate's bytes (its keywords).
var idPattern = regexp.MustCompile(regexp.QuoteMeta(idMarker) + `([0-9A-Z]{26})`)

// CheckFile checks a file said to be a certificate, with its .p7s if given.
func (s *Service) CheckFile(pdf, p7s []byte) (Check, error) {
	sum := sha256.Sum256(pdf)
	st := s.cfg.Store
	c, err := st.CertificateBySum(sum[:])
	found := err == nil
	if errors.Is(err, store.ErrNotFound) {
		m := idPattern.FindSubmatch(pdf)
		if m == nil {
			return Check{Outcome: Unknown, P7SGiven: len(p7s) > 0}, nil
		}
		if c, err = st.CertificateByID(string(m[1])); errors.Is(err, store.ErrNotFound) {
			return Check{Outcome: Unknown, P7SGiven: len(p7s) > 0}, nil
		}
	}
	if err != nil {
		return Check{}, err
	}
	seal, err := s.Seal()
	if err != nil {
		return Check{}, err
	}
	ch := Check{Outcome: Altered, Certificate: &c, P7SGiven: len(p7s) > 0}
	if m := idPattern.FindSubmatch(pdf); m != nil {
		ch.ID = FormatID(string(m[1]))
	}
	kept, err := seal.verify(pdf, c.P7S)
	if found && err == nil {
		ch.Outcome = Authentic
		if st, ok := stampOf(kept); ok {
			ch.Stamp = st
		}
	}
	if ch.P7SGiven {
		_, err := seal.verify(pdf, p7s)
		ch.P7SValid = err == nil
		if !ch.P7SValid {
			ch.Outcome = Altered
		}
	}
	return ch, nil
}

// CheckID says whether a typed ID is one of this practice's certificates.
func (s *Service) CheckID(typed string) (Check, bool, error) {
	id, ok := ParseID(typed)
	if !ok {
		return Check{}, false, nil
	}
	c, err := s.cfg.Store.CertificateByID(id)
	if errors.Is(err, store.ErrNotFound) {
		return Check{Outcome: Unknown}, true, nil
	} else if err != nil {
		return Check{}, true, err
	}
	return Check{Outcome: Known, Certificate: &c, ID: FormatID(id), Stamp: Stamp{At: c.StampedAt, By: c.TSA}}, true, nil
}
