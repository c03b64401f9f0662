package preso

import (
	"errors"
	"slices"
	"time"

	"foyer/share"
	"foyer/store"
)

// A preso's links are shares of kind "preso" (package share) whose snapshot
// is one store.Snapshot of the included slides, for the preso's contacts as
// recipients, with the preso's visibility.

// Recipients turns p's contacts into share recipients, with the numbers that
// can receive a code. A contact whose record is gone is left out.
func (s *Service) Recipients(p store.Preso) ([]store.ShareRecipient, error) {
	var out []store.ShareRecipient
	for _, id := range p.ContactIDs {
		cl, err := s.st.Client(id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		} else if err != nil {
			return nil, err
		}
		r := store.ShareRecipient{Name: cl.Name(), Email: cl.Email, Lang: cl.Lang, ClientID: cl.ID}
		for _, ph := range cl.Phones {
			if ph.ReceivesCodes() {
				r.Mobiles = append(r.Mobiles, ph.Number)
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// Shareable says why p cannot be shared with these recipients as it is
// (ErrNoContacts, ErrNoSlides, ErrNoMobiles), nil when it can.
func Shareable(p store.Preso, recipients []store.ShareRecipient) error {
	if len(recipients) == 0 {
		return ErrNoContacts
	}
	if len(p.Included()) == 0 {
		return ErrNoSlides
	}
	if p.Visibility == store.VisibilityContacts {
		for _, r := range recipients {
			if len(r.Mobiles) == 0 {
				return ErrNoMobiles
			}
		}
	}
	return nil
}

// Links returns the links ever made of preso id, newest first.
func (s *Service) Links(id uint64) ([]store.Share, error) {
	all, err := s.st.SharesOfSubject(store.SharePreso, id)
	slices.SortFunc(all, func(a, b store.Share) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return all, err
}

// Link returns link shareID of preso p; ErrNotFound when it is not one of p's.
func (s *Service) Link(p store.Preso, shareID uint64) (store.Share, error) {
	sh, err := s.shares.Get(shareID)
	if errors.Is(err, share.ErrNotFound) || (err == nil && (sh.Kind != store.SharePreso || sh.SubjectID != p.ID)) {
		return store.Share{}, ErrNotFound
	}
	return sh, err
}

// shareable checks that p can be shared as it is now and freezes its
// included slides; it returns the recipients and the snapshot.
func (s *Service) shareable(p store.Preso) ([]store.ShareRecipient, store.Snapshot, error) {
	recipients, err := s.Recipients(p)
	if err != nil {
		return nil, store.Snapshot{}, err
	}
	if err := Shareable(p, recipients); err != nil {
		return nil, store.Snapshot{}, err
	}
	snap, err := s.st.SaveSnapshot(p.ID, s.now().UTC())
	return recipients, snap, err
}

// CreateLink is Create link: a share, living lifetime, of a snapshot of p's
// included slides as they are now, for its contacts and visibility.
func (s *Service) CreateLink(e Editor, p store.Preso, lifetime time.Duration) (store.Share, error) {
	if p.Template || !MayEdit(e, p) {
		return store.Share{}, ErrNotFound
	}
	recipients, snap, err := s.shareable(p)
	if err != nil {
		return store.Share{}, err
	}
	d := share.Draft{Kind: store.SharePreso, SubjectID: p.ID, StaffID: e.ID, Recipients: recipients,
		Visibility: p.Visibility, Snapshot: []uint64{snap.ID}, Lifetime: lifetime}
	if len(p.ContactIDs) > 0 {
		// The client record whose portal and timeline list the link; who may
		// open it is each recipient's own matter (Audience).
		d.ClientID = p.ContactIDs[0]
	}
	sh, _, err := s.shares.Create(d, nil)
	if err != nil {
		return sh, err
	}
	return sh, s.st.AddPresoEvent(p.ID, store.PresoEvent{At: s.now().UTC(), Kind: "shared", StaffID: e.ID, OtherID: sh.ID})
}

// RefreshLink is Refresh link: the same URL shows a new snapshot, for p's
// contacts and visibility as they are now. Whoever is in stays in, in the
// same viewing, while they may still come in (share.Engine.Retarget); the
// activity keeps the old snapshot. share.ErrEnded when the link has ended.
func (s *Service) RefreshLink(e Editor, p store.Preso, shareID uint64) error {
	sh, err := s.Link(p, shareID)
	if err != nil {
		return err
	}
	recipients, snap, err := s.shareable(p)
	if err != nil {
		return err
	}
	if _, err := s.shares.Retarget(sh.ID, recipients, p.Visibility); err != nil {
		return err
	}
	if _, err := s.shares.Refresh(sh.ID, []uint64{snap.ID}, e.ID); err != nil {
		return err
	}
	return s.st.AddPresoEvent(p.ID, store.PresoEvent{At: s.now().UTC(), Kind: "refreshed", StaffID: e.ID, OtherID: sh.ID})
}

// ExpireLink is Expire: the link stops at once, even for a viewer with the
// preso open, and its snapshot's content is removed (Purge).
func (s *Service) ExpireLink(e Editor, p store.Preso, shareID uint64) error {
	sh, err := s.Link(p, shareID)
	if err != nil {
		return err
	}
	if _, err := s.shares.Expire(sh.ID, store.ShareEvent{Recipient: -1, StaffID: e.ID}); err != nil && !errors.Is(err, share.ErrEnded) {
		return err
	}
	return s.st.AddPresoEvent(p.ID, store.PresoEvent{At: s.now().UTC(), Kind: "expired", StaffID: e.ID, OtherID: sh.ID})
}

// OutOfDate reports whether link sh shows less than p would now: other
// slides or content, another visibility, other contacts. A contact's
// numbers are not of it: their codes go to the numbers on their record as
// it is now (share.Current), with or without Refresh link.
func (s *Service) OutOfDate(p store.Preso, sh store.Share) (bool, error) {
	if len(sh.Snapshot) != 1 {
		return true, nil
	}
	snap, err := s.st.Snapshot(sh.Snapshot[0])
	if errors.Is(err, store.ErrNotFound) {
		return true, nil
	} else if err != nil {
		return false, err
	}
	if snap.Content != p.Content || sh.Visibility != p.Visibility {
		return true, nil
	}
	recipients, err := s.Recipients(p)
	if err != nil {
		return false, err
	}
	current := slices.DeleteFunc(slices.Clone(sh.Recipients), func(r store.ShareRecipient) bool { return r.Removed })
	return !slices.EqualFunc(recipients, current, func(a, b store.ShareRecipient) bool {
		return a.ClientID == b.ClientID && a.Name == b.Name && a.Email == b.Email
	}), nil
}

// LinkState is one link of a preso as its sharing box shows it.
type LinkState struct {
	Share store.Share
	// State is the link's state as of now; Live is true while it opens (or
	// is locked, which staff can undo).
	State store.ShareState
	Live  bool
	// Token is the live link's token, for Copy link; "" once it ended.
	Token string
	// Nobody is true for a live link that opens for nobody now: its
	// recipients have all lost access (removed as contacts, archived), as
	// the share engine decides (share.Engine.OpensShare).
	Nobody bool
	// Viewers counts the people who viewed it (People).
	Viewers int
	// Signatures are the signatures made through it, oldest first.
	Signatures []store.Signature
}

// Box is a preso's sharing box: its links, the live one, and whether that
// one is out of date.
type Box struct {
	// Links lists every link of the preso, newest first.
	Links []LinkState
	// Live is the newest link that still opens, nil when none does.
	Live *LinkState
	// OutOfDate: the preso changed since the live link's snapshot.
	OutOfDate bool
}

// Box reads p's sharing box.
func (s *Service) Box(p store.Preso) (Box, error) {
	var b Box
	all, err := s.Links(p.ID)
	if err != nil {
		return b, err
	}
	for _, sh := range all {
		ls := LinkState{Share: sh, State: s.shares.State(sh)}
		ls.Live = ls.State == store.ShareActive || ls.State == store.ShareLocked
		if ls.Live {
			if ls.Token, err = s.shares.Link(sh); err != nil {
				return b, err
			}
			opens, err := s.shares.OpensShare(sh.ID)
			if err != nil {
				return b, err
			}
			ls.Nobody = !opens
		}
		viewings, err := s.st.ShareViewings(sh.ID)
		if err != nil {
			return b, err
		}
		ls.Viewers = People(viewings)
		sigs, err := s.st.ShareSignatures(sh.ID)
		if err != nil {
			return b, err
		}
		for _, sig := range sigs {
			ls.Signatures = append(ls.Signatures, s.WithViewing(sig))
		}
		b.Links = append(b.Links, ls)
	}
	for i := range b.Links {
		if b.Links[i].Live {
			b.Live = &b.Links[i]
			break
		}
	}
	if b.Live != nil {
		if b.OutOfDate, err = s.OutOfDate(p, b.Live.Share); err != nil {
			return b, err
		}
	}
	return b, nil
}

// Purge removes what an ended link holds (the share engine calls it once
// the link ended): its snapshot's slides, text and images, leaving their
// titles for the numbers (store.OutlineSnapshot). Signatures keep the
// snapshot's SHA-256, which is what the certificate states.
func (s *Service) Purge(sh store.Share) error {
	for _, id := range sh.Snapshot {
		if err := s.st.OutlineSnapshot(id); err != nil {
			return err
		}
	}
	return nil
}

// SnapshotGrace is how old a snapshot no link shows must be before it is
// removed: each is saved a moment before the link that shows it is made or
// refreshed, in another transaction.
const SnapshotGrace = time.Hour

// SweepSnapshots removes what no link shows any more: a snapshot Refresh
// link replaced, one an ended link left, one a crash left between its saving
// and its link's. One a viewing was of keeps its outline, as a link's purge
// leaves it (the numbers name its slides); one no viewing was of goes
// whole; one someone signed stays whole, the record of what they signed. It returns how many snapshots lost their content or went. The
// periodic job runs it, never a request.
func (s *Service) SweepSnapshots() (int, error) {
	uses, err := s.st.SnapshotUses()
	if err != nil {
		return 0, err
	}
	now, n := s.now(), 0
	for _, u := range uses {
		if u.Shown || u.Signed || now.Sub(u.CreatedAt) < SnapshotGrace {
			continue
		}
		switch {
		case !u.Viewed:
			err = s.st.DeleteSnapshot(u.ID)
		case !u.Outline:
			err = s.st.OutlineSnapshot(u.ID)
		default:
			continue
		}
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// Audience is who may open a preso's link (the share engine asks on every
// request, and again in the write that lets a visitor in): each recipient
// who is still a contact of the preso and whose client record is not
// archived. Removing a contact, or archiving their record, ends their access
// at once; the other contacts keep theirs. Where anyone with the link may
// come in, others may too, while a contact still may (see share.Audience).
func (s *Service) Audience(sh store.Share, r store.LinkTx) (share.Audience, error) {
	ids := make([]uint64, len(sh.Recipients))
	for i, rc := range sh.Recipients {
		ids[i] = rc.ClientID
	}
	contact, err := r.PresoContacts(sh.SubjectID, ids)
	if err != nil {
		return share.Audience{}, err
	}
	archived, err := r.ClientsArchived(ids)
	if err != nil {
		return share.Audience{}, err
	}
	for i := range contact {
		contact[i] = contact[i] && !archived[i]
	}
	return share.Audience{Allowed: contact}, nil
}
