// Package preso holds the rules of presos: slide presentations a
// practitioner prepares for their clients (the preso's contacts) and shares
// through the share engine (package share) as links of kind "preso". It
// knows nothing of HTTP: handlers read the request, call a Service method
// and render what it returns.
//
// What it decides:
//   - who may edit a preso (its owner, and every owner and admin; templates
//     are the owners' and admins'), and every change to one: title, contacts,
//     hand-over, slides and their order, inclusion and images, visibility;
//   - what a link shows and who may open it: the snapshot of the included
//     slides, the contacts as recipients, the audience of a link (its contacts
//     still on the preso and not archived, or anyone), Create link, Refresh
//     link, Expire, and what an ended link's purge removes;
//   - a visitor's way in (their name, or a code by text message), their
//     viewing, the time-on-slide beacons credited to it, and signatures;
//   - the numbers: time per slide for each viewing, and the beacon lines.
//
// Time comes from the clock given to New, never from the wall.
package preso

import (
	"errors"
	"slices"
	"time"

	"foyer/share"
	"foyer/store"
)

// MaxSlides is how many slides a preso holds.
const MaxSlides = 200

// Errors of the package; handlers turn them into answers.
var (
	// ErrNotFound: no such preso (or slide, or link), or not the editor's to see.
	ErrNotFound = errors.New("preso: not found")
	// ErrStale: the slide was saved since the editor loaded it (another tab, a colleague).
	ErrStale = store.ErrStale
	// ErrOrderChanged: a new order names other slides than the preso has now.
	ErrOrderChanged = errors.New("preso: the slides changed since the order was read")
	// ErrTooManySlides: the preso has MaxSlides slides already.
	ErrTooManySlides = errors.New("preso: too many slides")
	// ErrNoContacts: a link (or "contacts only") needs at least one contact.
	ErrNoContacts = errors.New("preso: no contact")
	// ErrNoMobiles: "contacts only" needs every contact to have a mobile for the code.
	ErrNoMobiles = errors.New("preso: a contact has no mobile")
	// ErrNoSlides: a link needs at least one included slide.
	ErrNoSlides = errors.New("preso: no slide to show")
	// ErrNotColleague: a preso is handed over only to an active staff member.
	ErrNotColleague = errors.New("preso: not an active colleague")
)

// Editor is the staff member acting on presos.
type Editor struct {
	ID uint64
	// Admin is an owner or an admin, who may open every preso and the templates.
	Admin bool
}

// MayEdit reports whether e may open and change p: a preso is its owner's,
// and every owner's and admin's; a template is the owners' and admins'.
func MayEdit(e Editor, p store.Preso) bool {
	if e.Admin {
		return true
	}
	return !p.Template && p.OwnerID == e.ID
}

// Service runs presos over the store and the share engine.
type Service struct {
	st     *store.Store
	shares *share.Engine
	now    func() time.Time
}

// New returns the presos of st, shared through shares, with the clock now.
// The engine learns of presos through Audience and Purge, which the caller
// registers (share.Engine.OnAudience, OnPurge).
func New(st *store.Store, shares *share.Engine, now func() time.Time) *Service {
	return &Service{st: st, shares: shares, now: now}
}

// Get loads preso id for e; ErrNotFound when it does not exist or e may not
// open it (a practitioner cannot learn that another's preso exists).
func (s *Service) Get(e Editor, id uint64) (store.Preso, error) {
	p, err := s.st.Preso(id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !MayEdit(e, p)) {
		return store.Preso{}, ErrNotFound
	}
	return p, err
}

// List returns the presos e may open (their own; everyone's for owners and
// admins) and the practice's templates, most recently changed first.
func (s *Service) List(e Editor) (presos, templates []store.Preso, err error) {
	f := store.PresoFilter{}
	if !e.Admin {
		f.OwnerID = e.ID
	}
	if presos, err = s.st.ListPresos(f); err != nil {
		return nil, nil, err
	}
	templates, err = s.Templates()
	return presos, templates, err
}

// Templates returns the practice's templates, most recently changed first.
func (s *Service) Templates() ([]store.Preso, error) {
	return s.st.ListPresos(store.PresoFilter{Templates: true})
}

