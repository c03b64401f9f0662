package share

import (
	"crypto/hmac"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"

	"foyer/store"
)

// Target is where a security code can go: one of a recipient's mobiles, or their
// email when they have none.
type Target struct {
	Recipient int
	Channel   store.Channel
	// To is the E.164 number or the email address.
	To string
}

// Masked shows a number by its last 3 digits only, an address by its first letter and domain.
func (t Target) Masked() string { return Mask(t.Channel, t.To) }

// Mask hides most of a number or an address.
func Mask(ch store.Channel, to string) string {
	if ch == store.ChannelSMS {
		if len(to) <= 3 {
			return "•••"
		}
		return "••• ••• " + to[len(to)-3:]
	}
	at := strings.LastIndexByte(to, '@')
	if at < 1 {
		return "•••"
	}
	return to[:1] + "•••" + to[at:]
}

// Targets lists where a recipient's code may go: every mobile, else the
// email; none for a recipient who was removed.
func Targets(sh store.Share, recipient int) []Target {
	if recipient < 0 || recipient >= len(sh.Recipients) || sh.Recipients[recipient].Removed {
		return nil
	}
	r := sh.Recipients[recipient]
	var out []Target
	for _, m := range r.Mobiles {
		out = append(out, Target{Recipient: recipient, Channel: store.ChannelSMS, To: m})
	}
	if len(out) == 0 && r.Email != "" {
		out = append(out, Target{Recipient: recipient, Channel: store.ChannelEmail, To: r.Email})
	}
	return out
}

// newCode returns 6 uniformly random digits.
func newCode() string {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return fmt.Sprintf("%06d", n.Int64())
}

func (e *Engine) codeHash(id uint64, code string) []byte {
	return e.st.Hash(fmt.Sprintf("share-code:%d:%s", id, code))
}

// ComposeCode renders the message carrying a code (an SMS or an email) for the
// outbox; it is called before the write transaction.
type ComposeCode func(t Target, code string, expires time.Time) (*store.Message, error)

// LimitError is a code refused by a resend limit: Err is ErrTooSoon,
// ErrTooMany or ErrTooManyHere, Target the number or address the limit is
// of (the code asked for went there), so the page can say which.
type LimitError struct {
	Err    error
	Target Target
}

func (e *LimitError) Error() string { return e.Err.Error() }

// Unwrap lets errors.Is see ErrTooSoon, ErrTooMany or ErrTooManyHere.
func (e *LimitError) Unwrap() error { return e.Err }

