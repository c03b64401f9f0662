package preso

import (
	"crypto/subtle"
	"errors"
	"slices"
	"strings"
	"time"

	"foyer/auth"
	"foyer/share"
	"foyer/store"
)

// The visitor's side of a preso's link, behind the share engine's admission
// (share.Engine.Admit): every method takes the share.Visit of the request.

// Errors of a visit.
var (
	// ErrGone: what the link showed is gone (its snapshot outlined or removed): it no longer opens.
	ErrGone = errors.New("preso: the link no longer shows anything")
	// ErrForbidden: a beacon that is not this browser's viewing's, or a viewing
	// of another snapshot: nothing is recorded.
	ErrForbidden = errors.New("preso: not this browser's viewing")
	// ErrBadBeacon: a beacon naming a slide the link does not show.
	ErrBadBeacon = errors.New("preso: no such slide in this link")
)

const (
	// MaxSlideMillis is the most one beacon may report: a tab left open
	// overnight is not attention.
	MaxSlideMillis = int64(time.Hour / time.Millisecond)
)

// Name is a recipient the landing lists: by their index in the share.
type Name struct {
	N    int
	Name string
}

// Names lists the recipients of the visit's link who may still come in, for
// the landing to name.
func Names(v share.Visit) []Name {
	var out []Name
	for i, r := range v.Share.Recipients {
		if v.Audience.Admits(i) {
			out = append(out, Name{N: i, Name: r.Name})
		}
	}
	return out
}

// Title is the title of what the link shows ("" when it shows nothing any more).
func (s *Service) Title(v share.Visit) string {
	if len(v.Share.Snapshot) != 1 {
		return ""
	}
	t, err := s.st.SnapshotTitle(v.Share.Snapshot[0])
	if err != nil {
		return ""
	}
	return t
}

// Target is a mobile a recipient's code may go to, by its place among the
// share engine's targets of that recipient.
type Target struct {
	N int
	share.Target
}

// Mobiles lists where the code of recipient who may go on a "contacts only"
// link: their mobiles. ok is false when who may not come in.
func Mobiles(v share.Visit, who int) (out []Target, ok bool) {
	if who < 0 || !v.Audience.Admits(who) {
		return nil, false
	}
	for i, t := range share.Targets(v.Share, who) {
		if t.Channel == store.ChannelSMS {
			out = append(out, Target{N: i, Target: t})
		}
	}
	return out, true
}

// SendCode sends recipient who a code to their mobile number to (by its
// place among share.Targets; a place that is not a mobile means their first
// mobile), valid ttl, through compose (the text message). It says ErrRefused
// when who may not come in, and the share engine's limits otherwise.
func (s *Service) SendCode(v share.Visit, who, to int, ttl time.Duration, ua string, compose share.ComposeCode) error {
	mobiles, ok := Mobiles(v, who)
	if !ok || len(mobiles) == 0 || v.Share.Visibility == store.VisibilityAnyone {
		return share.ErrRefused
	}
	targets := share.Targets(v.Share, who)
	if to < 0 || to >= len(targets) || targets[to].Channel != store.ChannelSMS {
		to = mobiles[0].N
	}
	_, err := s.shares.IssueCode(v.Share.ID, targets[to], ttl, ua, compose)
	return err
}

// Visitor is what is known of the browser a visitor comes in from.
type Visitor struct {
	UserAgent string
	IP        string
}

// Entry is a visitor let in: their session, and the viewing that records
// what they see.
type Entry struct {
	Session string
	// Viewing is the token of the viewing begun with the session ("" when
	// the link shows nothing to view).
	Viewing string
}

