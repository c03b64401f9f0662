package preso

import (
	"errors"
	"slices"
	"strings"
	"time"

	"foyer/share"
	"foyer/store"
)

// The evidence of a signature: what its certificate states (package
// certificate draws and seals it). Which events of a link belong to a
// signer's audit trail is decided here, and only here.

// StepKind names a line of an audit trail; the certificate's words for it
// are the message "certificate.step_" + kind.
type StepKind string

// The lines of an audit trail.
const (
	StepLinkCreated   StepKind = "link_created"   // by Staff
	StepLinkRefreshed StepKind = "link_refreshed" // by Staff: the link shows a new snapshot
	StepLinkExtended  StepKind = "link_extended"  // by Staff
	StepLinkLocked    StepKind = "link_locked"    // too many wrong codes
	StepLinkUnlocked  StepKind = "link_unlocked"  // by Staff
	StepOpened        StepKind = "opened"         // the link's first page, from Browser
	StepCodeSent      StepKind = "code_sent"      // Channel, To (masked)
	StepCodeWrong     StepKind = "code_wrong"     // a wrong code entered for this recipient, from Browser
	StepVerified      StepKind = "verified"       // the code entered, from Browser
	StepPicked        StepKind = "picked"         // Name picked from the list, without a code
	StepDeclared      StepKind = "declared"       // Name given by a visitor not on the list
	StepAnonymous     StepKind = "anonymous"      // a visitor who gave no name
	StepViewing       StepKind = "viewing"        // the viewing began: Browser, IP
	StepSlide         StepKind = "slide"          // Slide N, Title, shown for Millis, until At
	StepConsent       StepKind = "consent"        // the consent box ticked
	StepSigned        StepKind = "signed"         // the signature made: Browser, IP
)

// Step is one line of a signature's audit trail.
type Step struct {
	At   time.Time
	Kind StepKind
	// Staff is the staff member who acted (link steps).
	Staff string
	// Channel and To say where a code went ("sms", "••• ••• 678").
	Channel, To string
	// Name is the name picked or given.
	Name string
	// Browser and IP are the browser and system, and the address, as recorded.
	Browser, IP string
	// Slide is the place (1-based) of the slide shown, Title its title,
	// Millis the time it was shown.
	Slide  int
	Title  string
	Millis int64
}

// Evidence is what a signing certificate states.
type Evidence struct {
	// Signature is the signature, completed from its viewing.
	Signature store.Signature
	Share     store.Share
	Viewing   store.Viewing
	// Snapshot is what was signed: the slides as they were shown. Its ID is 0
	// when it is gone (a signature made before signed snapshots were kept).
	Snapshot store.Snapshot
	// Title is the preso's title as shown.
	Title string
	Trail []Step
}

// ErrNoEvidence: the signature's viewing or link is gone; no certificate can say more than the signature.
var ErrNoEvidence = errors.New("preso: the signature's viewing or link is gone")

// Evidence gathers the evidence of signature id.
func (s *Service) Evidence(id uint64) (Evidence, error) {
	var ev Evidence
	sig, err := s.st.Signature(id)
	if errors.Is(err, store.ErrNotFound) {
		return ev, ErrNotFound
	} else if err != nil {
		return ev, err
	}
	ev.Signature = s.WithViewing(sig)
	if ev.Share, err = s.st.Share(sig.ShareID); err != nil {
		return ev, errors.Join(ErrNoEvidence, err)
	}
	if ev.Viewing, err = s.st.Viewing(sig.ViewingID); err != nil {
		return ev, errors.Join(ErrNoEvidence, err)
	}
	if ev.Snapshot, err = s.st.Snapshot(sig.SnapshotID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return ev, err
	}
	ev.Title = ev.Snapshot.Title
	if ev.Title == "" {
		if p, err := s.st.Preso(sig.PresoID); err == nil {
			ev.Title = p.Title
		}
	}
	events, err := s.st.ShareEvents(sig.ShareID)
	if err != nil {
		return ev, err
	}
	times, err := s.st.SlideTimes(sig.ViewingID)
	if err != nil {
		return ev, err
	}
	names := map[uint64]string{}
	staff := func(id uint64) string {
		if n, ok := names[id]; ok {
			return n
		}
		st, err := s.st.Staff(id)
		if err == nil {
			names[id] = st.Name
		}
		return names[id]
	}
	ev.Trail = Trail(ev.Signature, ev.Viewing, ev.Snapshot, events, times, staff)
	return ev, nil
}

// entryTypes are the events that let a visitor into a link.
var entryTypes = []string{share.EventIdentified, share.EventAnonymous, share.EventVerified}

