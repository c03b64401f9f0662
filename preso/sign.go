package preso

import (
	"bytes"
	"encoding/base64"
	"errors"
	"image/png"
	"strings"

	"foyer/share"
	"foyer/store"
)

// Signing: the signing slide of a link asks for a typed full name, a drawn
// signature (or the typed name only, for keyboard users or without
// JavaScript) and consent. The signature is stored with the time, how the
// signer was verified, their browser and IP, and the SHA-256 of the snapshot
// they saw; staff download a certificate stating all of it.

const (
	// MaxDrawingBytes bounds a drawn signature (a PNG).
	MaxDrawingBytes = 200 << 10
	// MaxDrawingSide bounds its width and height, in pixels.
	MaxDrawingSide = 2000
)

// Errors of a signing, each about one field of the form.
var (
	// ErrNotSigningSlide: the slide named is not a signing slide of the link.
	ErrNotSigningSlide = errors.New("preso: not a signing slide of this link")
	// ErrDrawingMissing: no drawing, and not "typed name only".
	ErrDrawingMissing = errors.New("preso: no drawn signature")
	// ErrDrawingInvalid: the drawing is not a PNG within the limits.
	ErrDrawingInvalid = errors.New("preso: the drawn signature cannot be read")
	// ErrNoConsent: the signer did not consent.
	ErrNoConsent = errors.New("preso: no consent")
)

// FieldError is a problem with one field of a form sent to the domain.
type FieldError struct {
	Field string
	Err   error
}

// FieldErrors are the problems of a form; nothing was saved.
type FieldErrors []FieldError

// Error lists the fields and their problems.
func (fe FieldErrors) Error() string {
	var msgs []string
	for _, e := range fe {
		msgs = append(msgs, e.Field+": "+e.Err.Error())
	}
	return strings.Join(msgs, "; ")
}

// Signing is what a signer sent from the signing slide.
type Signing struct {
	SlideID uint64
	// Name is the full name typed (checked present by the form).
	Name string
	// Drawing is the drawn signature as a PNG data URL, "" for none.
	Drawing   string
	TypedOnly bool
	Consent   bool
	IP        string
	// Lang is the language of the signing page, and ConsentText the words of
	// its consent box: the certificate quotes what the signer agreed to.
	Lang, ConsentText string
}

// SigningSlide returns the place (1-based) of slide id among snap's slides
// when it is a signing slide, 0 otherwise.
func SigningSlide(snap store.Snapshot, id uint64) int {
	for i, sl := range snap.Slides {
		if sl.ID == id && sl.Kind == store.SlideSigning {
			return i + 1
		}
	}
	return 0
}

// CheckSigning checks what a signer sent: the drawing (unless typed only)
// and the consent. It returns the drawing's PNG bytes, or the FieldErrors.
func CheckSigning(in Signing) ([]byte, error) {
	var fe FieldErrors
	var drawing []byte
	switch {
	case in.Drawing != "" && !in.TypedOnly:
		var ok bool
		if drawing, ok = decodeDrawing(in.Drawing); !ok {
			fe = append(fe, FieldError{"drawing", ErrDrawingInvalid})
		}
	case !in.TypedOnly:
		fe = append(fe, FieldError{"drawing", ErrDrawingMissing})
	}
	if !in.Consent {
		fe = append(fe, FieldError{"consent", ErrNoConsent})
	}
	if len(fe) > 0 {
		return nil, fe
	}
	return drawing, nil
}

// decodeDrawing reads the drawn signature the page sends as a PNG data URL.
func decodeDrawing(v string) ([]byte, bool) {
	const prefix = "data:image/png;base64,"
	if !strings.HasPrefix(v, prefix) || len(v) > MaxDrawingBytes*4/3+len(prefix) {
		return nil, false
	}
	raw, err := base64.StdEncoding.DecodeString(v[len(prefix):])
	if err != nil || len(raw) > MaxDrawingBytes {
		return nil, false
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(raw))
	if err != nil || cfg.Width < 1 || cfg.Height < 1 || cfg.Width > MaxDrawingSide || cfg.Height > MaxDrawingSide {
		return nil, false
	}
	if _, err := png.Decode(bytes.NewReader(raw)); err != nil {
		return nil, false
	}
	return raw, true
}