// Enter lets a visitor into a link open to anyone: as recipient who (their
// name picked from the list), or, with who -1, by the name and email they
// gave (none: anonymously). The session and the viewing that keeps the name
// they gave begin in one write. share.ErrRefused when who may not come in.
func (s *Service) Enter(v share.Visit, who int, name, email string, in Visitor) (Entry, error) {
	if who >= 0 {
		name, email = "", ""
	}
	var token string
	sid, err := s.shares.Enter(v.Share.ID, who, given(name, email), in.UserAgent, func(ch *store.ShareChange, e share.Entered) error {
		var err error
		token, err = s.startViewing(ch, e.Recipient, name, email, "none", "", in)
		return err
	})
	return Entry{Session: sid, Viewing: token}, err
}

// given is what a visitor said of themselves, for the history.
func given(name, email string) string {
	if email != "" {
		return name + " <" + email + ">"
	}
	return name
}

// Returning is the viewing the browser coming into link v holds (held, its
// viewing cookie), when it is the same person's: recipient who, or, with
// who -1, someone giving the same name and email again, or none again.
// Such a visitor comes back (Return), into that viewing; it is not a new
// entry. It returns 0 for anyone else.
func (s *Service) Returning(v share.Visit, held string, who int, name, email string) uint64 {
	if len(held) != 43 {
		return 0
	}
	vw, err := s.st.ViewingByToken(held, v.Share.ID)
	switch {
	case err != nil:
		return 0
	case who >= 0 && samePerson(v.Share, who, vw), who < 0 && vw.ContactID == 0 && personKey(vw.Name, vw.Email) == personKey(name, email):
		return vw.ID
	}
	return 0
}

// Return lets a visitor Returning back into link v, in their viewing
// (viewing, whose token back their browser holds): a new session, the same
// viewing, so the numbers go on and no second report is sent; the event
// names the viewing, as the first entry's does. share.ErrRefused when who
// may no longer come in.
func (s *Service) Return(v share.Visit, who int, name, email, back string, viewing uint64, in Visitor) (Entry, error) {
	if who >= 0 {
		name, email = "", ""
	}
	sid, err := s.shares.Enter(v.Share.ID, who, given(name, email), in.UserAgent, func(ch *store.ShareChange, _ share.Entered) error {
		nameViewing(ch, viewing)
		return nil
	})
	if err != nil {
		return Entry{}, err
	}
	return Entry{Session: sid, Viewing: back}, nil
}

// Verify checks the code recipient who entered. When it is right, it is
// used up, and the verified session and the viewing (saying where the code
// went) begin, all in one write. The share.Check says what became of the
// code; share.ErrRefused when the code's recipient may no longer come in.
func (s *Service) Verify(v share.Visit, who int, code string, in Visitor) (share.Check, Entry, error) {
	var token string
	res, err := s.shares.CheckCode(v.Share.ID, who, code, in.UserAgent, func(ch *store.ShareChange, e share.Entered) error {
		to := ""
		if e.Target != "" {
			to = share.Mask(e.Channel, e.Target)
		}
		var err error
		token, err = s.startViewing(ch, e.Recipient, "", "", string(e.Channel), to, in)
		return err
	})
	return res, Entry{Session: res.Session, Viewing: token}, err
}

// startViewing begins, within the change letting a visitor in, the viewing
// of recipient who (-1: someone who named themselves, or nobody), verified
// as verification says ("none", or the channel of the code) at verifiedTo
// (masked). It returns the viewing's token, "" when the link shows nothing.
func (s *Service) startViewing(ch *store.ShareChange, who int, name, email, verification, verifiedTo string, in Visitor) (string, error) {
	sh := ch.Share
	if len(sh.Snapshot) != 1 {
		return "", nil
	}
	vw := viewingOf(*sh, sh.Snapshot[0], who, in, s.now())
	vw.Verification, vw.VerifiedTo = verification, verifiedTo
	if who < 0 {
		vw.Name, vw.Email, vw.Anonymous = name, email, name == ""
	}
	token := auth.NewToken()
	if err := ch.StartViewing(&vw, token); err != nil {
		return "", err
	}
	nameViewing(ch, vw.ID)
	return token, nil
}

