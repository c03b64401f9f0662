package share

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"foyer/auth"
	"foyer/store"
)

// The rules of every share. The code lifetime and the share lifetime are
// practice settings passed in by the caller; the rest is fixed here.
const (
	// DefaultLifetime is how long a share lives unless the practice says otherwise.
	DefaultLifetime = 20 * 24 * time.Hour
	// DefaultCodeTTL is how long a security code is valid unless the practice says otherwise.
	DefaultCodeTTL = 10 * time.Minute
	// MinCodeTTL and MaxCodeTTL bound the practice setting.
	MinCodeTTL = 5 * time.Minute
	MaxCodeTTL = 15 * time.Minute
	// MaxTries wrong entries for a person void the codes waiting for them,
	// whoever made them and from wherever: a code is six digits, and each
	// wrong entry is one more guess at it.
	MaxTries = 5
	// ResendEvery is the least time between two codes to one number or
	// address: it spares the person a burst of messages.
	ResendEvery = time.Minute
	// MaxSendsPerHour codes at most go to one number or address within an
	// hour: what someone holding the link can make a person's phone receive
	// (and the practice pay for).
	MaxSendsPerHour = 5
	// MaxSendsPerLinkPerHour codes at most go to one number or address
	// through one link within an hour: someone holding one of a person's
	// links (forwarded, or read over a shoulder) uses up only part of that
	// number's MaxSendsPerHour, and the person still gets codes through
	// their other links.
	MaxSendsPerLinkPerHour = 3
	// MaxFailures wrong codes over a share's life lock it (NIST SP 800-63B §5.2.2: at most 100).
	MaxFailures = 100
	// SessionIdle ends a verified session after this long without a request.
	SessionIdle = 30 * time.Minute
	// ReminderLead is how long before the expiry an undownloaded share's recipient is reminded.
	ReminderLead = 48 * time.Hour
)

// The event types of a share's activity.
const (
	EventSent        = "sent"
	EventCodeSent    = "code_sent"
	EventCodeWrong   = "code_wrong"
	EventVerified    = "verified"
	EventIdentified  = "identified"
	EventAnonymous   = "anonymous"
	EventViewed      = "viewed"
	EventDownloaded  = "downloaded"
	EventDeleted     = "deleted"
	EventExpired     = "expired"
	EventExpiredNow  = "expired_now"     // by staff
	EventNotMe       = "not_me"          // "This wasn't me", by the recipient
	EventArchived    = "client_archived" // ended because staff archived the client
	EventExtended    = "extended"
	EventRevoked     = "revoked" // replaced by a new share (Send again)
	EventLocked      = "locked"
	EventUnlocked    = "unlocked"
	EventRefreshed   = "refreshed"
	EventReminded    = "reminded"
	EventPurged      = "purged"
	EventSentAgainOf = "sent_again" // on the new share: made from an older one
	// EventOpened: the link's first page was shown (a GET: a person, or a
	// mail scanner); it counts as no view, but the signing certificate
	// tells it.
	EventOpened = "opened"
)

// EventDownloadedPortal is a download by the client signed in to the
// portal, not through the link.
const EventDownloadedPortal = "downloaded_portal"

// Errors of the engine.
var (
	// ErrNotFound: no share has this token or ID.
	ErrNotFound = errors.New("share: not found")
	// ErrEnded: the share expired, was revoked or its content deleted; see its State.
	ErrEnded = errors.New("share: no longer active")
	// ErrLocked: too many wrong codes; staff must unlock the share.
	ErrLocked = errors.New("share: locked")
	// ErrTooSoon: a code went out less than ResendEvery ago.
	ErrTooSoon = errors.New("share: a code went to this number less than a minute ago")
	// ErrTooMany: MaxSendsPerHour codes went out within the hour.
	ErrTooMany = errors.New("share: too many codes to this number this hour")
	// ErrTooManyHere: MaxSendsPerLinkPerHour codes went out through this
	// link within the hour.
	ErrTooManyHere = errors.New("share: too many codes to this number through this link this hour")
	// ErrNoSession: the visitor has no live verified session for this share.
	ErrNoSession = errors.New("share: not verified")
	// ErrBadTarget: the code was asked for a number or address the recipient does not have.
	ErrBadTarget = errors.New("share: no such recipient or number")
	// ErrRefused: the recipient may no longer come in (the audience of the
	// share's kind left them out: an archived client, a removed contact).
	ErrRefused = errors.New("share: this recipient may no longer open the link")
)