// IssueCode sends a new code to target (chosen among Targets), valid ttl (the
// practice setting, clamped to 5–15 minutes): in one transaction it checks the
// resend limits of that number or address kept in the store (sendAllowed),
// adds the code to those waiting, records the event and queues the message.
// The limits are the number's across every share, documents and presos
// alike, not a link's: one contact asking for a code never holds up another
// with a number of their own, and several links to one person never send
// their phone more. One link may use only part of the number's hour
// (MaxSendsPerLinkPerHour). A *LimitError (ErrTooSoon, ErrTooMany,
// ErrTooManyHere) says a limit was hit.
func (e *Engine) IssueCode(id uint64, target Target, ttl time.Duration, ua string, compose ComposeCode) (time.Time, error) {
	ttl = max(MinCodeTTL, min(MaxCodeTTL, ttl))
	err := e.st.ReadShare(id, func(sh store.Share, r store.LinkTx) error {
		if err := e.Usable(sh); err != nil {
			return err
		}
		return validTarget(sh, r, target)
	})
	if errors.Is(err, store.ErrNotFound) {
		return time.Time{}, ErrNotFound
	} else if err != nil {
		return time.Time{}, err
	}
	now := e.now().UTC()
	expires := now.Add(ttl)
	code := newCode()
	msg, err := compose(target, code, expires)
	if err != nil {
		return time.Time{}, err
	}
	if msg != nil {
		// The outbox asks CodeWaiting before sending it: the message names its share.
		if msg.Args == nil {
			msg.Args = map[string]string{}
		}
		msg.Args[ArgShare] = strconv.FormatUint(id, 10)
		if msg.CreatedAt.IsZero() {
			msg.CreatedAt = now // the engine's clock, not the store's wall clock
		}
	}
	_, err = e.change(id, func(ch *store.ShareChange) error {
		if err := e.Usable(*ch.Share); err != nil {
			return err
		}
		if err := validTarget(*ch.Share, ch.LinkTx, target); err != nil {
			return err // the number left the record while the message was written
		}
		c := ch.Code
		prune(c, now)
		key, legacy := target.limitKey(), store.CodeTargetKey(target.Channel, target.To)
		shared, err := ch.CodeSends(key)
		if err != nil {
			return err
		}
		// This link's own sends to the number (under either key: an address
		// was kept as typed before), and the number's across every link,
		// which hold them too (the share's own count, kept before the
		// limits were the number's, joins it the first time).
		here := recentSends(now, c.SentTo[legacy], c.SentTo[key])
		sent := recentSends(now, shared, here)
		if err := sendAllowed(sent, here, now); err != nil {
			return &LimitError{Err: err, Target: target}
		}
		if err := ch.SetCodeSends(key, append(sent, now)); err != nil {
			return err
		}
		if c.SentTo == nil {
			c.SentTo = map[string][]time.Time{}
		}
		delete(c.SentTo, legacy)
		c.SentTo[key] = append(here, now)
		c.Waiting = append(c.Waiting, store.WaitingCode{Hash: e.codeHash(id, code), Recipient: target.Recipient,
			Channel: target.Channel, Target: target.To, SentAt: now, ExpiresAt: expires})
		ch.Events = append(ch.Events, store.ShareEvent{At: now, Type: EventCodeSent, Recipient: target.Recipient,
			Detail: string(target.Channel) + " " + target.Masked(), UserAgent: ua})
		ch.Outbox = append(ch.Outbox, msg)
		return nil
	})
	return expires, err
}

// limitKey names the number or address the resend limits are kept for,
// the same whichever share or recipient a code is for: a number is E.164
// already, an address is compared as NormalizeEmail writes it.
func (t Target) limitKey() string {
	to := t.To
	if t.Channel == store.ChannelEmail {
		to = store.NormalizeEmail(to)
	}
	return store.CodeTargetKey(t.Channel, to)
}

// sendAllowed is the resend limits of one number or address: nil when a
// code may go there now, given sent, when codes went there within the last
// hour through any share, and here, those of them through this link (both
// oldest first); ErrTooSoon within ResendEvery of the last, ErrTooMany
// after MaxSendsPerHour, ErrTooManyHere after MaxSendsPerLinkPerHour
// through this link. The first two protect the person's phone or inbox
// from a burst of messages, and the practice from paying for them; the
// last keeps one link, in whoever's hands, from using up the person's hour.
func sendAllowed(sent, here []time.Time, now time.Time) error {
	if n := len(sent); n > 0 && now.Sub(sent[n-1]) < ResendEvery {
		return ErrTooSoon
	}
	if len(sent) >= MaxSendsPerHour {
		return ErrTooMany
	}
	if len(here) >= MaxSendsPerLinkPerHour {
		return ErrTooManyHere
	}
	return nil
}

// recentSends merges lists of send times into one, oldest first, without
// those an hour old or more, which no limit counts.
func recentSends(now time.Time, lists ...[]time.Time) []time.Time {
	var out []time.Time
	for _, l := range lists {
		for _, t := range l {
			if now.Sub(t) < time.Hour && !slices.ContainsFunc(out, t.Equal) {
				out = append(out, t)
			}
		}
	}
	slices.SortFunc(out, func(a, b time.Time) int { return a.Compare(b) })
	return out
}

// validTarget is nil when target is one of Targets of sh's recipients as
// they are now (Current), ErrBadTarget when it is not.
func validTarget(sh store.Share, r store.LinkTx, target Target) error {
	sh, err := current(sh, r)
	if err != nil {
		return err
	}
	if !slices.Contains(Targets(sh, target.Recipient), target) {
		return ErrBadTarget
	}
	return nil
}

// stale reports whether a waiting code went to a number or an address that
// is no longer among its recipient's Targets in sh (its numbers as they are
// now): such a code opens nothing and is never sent.
func stale(sh store.Share, w store.WaitingCode) bool {
	return !slices.Contains(Targets(sh, w.Recipient), Target{Recipient: w.Recipient, Channel: w.Channel, To: w.Target})
}