// nameViewing has the event that let a visitor in name the viewing they
// are in, for the signing certificate's record of who came in and how.
func nameViewing(ch *store.ShareChange, viewing uint64) {
	for i := range ch.Events {
		if t := ch.Events[i].Type; t == share.EventIdentified || t == share.EventAnonymous || t == share.EventVerified {
			ch.Events[i].Viewing = viewing
		}
	}
}

// viewingOf is a new viewing of snapshot snap of link sh by recipient who
// (-1: nobody on the list, anonymous until they give a name).
func viewingOf(sh store.Share, snap uint64, who int, in Visitor, now time.Time) store.Viewing {
	browser, os := share.Browser(in.UserAgent)
	vw := store.Viewing{ShareID: sh.ID, PresoID: sh.SubjectID, SnapshotID: snap, Verification: "none",
		Browser: BrowserLine(browser + " · " + os), IP: in.IP, StartedAt: now.UTC()}
	if who >= 0 && who < len(sh.Recipients) {
		r := sh.Recipients[who]
		vw.ContactID, vw.Name, vw.Email = r.ClientID, r.Name, r.Email
	} else {
		vw.Anonymous = true
	}
	return vw
}

// BrowserLine is the browser and system a viewing records, without the
// separator left over when one is unknown ("curl 7 ·").
func BrowserLine(s string) string {
	parts := strings.Split(s, "·")
	out := parts[:0]
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, " · ")
}

// Viewer is what an admitted visitor sees: the frozen slides of the link.
// ErrGone when the link no longer shows anything.
func (s *Service) Viewer(v share.Visit) (store.Snapshot, error) {
	if len(v.Share.Snapshot) != 1 {
		return store.Snapshot{}, ErrGone
	}
	snap, err := s.st.Snapshot(v.Share.Snapshot[0])
	if errors.Is(err, store.ErrNotFound) || (err == nil && snap.Outline) {
		return store.Snapshot{}, ErrGone
	}
	return snap, err
}

// Viewing finds the visitor's viewing of this snapshot by the token their
// browser holds, or starts one: the first slide seen after coming in starts
// the record of what was viewed. The viewing held must be the same
// person's; one of the link's earlier snapshot goes on with this one
// (Refresh link keeps whoever was in, in the same viewing). started says a new token was made, for the
// browser to keep.
func (s *Service) Viewing(v share.Visit, snap store.Snapshot, held string, in Visitor) (vw store.Viewing, token string, started bool, err error) {
	who := -1
	if v.Session != nil {
		who = v.Session.Recipient
	}
	if len(held) == 43 {
		vw, err := s.st.ViewingByToken(held, v.Share.ID)
		switch {
		case err == nil && samePerson(v.Share, who, vw):
			if vw.SnapshotID != snap.ID {
				vw.SnapshotID = snap.ID
				err = s.st.MoveViewing(vw.ID, snap.ID)
			}
			return vw, held, false, err
		case err != nil && !errors.Is(err, store.ErrNotLive):
			return vw, "", false, err
		}
	}
	vw = viewingOf(v.Share, snap.ID, who, in, s.now())
	if v.Share.Visibility == store.VisibilityContacts {
		vw.Verification = "sms"
	}
	token = auth.NewToken()
	if err := s.st.StartViewing(&vw, token); err != nil {
		return vw, "", false, err
	}
	return vw, token, true, nil
}