// Draft is what a new preso is made from.
type Draft struct {
	// Title, when not empty, names it (else the template's title, else Untitled).
	Title string
	// Template is the template to start from, 0 for a blank preso.
	Template uint64
	// Contact is a client the caller may see, made its first contact (0: none).
	Contact uint64
	// AsTemplate makes a practice template instead (owners and admins only).
	AsTemplate bool
	// Untitled and FirstSlide are the words, in the editor's language, of a
	// preso without a title and of the first slide of a blank one.
	Untitled, FirstSlide string
}

// Create makes a preso owned by e, blank or from a template. A template is
// made only by an owner or admin (AsTemplate is ignored otherwise) and has
// no contacts; a preso starts open to anyone with its link.
func (s *Service) Create(e Editor, d Draft) (store.Preso, error) {
	asTemplate := d.AsTemplate && e.Admin
	p := store.Preso{OwnerID: e.ID, Template: asTemplate, CreatedAt: s.now().UTC(), Visibility: store.VisibilityAnyone}
	if d.Template != 0 {
		t, err := s.st.Preso(d.Template)
		if errors.Is(err, store.ErrNotFound) || (err == nil && !t.Template) {
			return p, ErrNotFound
		} else if err != nil {
			return p, err
		}
		p.Title, p.Slides, p.NextSlideID = t.Title, t.Slides, t.NextSlideID
		for i := range p.Slides {
			p.Slides[i].Rev = 1
		}
	}
	if d.Title != "" {
		p.Title = d.Title
	}
	if p.Title == "" {
		p.Title = d.Untitled
	}
	if d.Contact != 0 && !asTemplate {
		p.ContactIDs = []uint64{d.Contact}
	}
	if len(p.Slides) == 0 {
		p.AddSlide(store.Slide{Kind: store.SlideContent, Title: d.FirstSlide})
	}
	return p, s.st.CreatePreso(&p, e.ID)
}

// change applies fn to preso id in one write transaction, checked again
// against e inside it (a hand-over may have happened since the page was
// read). content says whether the change alters what a link shows: the
// preso's links then become out of date.
func (s *Service) change(e Editor, id uint64, content bool, fn func(p *store.Preso) ([]store.PresoEvent, error)) (store.Preso, error) {
	p, err := s.st.UpdatePreso(id, s.now().UTC(), func(p *store.Preso) ([]store.PresoEvent, error) {
		if !MayEdit(e, *p) {
			return nil, ErrNotFound
		}
		events, err := fn(p)
		if err == nil && content {
			p.Content++
		}
		return events, err
	})
	if errors.Is(err, store.ErrNotFound) {
		return p, ErrNotFound
	}
	return p, err
}

// Rename gives preso id a new title.
func (s *Service) Rename(e Editor, id uint64, title string) (store.Preso, error) {
	return s.change(e, id, true, func(p *store.Preso) ([]store.PresoEvent, error) {
		p.Title = title
		return nil, nil
	})
}

// AddContact makes a client (one the caller may see) a contact of preso id.
func (s *Service) AddContact(e Editor, id, clientID uint64) (store.Preso, error) {
	return s.change(e, id, false, func(p *store.Preso) ([]store.PresoEvent, error) {
		if p.Template {
			return nil, ErrNotFound
		}
		if !p.HasContact(clientID) {
			p.ContactIDs = append(p.ContactIDs, clientID)
		}
		return nil, nil
	})
}

// RemoveContact takes a client off preso id's contacts: from now on, its
// links no longer let them in (see Audience). Without contacts left, a preso
// "contacts only" becomes open to anyone with its link, for its next link.
func (s *Service) RemoveContact(e Editor, id, clientID uint64) (store.Preso, error) {
	return s.change(e, id, false, func(p *store.Preso) ([]store.PresoEvent, error) {
		p.ContactIDs = slices.DeleteFunc(p.ContactIDs, func(c uint64) bool { return c == clientID })
		if len(p.ContactIDs) == 0 && p.Visibility == store.VisibilityContacts {
			p.Visibility = store.VisibilityAnyone
		}
		return nil, nil
	})
}

// HandOver gives preso id to a colleague (an active staff member); the
// activity says who gave it to whom. A template belongs to nobody.
func (s *Service) HandOver(e Editor, id uint64, to store.Staff) (store.Preso, error) {
	if !to.Active {
		return store.Preso{}, ErrNotColleague
	}
	return s.change(e, id, false, func(p *store.Preso) ([]store.PresoEvent, error) {
		if p.Template {
			return nil, ErrNotFound
		}
		p.OwnerID = to.ID
		return []store.PresoEvent{{At: s.now().UTC(), Kind: "handed_over", StaffID: e.ID, OtherID: to.ID}}, nil
	})
}