// Sign records the signature of viewing vw on a signing slide of the
// admitted visit's snapshot. A second signing from the same viewing (or the
// same contact verified by a code) adds nothing: the slide shows the
// signature made already. It returns the slide's place (1-based), or
// ErrNotSigningSlide, or the FieldErrors of what was sent.
func (s *Service) Sign(v share.Visit, snap store.Snapshot, vw store.Viewing, in Signing) (int, error) {
	n := SigningSlide(snap, in.SlideID)
	if n == 0 {
		return 0, ErrNotSigningSlide
	}
	drawing, err := CheckSigning(in)
	if err != nil {
		return n, err
	}
	sig := Signer(vw, in.SlideID)
	sig.ShareID, sig.PresoID, sig.SnapshotID, sig.SnapshotSHA256 = v.Share.ID, v.Share.SubjectID, snap.ID, snap.SHA256
	sig.Name, sig.Drawing, sig.Consent, sig.IP, sig.At = in.Name, drawing, true, in.IP, s.now().UTC()
	sig.Lang, sig.ConsentText = in.Lang, in.ConsentText
	if err := s.st.AddSignature(&sig); err != nil && !errors.Is(err, store.ErrAlreadySigned) {
		return n, err
	}
	return n, nil
}

// Signed returns the signature the signer of viewing vw made on slide
// slideID of its link (by this viewing, or by the same contact verified by
// a code), nil when there is none.
func (s *Service) Signed(vw store.Viewing, slideID uint64) (*store.Signature, error) {
	sigs, err := s.st.ShareSignatures(vw.ShareID)
	if err != nil {
		return nil, err
	}
	me := Signer(vw, slideID)
	var found *store.Signature
	for _, sig := range sigs {
		if sig.SameSigner(me) {
			found = &sig
		}
	}
	return found, nil
}

// Signer is what a viewing tells of who signs: the contact it is for
// (verified by a code or picked from the list), the name a visitor gave, or
// nobody.
func Signer(vw store.Viewing, slideID uint64) store.Signature {
	sig := store.Signature{ShareID: vw.ShareID, PresoID: vw.PresoID, ViewingID: vw.ID, SnapshotID: vw.SnapshotID,
		SlideID: slideID, Verification: vw.Verification, ContactID: vw.ContactID, Browser: vw.Browser}
	switch {
	case vw.ContactID != 0:
		sig.ContactName = vw.Name
	case vw.Anonymous:
		sig.Anonymous = true
	default:
		sig.DeclaredName = vw.Name
	}
	if sig.Verified() {
		sig.VerifiedTo = vw.VerifiedTo
	}
	return sig
}

// WithViewing completes a signature stored before it kept the contact: the
// viewing it came from still says whom it was for.
func (s *Service) WithViewing(sig store.Signature) store.Signature {
	if sig.ContactName != "" || sig.DeclaredName != "" || sig.Anonymous {
		return sig
	}
	vw, err := s.st.Viewing(sig.ViewingID)
	if err != nil {
		return sig
	}
	from := Signer(vw, sig.SlideID)
	sig.ContactID, sig.ContactName, sig.DeclaredName, sig.Anonymous = from.ContactID, from.ContactName, from.DeclaredName, from.Anonymous
	if sig.Verified() && sig.VerifiedTo == "" {
		sig.VerifiedTo = from.VerifiedTo
	}
	return sig
}

// Signature returns signature id, made on preso p (ErrNotFound otherwise),
// completed from its viewing.
func (s *Service) Signature(p store.Preso, id uint64) (store.Signature, error) {
	sig, err := s.st.Signature(id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && sig.PresoID != p.ID) {
		return sig, ErrNotFound
	} else if err != nil {
		return sig, err
	}
	return s.WithViewing(sig), nil
}

// Mismatch says how a signature's typed name differs from the name of the
// contact its viewing was for: NameOK when it does not (or there is no
// contact), NameDiffersVerified when a code verified that contact, and
// NameDiffersPicked when the name was only picked from the list.
type Mismatch int

// The mismatches of a typed name.
const (
	NameOK Mismatch = iota
	NameDiffersVerified
	NameDiffersPicked
)

// NameMismatch says whether, and how, sig's typed name differs from its contact's.
func NameMismatch(sig store.Signature) Mismatch {
	switch {
	case !sig.NameDiffers():
		return NameOK
	case sig.Verified():
		return NameDiffersVerified
	}
	return NameDiffersPicked
}