// Trail is the audit trail of signature sig, made through viewing vw of
// snapshot snap: in order of time, up to the signature,
//   - what staff did to the link (created, refreshed, extended, unlocked) and
//     its lock;
//   - the signer's way in: the event that began the viewing (a code
//     verified, a name picked or given, or none), and, before it, the codes
//     sent to that same recipient and the wrong codes entered for them since
//     the link last changed or they last came in, and the openings of the
//     link's first page from the same browser;
//   - the viewing's start (browser, address), each slide's time as reported,
//     the consent and the signature.
//
// Other people's events on the same link are left out: a certificate
// speaks of its signer alone. staff names a staff member by ID.
func Trail(sig store.Signature, vw store.Viewing, snap store.Snapshot, events []store.ShareEvent, times []store.SlideTime, staff func(uint64) string) []Step {
	var out []Step
	entry := entryEvent(vw, events)
	// since is when the signer's way in began: after the last change of the
	// link, or the same recipient's previous entry, before their entry.
	var since time.Time
	if entry >= 0 {
		for _, e := range events[:entry] {
			if e.Type == share.EventRefreshed || (e.Type == events[entry].Type && e.Recipient == events[entry].Recipient && e.Recipient >= 0) {
				since = e.At
			}
		}
	}
	for i, e := range events {
		if e.At.After(sig.At) {
			break
		}
		st := Step{At: e.At}
		switch e.Type {
		case share.EventSent:
			st.Kind, st.Staff = StepLinkCreated, staff(e.StaffID)
		case share.EventRefreshed:
			st.Kind, st.Staff = StepLinkRefreshed, staff(e.StaffID)
		case share.EventExtended:
			st.Kind, st.Staff = StepLinkExtended, staff(e.StaffID)
		case share.EventUnlocked:
			st.Kind, st.Staff = StepLinkUnlocked, staff(e.StaffID)
		case share.EventLocked:
			st.Kind = StepLinkLocked
		case share.EventOpened:
			if !sameBrowser(e, vw) || e.At.After(vw.StartedAt) || e.At.Before(since) {
				continue
			}
			st.Kind, st.Browser = StepOpened, browserOf(e)
		case share.EventCodeSent, share.EventCodeWrong:
			if entry < 0 || events[entry].Type != share.EventVerified || e.Recipient != events[entry].Recipient ||
				i > entry || e.At.Before(since) {
				continue
			}
			st.Kind, st.Browser = StepCodeWrong, browserOf(e)
			if e.Type == share.EventCodeSent {
				st.Kind, st.Browser = StepCodeSent, ""
				st.Channel, st.To, _ = strings.Cut(e.Detail, " ")
			}
		case share.EventVerified, share.EventIdentified, share.EventAnonymous:
			if i != entry {
				continue
			}
			st.Browser = browserOf(e)
			switch {
			case e.Type == share.EventVerified:
				st.Kind = StepVerified
				st.Channel, st.To = vw.Verification, vw.VerifiedTo
			case vw.ContactID != 0:
				st.Kind, st.Name = StepPicked, vw.Name
			case e.Type == share.EventIdentified:
				st.Kind, st.Name = StepDeclared, e.Detail
			default:
				st.Kind = StepAnonymous
			}
		default:
			continue
		}
		out = append(out, st)
	}
	out = append(out, Step{At: vw.StartedAt, Kind: StepViewing, Browser: vw.Browser, IP: vw.IP})
	place := map[uint64]int{}
	for i, sl := range snap.Slides {
		place[sl.ID] = i + 1
	}
	for _, t := range times {
		if t.At.After(sig.At) {
			continue
		}
		st := Step{At: t.At, Kind: StepSlide, Slide: place[t.SlideID], Millis: t.Millis}
		if st.Slide > 0 {
			st.Title = snap.Slides[st.Slide-1].Title
		}
		out = append(out, st)
	}
	out = append(out, Step{At: sig.At, Kind: StepConsent}, Step{At: sig.At, Kind: StepSigned, Browser: sig.Browser, IP: sig.IP})
	slices.SortStableFunc(out, func(a, b Step) int { return a.At.Compare(b.At) })
	return out
}

// entryEvent is the index of the event that let vw's visitor in, -1 when
// none is known: the event naming the viewing, or, for a viewing recorded
// before events named theirs, the last entry of the right kind at most two
// seconds before it began.
func entryEvent(vw store.Viewing, events []store.ShareEvent) int {
	for i, e := range events {
		if e.Viewing == vw.ID && slices.Contains(entryTypes, e.Type) {
			return i
		}
	}
	found := -1
	for i, e := range events {
		if e.Viewing != 0 || !slices.Contains(entryTypes, e.Type) || e.At.After(vw.StartedAt) || vw.StartedAt.Sub(e.At) > 2*time.Second {
			continue
		}
		if (e.Type == share.EventVerified) == vw.Verified() {
			found = i
		}
	}
	return found
}

// browserOf is the browser and system of an event's User-Agent.
func browserOf(e store.ShareEvent) string {
	b, os := share.Browser(e.UserAgent)
	return BrowserLine(b + " · " + os)
}

// sameBrowser reports whether event e came from the browser and system vw records.
func sameBrowser(e store.ShareEvent, vw store.Viewing) bool {
	return vw.Browser != "" && browserOf(e) == vw.Browser
}

// LinkSignatures returns the signatures made through link sh, oldest
// first, completed from their viewings (the Numbers page lists them).
func (s *Service) LinkSignatures(sh store.Share) ([]store.Signature, error) {
	sigs, err := s.st.ShareSignatures(sh.ID)
	for i := range sigs {
		sigs[i] = s.WithViewing(sigs[i])
	}
	return sigs, err
}