// AddSlide appends a slide of kind (content unless signing) titled title; it
// returns the preso and the new slide's ID.
func (s *Service) AddSlide(e Editor, id uint64, kind store.SlideKind, title string) (store.Preso, uint64, error) {
	if kind != store.SlideSigning {
		kind = store.SlideContent
	}
	var sid uint64
	p, err := s.change(e, id, true, func(p *store.Preso) ([]store.PresoEvent, error) {
		if len(p.Slides) >= MaxSlides {
			return nil, ErrTooManySlides
		}
		sid = p.AddSlide(store.Slide{Kind: kind, Title: title}).ID
		return nil, nil
	})
	return p, sid, err
}

// MoveSlide moves a slide one place up or down (at an end, it stays).
func (s *Service) MoveSlide(e Editor, id, sid uint64, up bool) (store.Preso, error) {
	return s.change(e, id, true, func(p *store.Preso) ([]store.PresoEvent, error) {
		_, i := p.Slide(sid)
		if i < 0 {
			return nil, ErrNotFound
		}
		j := i + 1
		if up {
			j = i - 1
		}
		if j >= 0 && j < len(p.Slides) {
			p.Slides[i], p.Slides[j] = p.Slides[j], p.Slides[i]
		}
		return nil, nil
	})
}

// Reorder puts the slides in the order of ids (the drag and drop of the
// slide list), which must name every slide once: ErrOrderChanged otherwise.
func (s *Service) Reorder(e Editor, id uint64, ids []uint64) (store.Preso, error) {
	return s.change(e, id, true, func(p *store.Preso) ([]store.PresoEvent, error) {
		if len(ids) != len(p.Slides) {
			return nil, ErrOrderChanged
		}
		out := make([]store.Slide, 0, len(ids))
		for _, sid := range ids {
			sl, _ := p.Slide(sid)
			if sl == nil || slices.ContainsFunc(out, func(o store.Slide) bool { return o.ID == sid }) {
				return nil, ErrOrderChanged
			}
			out = append(out, *sl)
		}
		p.Slides = out
		return nil, nil
	})
}

// ToggleSlide leaves a slide out of the preso's links, or puts it back.
func (s *Service) ToggleSlide(e Editor, id, sid uint64) (store.Preso, error) {
	return s.change(e, id, true, func(p *store.Preso) ([]store.PresoEvent, error) {
		sl, _ := p.Slide(sid)
		if sl == nil {
			return nil, ErrNotFound
		}
		sl.Excluded = !sl.Excluded
		return nil, nil
	})
}

// DeleteSlide removes a slide.
func (s *Service) DeleteSlide(e Editor, id, sid uint64) (store.Preso, error) {
	return s.change(e, id, true, func(p *store.Preso) ([]store.PresoEvent, error) {
		_, i := p.Slide(sid)
		if i < 0 {
			return nil, ErrNotFound
		}
		p.Slides = slices.Delete(p.Slides, i, i+1)
		return nil, nil
	})
}

// SaveSlide saves a slide's title and text, typed from revision rev: a save
// from an older revision (another tab, a colleague) is refused with ErrStale,
// so the text typed stays with whoever typed it. It returns the slide as saved.
func (s *Service) SaveSlide(e Editor, id, sid, rev uint64, title, body string) (store.Preso, store.Slide, error) {
	var saved store.Slide
	p, err := s.change(e, id, false, func(p *store.Preso) ([]store.PresoEvent, error) {
		sl, _ := p.Slide(sid)
		if sl == nil {
			return nil, ErrNotFound
		}
		if sl.Rev != rev {
			return nil, ErrStale
		}
		if sl.Title != title || sl.Body != body {
			sl.Title, sl.Body = title, body
			sl.Rev++
			p.Content++
		}
		saved = *sl
		return nil, nil
	})
	return p, saved, err
}

// SetSlideImage gives a slide the image stored under digest (of type typ),
// or removes its image when digest is "".
func (s *Service) SetSlideImage(e Editor, id, sid uint64, digest, typ string) (store.Preso, error) {
	if digest == "" {
		typ = ""
	}
	return s.change(e, id, true, func(p *store.Preso) ([]store.PresoEvent, error) {
		sl, _ := p.Slide(sid)
		if sl == nil {
			return nil, ErrNotFound
		}
		sl.Image, sl.ImageType = digest, typ
		sl.Rev++
		return nil, nil
	})
}

