package share

import (
	"crypto/hmac"
	"crypto/rand"
	"fmt"
	"math/big"
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

// Targets lists where a recipient's code may go: every mobile, else the email.
func Targets(sh store.Share, recipient int) []Target {
	if recipient < 0 || recipient >= len(sh.Recipients) {
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

// IssueCode sends a new code to target (chosen among Targets), valid ttl (the
// practice setting, clamped to 5–15 minutes): in one transaction it checks the
// resend limits kept in the store, replaces any waiting code, records the event
// and queues the message. ErrTooSoon and ErrTooMany say a limit was hit.
func (e *Engine) IssueCode(id uint64, target Target, ttl time.Duration, ua string, compose ComposeCode) (time.Time, error) {
	ttl = max(MinCodeTTL, min(MaxCodeTTL, ttl))
	sh, err := e.Get(id)
	if err != nil {
		return time.Time{}, err
	}
	if err := e.Usable(sh); err != nil {
		return time.Time{}, err
	}
	valid := false
	for _, t := range Targets(sh, target.Recipient) {
		valid = valid || t == target
	}
	if !valid {
		return time.Time{}, ErrBadTarget
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
		recent := ch.Code.Sent[:0]
		for _, t := range ch.Code.Sent {
			if now.Sub(t) < time.Hour {
				recent = append(recent, t)
			}
		}
		ch.Code.Sent = recent
		if n := len(recent); n > 0 && now.Sub(recent[n-1]) < ResendEvery {
			return ErrTooSoon
		}
		if len(recent) >= MaxSendsPerHour {
			return ErrTooMany
		}
		// The code still on its way stays good until it expires: someone else
		// asking for a new code must not void the one the recipient is reading.
		ch.Code.PrevHash, ch.Code.PrevExpiresAt = nil, time.Time{}
		ch.Code.PrevRecipient, ch.Code.PrevChannel, ch.Code.PrevTarget = 0, "", ""
		if len(ch.Code.Hash) > 0 && now.Before(ch.Code.ExpiresAt) {
			ch.Code.PrevHash, ch.Code.PrevExpiresAt = ch.Code.Hash, ch.Code.ExpiresAt
			ch.Code.PrevRecipient, ch.Code.PrevChannel, ch.Code.PrevTarget = ch.Code.Recipient, ch.Code.Channel, ch.Code.Target
		}
		ch.Code.Hash = e.codeHash(id, code)
		ch.Code.Recipient, ch.Code.Channel, ch.Code.Target = target.Recipient, target.Channel, target.To
		ch.Code.ExpiresAt, ch.Code.Tries, ch.Code.TriesBy = expires, 0, nil
		ch.Code.Sent = append(ch.Code.Sent, now)
		ch.Events = append(ch.Events, store.ShareEvent{At: now, Type: EventCodeSent, Recipient: target.Recipient,
			Detail: string(target.Channel) + " " + target.Masked(), UserAgent: ua})
		ch.Outbox = append(ch.Outbox, msg)
		return nil
	})
	return expires, err
}

// ArgShare is the message argument naming the share a code message belongs to.
const ArgShare = "Share"

// CodeWaiting reports whether code, sent for share id, can still be entered:
// the share is usable, the code is the one waiting, or the one sent just
// before it, unexpired, and the recipient it went to may still come in (see
// Admit). The outbox asks before sending a code that waited (delivery not
// configured), so a code for a share expired, revoked, deleted or locked
// meanwhile, or for someone who lost access to it, is withdrawn, never sent.
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
		var recipient int
		switch {
		case len(c.Hash) > 0 && hmac.Equal(c.Hash, sum) && now.Before(c.ExpiresAt):
			recipient = c.Recipient
		case len(c.PrevHash) > 0 && hmac.Equal(c.PrevHash, sum) && now.Before(c.PrevExpiresAt):
			recipient = c.Recipient
			if c.PrevTarget != "" {
				recipient = c.PrevRecipient
			}
		default:
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

// CodeResult is what became of an entered code.
type CodeResult int

// The outcomes of CheckCode.
const (
	// CodeOK: the code matched; it is used up and a verified session begins.
	CodeOK CodeResult = iota
	// CodeWrong: it did not match; the code stays valid for the tries left.
	CodeWrong
	// CodeVoided: no code is waiting (never sent, used, or voided by MaxTries wrong entries).
	CodeVoided
	// CodeExpired: the code waiting is past its validity.
	CodeExpired
	// CodeLocked: the share is locked (now or before) after MaxFailures wrong codes.
	CodeLocked
)

// Check is the outcome of CheckCode.
type Check struct {
	Result CodeResult
	// Session is the new verified session's ID (CodeOK only), for the cookie.
	Session string
	// Recipient is who the code was sent to.
	Recipient int
	// Channel is how the code waiting (or expired) went out.
	Channel store.Channel
	// Target is the number or address the code entered went to (CodeOK only).
	Target string
	// TriesLeft is how many more wrong entries this visitor has (CodeWrong only).
	TriesLeft int
}

// CheckCode checks an entered code with the wrong tries counted for the code
// as a whole and nothing more to write; see CheckCodeFrom.
func (e *Engine) CheckCode(id uint64, code, ua string) (Check, error) {
	return e.CheckCodeFrom(id, code, "", ua, nil)
}

// CheckCodeFrom checks an entered code against the one waiting (or the one
// sent just before it, while valid), counting the failures in the store:
// MaxTries wrong entries from one visitor (a name for them, such as their
// address; "" counts for the code as a whole) void the code for that visitor
// alone, so a stranger holding the link cannot burn the recipient's code;
// MaxFailures over the share's life, whoever made them, lock it. On success
// the code is used up and a session bound to this share alone begins, for
// the recipient the code went to if the share's audience still admits them
// (else ErrRefused, and nothing is written), and welcome (nil: nothing) adds
// the kind's part: checking the code, using it and opening the session are
// one write transaction, so a crash leaves either all of it or none.
func (e *Engine) CheckCodeFrom(id uint64, code, visitor, ua string, welcome Welcome) (Check, error) {
	now := e.now().UTC()
	code = strings.TrimSpace(code)
	sum := e.codeHash(id, code)
	who := ""
	if visitor != "" {
		who = fmt.Sprintf("%x", e.st.Hash("share-visitor:" + visitor)[:8])
	}
	var res Check
	_, err := e.change(id, func(ch *store.ShareChange) error {
		c := ch.Code
		res = Check{Recipient: c.Recipient, Channel: c.Channel}
		if ch.Share.State == store.ShareLocked {
			res.Result = CodeLocked
			return nil
		}
		if err := e.Usable(*ch.Share); err != nil {
			return err
		}
		tries := &c.Tries
		if who != "" {
			if c.TriesBy == nil {
				c.TriesBy = map[string]int{}
			}
			n := c.TriesBy[who]
			defer func() {
				if n > 0 && c.TriesBy != nil {
					c.TriesBy[who] = n
				}
			}()
			tries = &n
		}
		prevOK := len(c.PrevHash) > 0 && now.Before(c.PrevExpiresAt)
		switch {
		case len(c.Hash) == 0 && !prevOK:
			res.Result = CodeVoided
			return nil
		case *tries >= MaxTries:
			res.Result = CodeVoided
			return nil
		case hmac.Equal(c.Hash, sum) && now.Before(c.ExpiresAt), prevOK && hmac.Equal(c.PrevHash, sum):
			res.Target = c.Target
			if !hmac.Equal(c.Hash, sum) && c.PrevTarget != "" {
				// The code sent before the current one verifies whom it went to.
				res.Recipient, res.Channel, res.Target = c.PrevRecipient, c.PrevChannel, c.PrevTarget
			}
			if res.Recipient != c.Recipient {
				// Someone else's code, asked for since, stays good for them.
				c.PrevHash, c.PrevRecipient, c.PrevChannel, c.PrevTarget = nil, 0, "", ""
			} else {
				c.Hash, c.Tries, c.TriesBy, c.PrevHash = nil, 0, nil, nil
				c.PrevRecipient, c.PrevChannel, c.PrevTarget = 0, "", ""
			}
			res.Result = CodeOK
			ch.Events = append(ch.Events, store.ShareEvent{At: now, Type: EventVerified, Recipient: res.Recipient, UserAgent: ua})
			a, err := e.audience(*ch.Share, ch.LinkTx)
			if err != nil {
				return err
			}
			if !a.Admits(res.Recipient) {
				// A code sent before its recipient lost access opens nothing.
				return ErrRefused
			}
			if res.Session, err = e.newSession(ch, res.Recipient, now); err != nil {
				return err
			}
			if welcome != nil {
				return welcome(ch, Entered{Recipient: res.Recipient, Channel: res.Channel, Target: res.Target})
			}
			return nil
		case len(c.Hash) > 0 && !now.Before(c.ExpiresAt):
			c.Hash = nil
			res.Result = CodeExpired
			return nil
		}
		*tries++
		ch.Share.Failures++
		res.Result, res.TriesLeft = CodeWrong, MaxTries-*tries
		ch.Events = append(ch.Events, store.ShareEvent{At: now, Type: EventCodeWrong, Recipient: c.Recipient, UserAgent: ua})
		if *tries >= MaxTries {
			if who == "" {
				c.Hash, c.PrevHash = nil, nil
			}
			res.Result = CodeVoided
		}
		if ch.Share.Failures >= MaxFailures {
			c.Hash, c.PrevHash = nil, nil
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