// prune drops the codes past their expiry and the sends older than an hour.
func prune(c *store.ShareCode, now time.Time) {
	c.Waiting = slices.DeleteFunc(c.Waiting, func(w store.WaitingCode) bool { return !now.Before(w.ExpiresAt) })
	for k, times := range c.SentTo {
		times = slices.DeleteFunc(times, func(t time.Time) bool { return now.Sub(t) >= time.Hour })
		if len(times) == 0 {
			delete(c.SentTo, k)
		} else {
			c.SentTo[k] = times
		}
	}
}

// ArgShare is the message argument naming the share a code message belongs to.
const ArgShare = "Share"

// CodeWaiting reports whether code, sent for share id, can still be entered:
// the share is usable, the code is one of those waiting, unexpired, and the
// recipient it went to may still come in (see Admit). The outbox asks before
// sending a code that waited (delivery not configured), so a code for a share
// expired, revoked, deleted or locked meanwhile, or for someone who lost
// access to it, is withdrawn, never sent.
func (e *Engine) CodeWaiting(id uint64, code string) bool {
	now, sum := e.now(), e.codeHash(id, code)
	waiting := false
	err := e.st.ReadShare(id, func(sh store.Share, r store.LinkTx) error {
		if e.Usable(sh) != nil {
			return nil
		}
		c, err := r.ShareCode(id)
		if err != nil {
			return err
		}
		if sh, err = current(sh, r); err != nil {
			return err
		}
		recipient := -1
		for _, w := range c.Waiting {
			if hmac.Equal(w.Hash, sum) && now.Before(w.ExpiresAt) && !stale(sh, w) {
				recipient = w.Recipient
			}
		}
		if recipient < 0 {
			return nil
		}
		a, err := e.audience(sh, r)
		if err != nil {
			return err
		}
		waiting = a.Admits(recipient)
		return nil
	})
	return err == nil && waiting
}

// LastCode is the code sent last to recipient on share id among those not
// used or voided: where it went, and whether it can still be entered (not
// expired). ok is false when there is none.
func (e *Engine) LastCode(id uint64, recipient int) (to Target, waiting, ok bool, err error) {
	err = e.st.ReadShare(id, func(sh store.Share, r store.LinkTx) error {
		c, err := r.ShareCode(id)
		if err != nil {
			return err
		}
		if sh, err = current(sh, r); err != nil {
			return err
		}
		for _, w := range c.Waiting {
			if w.Recipient == recipient && !stale(sh, w) {
				to, waiting, ok = Target{Recipient: recipient, Channel: w.Channel, To: w.Target}, e.now().Before(w.ExpiresAt), true
			}
		}
		return nil
	})
	return to, waiting, ok, err
}

// CodeResult is what became of an entered code.
type CodeResult int

// The outcomes of CheckCode.
const (
	// CodeOK: the code matched; it is used up and a verified session begins.
	CodeOK CodeResult = iota
	// CodeWrong: it did not match; the codes waiting stay valid for the tries left.
	CodeWrong
	// CodeVoided: no code is waiting for the person (never sent, used, or
	// voided by MaxTries wrong entries before).
	CodeVoided
	// CodeExpired: the person's codes are past their validity.
	CodeExpired
	// CodeLocked: the share is locked (now or before) after MaxFailures wrong codes.
	CodeLocked
	// CodeWornOut: this wrong entry was the MaxTries-th for the person's
	// newest code, which is void from now on: what the person must be told
	// for the code they hold to make sense no longer working.
	CodeWornOut
)

// Check is the outcome of CheckCode.
type Check struct {
	Result CodeResult
	// Session is the new verified session's ID (CodeOK only), for the cookie.
	Session string
	// Recipient is who the code was entered for.
	Recipient int
	// Channel is how the code entered went out, Target where (CodeOK only).
	Channel store.Channel
	Target  string
	// TriesLeft is how many more wrong entries the person's newest code takes (CodeWrong only).
	TriesLeft int
}