// Engine runs shares over the store; it knows nothing of HTTP.
type Engine struct {
	// purgeMu keeps SendAgain (which takes over a share's content) and a purge apart.
	purgeMu   sync.Mutex
	st        *store.Store
	now       func() time.Time
	purgers   map[store.ShareKind]Purger
	audiences map[store.ShareKind]AudienceFunc
	// links keeps what admission read of the links visited lately.
	links linkCache
}

// Purger removes from the store what a share of its kind held (its files, its
// snapshot). It is called once, after the share ended.
type Purger func(sh store.Share) error

// New returns an engine over st with the clock now. Documents, the engine's
// own kind, have their audience already (FilesAudience); other kinds are
// told of with OnAudience and OnPurge.
func New(st *store.Store, now func() time.Time) *Engine {
	return &Engine{st: st, now: now, purgers: map[store.ShareKind]Purger{},
		audiences: map[store.ShareKind]AudienceFunc{store.ShareFiles: FilesAudience}}
}

// OnPurge sets how shares of a kind have their content removed.
func (e *Engine) OnPurge(kind store.ShareKind, p Purger) { e.purgers[kind] = p }

// Draft is what a new share is made of.
type Draft struct {
	Kind       store.ShareKind
	SubjectID  uint64
	ClientID   uint64
	StaffID    uint64
	Recipients []store.ShareRecipient
	Visibility store.Visibility
	Message    string
	Snapshot   []uint64
	// Lifetime is the practice's share lifetime (DefaultLifetime when zero).
	Lifetime time.Duration
	// Summary says what the share holds (file names, a preso's title) in its
	// "sent" event, so the history still says it once the content is purged.
	Summary string
}

// Compose renders the message announcing a share, given its link token. It is
// called before the write transaction, so rendering never holds the store.
type Compose func(sh store.Share, token string) ([]*store.Message, error)

// Create makes a share, records it as sent and queues the messages compose
// returns (the email with the link) in the same transaction. It returns the
// share and the link's token, which is stored only hashed and sealed.
func (e *Engine) Create(d Draft, compose Compose) (store.Share, string, error) {
	return e.create(d, compose, store.ShareEvent{Type: EventSent, Recipient: -1, StaffID: d.StaffID, Detail: d.Summary})
}

func (e *Engine) create(d Draft, compose Compose, first store.ShareEvent) (store.Share, string, error) {
	if len(d.Recipients) == 0 {
		return store.Share{}, "", errors.New("share: no recipient")
	}
	if d.Lifetime <= 0 {
		d.Lifetime = DefaultLifetime
	}
	if d.Visibility == "" {
		d.Visibility = store.VisibilityContacts
	}
	now := e.now().UTC()
	sh := store.Share{Kind: d.Kind, SubjectID: d.SubjectID, ClientID: d.ClientID, StaffID: d.StaffID,
		Recipients: d.Recipients, Visibility: d.Visibility, Message: d.Message, Snapshot: d.Snapshot,
		State: store.ShareActive, CreatedAt: now, ExpiresAt: now.Add(d.Lifetime)}
	token := auth.NewToken()
	var msgs []*store.Message
	if compose != nil {
		var err error
		if msgs, err = compose(sh, token); err != nil {
			return store.Share{}, "", err
		}
	}
	first.At = now
	if err := e.st.CreateShare(&sh, token, []store.ShareEvent{first}, msgs); err != nil {
		return store.Share{}, "", err
	}
	return sh, token, nil
}

// State is a share's state as of now: a live share past its expiry reads as
// expired even before the housekeeping job has marked it.
func (e *Engine) State(sh store.Share) store.ShareState {
	if sh.Live() && !e.now().Before(sh.ExpiresAt) {
		return store.ShareExpired
	}
	return sh.State
}

// Usable is the check of a share's state every use makes (Admit first): nil,
// ErrEnded or ErrLocked.
func (e *Engine) Usable(sh store.Share) error {
	switch e.State(sh) {
	case store.ShareActive:
		return nil
	case store.ShareLocked:
		return ErrLocked
	default:
		return ErrEnded
	}
}