// LateBeacon credits the time on the slide a viewer had open when link sh
// ended (it expired, or staff expired it), up to the end and no further: the
// viewer's page reports it when they leave the slide, after the end. The
// posted viewing token must be the one this browser holds (held), of a
// viewing begun by the end, and the slide one it was shown. ErrForbidden
// and ErrBadBeacon say why nothing was recorded.
func (s *Service) LateBeacon(sh store.Share, held, posted string, slideID uint64, ms int64) error {
	if len(posted) != 43 || ms < 0 {
		return ErrBadBeacon
	}
	ms = min(ms, MaxSlideMillis)
	if subtle.ConstantTimeCompare([]byte(held), []byte(posted)) != 1 {
		return ErrForbidden
	}
	if st := s.shares.State(sh); st == store.ShareActive || st == store.ShareLocked {
		return ErrForbidden // not ended: a beacon of a live link goes through Beacon
	}
	end := sh.EndedAt
	if end.IsZero() || sh.ExpiresAt.Before(end) {
		end = sh.ExpiresAt
	}
	if end.After(s.now()) {
		return ErrForbidden // ended without saying when: nothing to count up to
	}
	vw, err := s.st.ViewingByToken(posted, sh.ID)
	if errors.Is(err, store.ErrNotLive) || (err == nil && vw.StartedAt.After(end)) {
		return ErrForbidden
	} else if err != nil {
		return err
	}
	snap, err := s.st.Snapshot(vw.SnapshotID)
	if errors.Is(err, store.ErrNotFound) {
		return ErrForbidden
	} else if err != nil {
		return err
	}
	if !slices.ContainsFunc(snap.Slides, func(sl store.Slide) bool { return sl.ID == slideID }) {
		return ErrBadBeacon
	}
	at := s.now().UTC()
	if end.Before(at) {
		at = end
	}
	_, err = s.st.RecordBeacon(store.Beacon{Token: posted, ShareID: sh.ID, SlideID: slideID, Millis: ms, At: at})
	if errors.Is(err, store.ErrNotLive) {
		return ErrForbidden
	}
	return err
}

// samePerson reports whether viewing vw of link sh is recipient who's (-1:
// someone not on the list, whose viewing names no contact).
func samePerson(sh store.Share, who int, vw store.Viewing) bool {
	if who < 0 || who >= len(sh.Recipients) {
		return who < 0 && vw.ContactID == 0
	}
	return vw.ContactID == sh.Recipients[who].ClientID
}

// Beacon credits time on a slide to this browser's viewing. The visit is
// admitted (the share engine let this browser's session in); on top of it
// the posted viewing token must be the one this browser holds for the link
// (held, from its cookie), so a token read off someone else's page is worth
// nothing without their cookies, and the slide must be one the link shows.
// The store bounds the credit by the clock (store.RecordBeacon). ErrForbidden
// and ErrBadBeacon say why nothing was recorded.
func (s *Service) Beacon(v share.Visit, snap store.Snapshot, held, posted string, slideID uint64, ms int64) error {
	if len(posted) != 43 || ms < 0 {
		return ErrBadBeacon
	}
	ms = min(ms, MaxSlideMillis)
	if subtle.ConstantTimeCompare([]byte(held), []byte(posted)) != 1 {
		return ErrForbidden
	}
	vw, err := s.st.ViewingByToken(posted, v.Share.ID)
	if errors.Is(err, store.ErrNotLive) {
		return ErrForbidden
	} else if err != nil {
		return err
	}
	if vw.SnapshotID != snap.ID {
		// The page was of the link's earlier snapshot (Refresh link since):
		// its viewer's viewing goes on with this one, another's does not.
		if v.Session == nil || !samePerson(v.Share, v.Session.Recipient, vw) {
			return ErrForbidden
		}
		if err := s.st.MoveViewing(vw.ID, snap.ID); err != nil {
			return err
		}
	}
	known := false
	for _, sl := range snap.Slides {
		known = known || sl.ID == slideID
	}
	if !known {
		return ErrBadBeacon
	}
	_, err = s.st.RecordBeacon(store.Beacon{Token: posted, ShareID: v.Share.ID, SlideID: slideID, Millis: ms, At: s.now().UTC()})
	if errors.Is(err, store.ErrNotLive) {
		return ErrForbidden
	}
	return err
}

// Opened records that the link's first page was shown to a browser with
// this User-Agent, for the audit trail of a signature made through it
// (package certificate). It is no view and sends nothing: mail scanners
// open links too.
func (s *Service) Opened(v share.Visit, ua string) error {
	return s.shares.Record(v.Share.ID, store.ShareEvent{At: s.now().UTC(), Type: share.EventOpened, Recipient: -1, UserAgent: ua})
}