// SlideImage returns the bytes of a stored slide image.
func (s *Service) SlideImage(digest string) ([]byte, error) {
	data, err := s.st.SlideImage(digest)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNotFound
	}
	return data, err
}

// SetVisibility sets who may open preso id's next link. "Contacts only"
// needs contacts, each with a mobile for the code (ErrNoContacts,
// ErrNoMobiles), and applies at once to the live links still open to anyone
// (see tighten); tightened says some were. A looser visibility waits for
// Refresh link, since it gives more.
func (s *Service) SetVisibility(e Editor, id uint64, v store.Visibility) (p store.Preso, tightened bool, err error) {
	if v != store.VisibilityAnyone && v != store.VisibilityContacts {
		return p, false, errors.New("preso: unknown visibility")
	}
	if p, err = s.Get(e, id); err != nil {
		return p, false, err
	}
	if v == store.VisibilityContacts {
		recipients, err := s.Recipients(p)
		if err != nil {
			return p, false, err
		}
		if err := needsMobiles(p, recipients); err != nil {
			return p, false, err
		}
	}
	p, err = s.change(e, id, false, func(p *store.Preso) ([]store.PresoEvent, error) {
		if p.Template {
			return nil, ErrNotFound
		}
		p.Visibility = v
		return nil, nil
	})
	if err != nil || v != store.VisibilityContacts {
		return p, false, err
	}
	tightened, err = s.tighten(p)
	return p, tightened, err
}

// needsMobiles is why p cannot be "contacts only" with these recipients.
func needsMobiles(p store.Preso, recipients []store.ShareRecipient) error {
	if len(p.ContactIDs) == 0 {
		return ErrNoContacts
	}
	for _, r := range recipients {
		if len(r.Mobiles) == 0 {
			return ErrNoMobiles
		}
	}
	return nil
}

// tighten applies "contacts only" at once to the preso's live links still
// open to anyone: whoever has the link open, or opens it, proves who they are
// with a code from now on. The slides stay as shared until Refresh link.
func (s *Service) tighten(p store.Preso) (bool, error) {
	shares, err := s.st.SharesOfSubject(store.SharePreso, p.ID)
	if err != nil {
		return false, err
	}
	recipients, err := s.Recipients(p)
	if err != nil {
		return false, err
	}
	tightened := false
	for _, sh := range shares {
		if !sh.Live() || sh.Visibility == store.VisibilityContacts {
			continue
		}
		if _, err := s.shares.Retarget(sh.ID, recipients, store.VisibilityContacts); errors.Is(err, share.ErrEnded) {
			continue
		} else if err != nil {
			return tightened, err
		}
		tightened = true
	}
	return tightened, nil
}

// Delete expires every link of preso id, so a client holding one is told it
// no longer works (and the links' snapshots are purged), then removes the
// preso, its slides and the images nothing else uses. Viewings and
// signatures stay: they are the record of what was seen and signed.
func (s *Service) Delete(e Editor, id uint64) error {
	p, err := s.Get(e, id)
	if err != nil {
		return err
	}
	links, err := s.Links(p.ID)
	if err != nil {
		return err
	}
	for _, sh := range links {
		if _, err := s.shares.Expire(sh.ID, store.ShareEvent{Recipient: -1, StaffID: e.ID}); err != nil && !errors.Is(err, share.ErrEnded) {
			return err
		}
	}
	if err := s.st.DeletePreso(p.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return nil
}

// Activity is one line of a preso's activity, newest first.
type Activity struct {
	store.PresoEvent
	// Signature is the signature a "signed" line is about.
	Signature *store.Signature
}

// Activity returns preso p's activity, newest first; a "signed" line comes
// with its signature (completed from its viewing, see WithViewing).
func (s *Service) Activity(p store.Preso) ([]Activity, error) {
	events, err := s.st.PresoActivity(p.ID)
	if err != nil {
		return nil, err
	}
	out := make([]Activity, 0, len(events))
	for _, ev := range events {
		a := Activity{PresoEvent: ev}
		if ev.Kind == "signed" {
			sig, err := s.st.Signature(ev.OtherID)
			if errors.Is(err, store.ErrNotFound) {
				continue
			} else if err != nil {
				return nil, err
			}
			sig = s.WithViewing(sig)
			a.Signature = &sig
		}
		out = append(out, a)
	}
	return out, nil
}