// Get loads a share by ID for staff and portal pages (no state check),
// its recipients' numbers as they are now (Current): a page shows, and
// Send again starts from, the numbers codes go to, not those a lost phone
// had when the link was made.
func (e *Engine) Get(id uint64) (store.Share, error) {
	var out store.Share
	err := e.st.ReadShare(id, func(sh store.Share, r store.LinkTx) (err error) {
		out, err = current(sh, r)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return out, ErrNotFound
	}
	return out, err
}

// CurrentLive gives the shares of a list that may still be opened their
// recipients' numbers as they are now (Current), in one read: a link that
// ended keeps the numbers it had.
func (e *Engine) CurrentLive(shares []store.Share) error {
	return e.st.ReadLinks(func(r store.LinkTx) error {
		for i := range shares {
			if st := e.State(shares[i]); st != store.ShareActive && st != store.ShareLocked {
				continue
			}
			var err error
			if shares[i], err = current(shares[i], r); err != nil {
				return err
			}
		}
		return nil
	})
}

// Link returns the token of a share's link, for Copy link.
func (e *Engine) Link(sh store.Share) (string, error) {
	return e.st.Unseal(sh.TokenSealed)
}

// Events returns a share's activity, oldest first.
func (e *Engine) Events(id uint64) ([]store.ShareEvent, error) { return e.st.ShareEvents(id) }

// Record adds an event to a share's activity, stamped now.
func (e *Engine) Record(id uint64, ev store.ShareEvent) error {
	ev.At = e.now().UTC()
	return e.st.AddShareEvent(id, ev)
}

// Downloaded records that something behind the link was downloaded (or viewed)
// and reports whether it was the first time, for the staff notification.
func (e *Engine) Downloaded(id uint64, ev store.ShareEvent) (first bool, err error) {
	ev.At = e.now().UTC()
	_, err = e.st.ChangeShare(id, func(ch *store.ShareChange) error {
		if ch.Share.FirstDownloadAt.IsZero() {
			ch.Share.FirstDownloadAt, first = ev.At, true
		}
		ch.Events = append(ch.Events, ev)
		return nil
	})
	return first, err
}

// change applies fn to a live share and records ev; ErrEnded when it has ended.
func (e *Engine) change(id uint64, fn func(ch *store.ShareChange) error) (store.Share, error) {
	sh, err := e.st.ChangeShare(id, fn)
	if errors.Is(err, store.ErrNotFound) {
		return sh, ErrNotFound
	}
	return sh, err
}

// end stops a live share with the given state and event, and ends every
// session on it, in one write; what it held is purged by the caller (see
// Expire). ErrEnded when it had ended already.
func (e *Engine) end(id uint64, state store.ShareState, ev store.ShareEvent) (store.Share, error) {
	now := e.now().UTC()
	ev.At = now
	return e.change(id, func(ch *store.ShareChange) error {
		if !ch.Share.Live() {
			return ErrEnded
		}
		ch.Share.State, ch.Share.EndedAt = state, now
		ch.Share.SessionEpoch++
		ch.Code.Waiting = nil
		ch.Events = append(ch.Events, ev)
		return nil
	})
}

// Expire ends a share at once — by staff (Expire now, a preso deleted, a
// client archived) or by its recipient ("This wasn't me") — and purges what
// it held: the bytes leave the store now, not at the next sweep.
func (e *Engine) Expire(id uint64, ev store.ShareEvent) (store.Share, error) {
	if ev.Type == "" {
		ev.Type = EventExpiredNow
	}
	sh, err := e.end(id, store.ShareExpired, ev)
	if err != nil {
		return sh, err
	}
	return sh, e.purge(sh)
}

// DeleteContent is the recipient's "Delete these documents": the share ends and
// its content leaves the store at once.
func (e *Engine) DeleteContent(id uint64, ev store.ShareEvent) (store.Share, error) {
	ev.Type = EventDeleted
	sh, err := e.end(id, store.ShareDeleted, ev)
	if err != nil {
		return sh, err
	}
	return sh, e.purge(sh)
}

// ExtendDays are the lengths Extend offers, in days, beside the practice's
// link lifetime.
var ExtendDays = []int{7, 20, 90}

// MaxAhead is the furthest ahead a link's expiry may be put: extending
// again and again never keeps a client's documents for longer than the
// longest lifetime the practice could choose.
const MaxAhead = 90 * 24 * time.Hour

// ExtendChoices lists, shortest first, the days Extend offers: ExtendDays
// and the practice's link lifetime.
func ExtendChoices(lifetime time.Duration) []int {
	days := slices.Clone(ExtendDays)
	if d := int(lifetime / (24 * time.Hour)); d > 0 && !slices.Contains(days, d) {
		days = append(days, d)
	}
	slices.Sort(days)
	return days
}

// ErrBadExtension: an extension that is not one of ExtendChoices.
var ErrBadExtension = errors.New("share: not an extension offered")

// ErrAtLongest: the share already expires as late as a link may (MaxAhead
// from now, to the minute): an extension would change nothing.
var ErrAtLongest = errors.New("share: already at its longest")

// Extend adds days (one of ExtendChoices(lifetime)) to a live share's
// expiry: two minutes after sending, 20 days more mean 20 days and two
// minutes from now. The expiry is never put more than MaxAhead from now; a
// share already there is left as it is, with nothing recorded (its history,
// which its recipient reads too, says only what happened), and ErrAtLongest.
func (e *Engine) Extend(id uint64, days int, lifetime time.Duration, staffID uint64) (store.Share, error) {
	if !slices.Contains(ExtendChoices(lifetime), days) {
		return store.Share{}, ErrBadExtension
	}
	now := e.now().UTC()
	return e.change(id, func(ch *store.ShareChange) error {
		if !ch.Share.Live() || ch.Share.Purged || !now.Before(ch.Share.ExpiresAt) {
			return ErrEnded
		}
		expires := ch.Share.ExpiresAt.Add(time.Duration(days) * 24 * time.Hour)
		if limit := now.Add(MaxAhead); expires.After(limit) {
			expires = limit
		}
		// Times are shown to the minute: a later second is no extension.
		if expires.Sub(ch.Share.ExpiresAt) < time.Minute {
			return ErrAtLongest
		}
		ch.Share.ExpiresAt = expires
		ch.Share.RemindedAt = time.Time{}
		ch.Events = append(ch.Events, store.ShareEvent{At: now, Type: EventExtended, Recipient: -1, StaffID: staffID,
			Detail: ch.Share.ExpiresAt.Format(time.RFC3339)})
		return nil
	})
}

// Unlock lets a locked share be used again, with a fresh count of failures.
func (e *Engine) Unlock(id uint64, staffID uint64) (store.Share, error) {
	now := e.now().UTC()
	return e.change(id, func(ch *store.ShareChange) error {
		if ch.Share.State != store.ShareLocked {
			return ErrEnded
		}
		ch.Share.State, ch.Share.Failures = store.ShareActive, 0
		*ch.Code = store.ShareCode{}
		ch.Events = append(ch.Events, store.ShareEvent{At: now, Type: EventUnlocked, Recipient: -1, StaffID: staffID})
		return nil
	})
}

// SendAgain makes a new share (new link) for the same content as an old one,
// with corrected recipients, and revokes the old one: its content now belongs
// to the new share, so the old one's purge leaves it.
func (e *Engine) SendAgain(oldID uint64, d Draft, compose Compose) (store.Share, string, error) {
	old, err := e.Get(oldID)
	if err != nil {
		return old, "", err
	}
	// An ended share whose content is not purged yet can still be sent again.
	e.purgeMu.Lock()
	defer e.purgeMu.Unlock()
	if old.Purged || old.State == store.ShareDeleted {
		return old, "", ErrEnded
	}
	d.Kind, d.SubjectID, d.ClientID, d.Snapshot = old.Kind, old.SubjectID, old.ClientID, old.Snapshot
	if d.Summary == "" {
		if evs, err := e.Events(oldID); err == nil && len(evs) > 0 {
			d.Summary = evs[0].Detail
		}
	}
	if d.Visibility == "" {
		d.Visibility = old.Visibility
	}
	if d.Message == "" {
		d.Message = old.Message
	}
	now := e.now().UTC()
	// The old share gives up its content first: if the new one fails to be made,
	// the content stays with the old (revoked) share and is purged with it.
	if _, err := e.change(oldID, func(ch *store.ShareChange) error {
		if ch.Share.Purged {
			return ErrEnded
		}
		if ch.Share.Live() {
			ch.Share.State, ch.Share.EndedAt = store.ShareRevoked, now
		}
		ch.Share.SessionEpoch++
		ch.Code.Waiting = nil
		ch.Events = append(ch.Events, store.ShareEvent{At: now, Type: EventRevoked, Recipient: -1, StaffID: d.StaffID})
		return nil
	}); err != nil {
		return store.Share{}, "", err
	}
	sh, token, err := e.create(d, compose, store.ShareEvent{Type: EventSentAgainOf, Recipient: -1, StaffID: d.StaffID, Detail: d.Summary})
	if err != nil {
		return sh, "", err
	}
	_, err = e.change(oldID, func(ch *store.ShareChange) error {
		ch.Share.ReplacedBy, ch.Share.Purged = sh.ID, true
		return nil
	})
	return sh, token, err
}

// Refresh points a live share at a new snapshot (same link); the event keeps the old one.
func (e *Engine) Refresh(id uint64, snapshot []uint64, staffID uint64) (store.Share, error) {
	now := e.now().UTC()
	return e.change(id, func(ch *store.ShareChange) error {
		if !ch.Share.Live() {
			return ErrEnded
		}
		ch.Events = append(ch.Events, store.ShareEvent{At: now, Type: EventRefreshed, Recipient: -1, StaffID: staffID,
			Detail: fmt.Sprint(ch.Share.Snapshot)})
		ch.Share.Snapshot = snapshot
		return nil
	})
}