// CheckCode checks a code entered by someone who says they are recipient
// who against the codes waiting for that person, counting the failures in
// the store. Each wrong entry counts against every code waiting for them,
// from whichever address it came: MaxTries void a code. MaxFailures over the
// share's life, whoever made them, lock it (staff Unlock). On success the
// person's codes are used up and a session bound to this share alone
// begins, if the share's audience still admits them (else ErrRefused, and
// nothing is written), and welcome (nil: nothing) adds the kind's part:
// checking the code, using it and opening the session are one write
// transaction, so a crash leaves either all of it or none.
func (e *Engine) CheckCode(id uint64, who int, code, ua string, welcome Welcome) (Check, error) {
	now := e.now().UTC()
	code = strings.TrimSpace(code)
	sum := e.codeHash(id, code)
	var res Check
	_, err := e.change(id, func(ch *store.ShareChange) error {
		c := ch.Code
		res = Check{Recipient: who}
		if ch.Share.State == store.ShareLocked {
			res.Result = CodeLocked
			return nil
		}
		if err := e.Usable(*ch.Share); err != nil {
			return err
		}
		expired := slices.ContainsFunc(c.Waiting, func(w store.WaitingCode) bool {
			return w.Recipient == who && !now.Before(w.ExpiresAt)
		})
		prune(c, now)
		// A code that went to a number since taken off its person's record
		// opens nothing: it is dropped, and entering it is no wrong guess.
		sh, err := current(*ch.Share, ch.LinkTx)
		if err != nil {
			return err
		}
		voided := false
		c.Waiting = slices.DeleteFunc(c.Waiting, func(w store.WaitingCode) bool {
			if w.Recipient != who || !stale(sh, w) {
				return false
			}
			voided = voided || hmac.Equal(w.Hash, sum)
			return true
		})
		if voided {
			res.Result = CodeVoided
			return nil
		}
		matched := -1
		var mine []int
		for i, w := range c.Waiting {
			if w.Recipient == who {
				mine = append(mine, i)
				if hmac.Equal(w.Hash, sum) {
					matched = i
				}
			}
		}
		if matched >= 0 {
			w := c.Waiting[matched]
			res.Result, res.Channel, res.Target = CodeOK, w.Channel, w.Target
			// In: the person's other codes are of no more use.
			c.Waiting = slices.DeleteFunc(c.Waiting, func(w store.WaitingCode) bool { return w.Recipient == who })
			ch.Events = append(ch.Events, store.ShareEvent{At: now, Type: EventVerified, Recipient: who, UserAgent: ua})
			a, err := e.audience(*ch.Share, ch.LinkTx)
			if err != nil {
				return err
			}
			if !a.Admits(who) {
				// A code sent before its recipient lost access opens nothing.
				return ErrRefused
			}
			if res.Session, err = e.newSession(ch, who, w.Target, now); err != nil {
				return err
			}
			if welcome != nil {
				return welcome(ch, Entered{Recipient: who, Channel: w.Channel, Target: w.Target})
			}
			return nil
		}
		switch {
		case len(mine) == 0 && expired:
			res.Result = CodeExpired
			return nil
		case len(mine) == 0:
			res.Result = CodeVoided
			return nil
		}
		left := 0
		for _, i := range mine {
			c.Waiting[i].Tries++
			left = MaxTries - c.Waiting[i].Tries // the newest code's, which comes last
		}
		c.Waiting = slices.DeleteFunc(c.Waiting, func(w store.WaitingCode) bool { return w.Tries >= MaxTries })
		ch.Share.Failures++
		res.Result, res.TriesLeft = CodeWrong, left
		if left <= 0 {
			res.Result, res.TriesLeft = CodeWornOut, 0
		}
		ch.Events = append(ch.Events, store.ShareEvent{At: now, Type: EventCodeWrong, Recipient: who, UserAgent: ua})
		if ch.Share.Failures >= MaxFailures {
			c.Waiting = nil
			ch.Share.State = store.ShareLocked
			ch.Share.SessionEpoch++
			res.Result = CodeLocked
			ch.Events = append(ch.Events, store.ShareEvent{At: now, Type: EventLocked, Recipient: -1})
		}
		return nil
	})
	if err != nil {
		return Check{}, err
	}
	return res, nil
}
