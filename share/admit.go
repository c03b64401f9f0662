package share

import (
	"errors"
	"slices"

	"foyer/store"
)

// Audience is who may open a share link now: which of its recipients, and
// whether someone who is none of them may.
type Audience struct {
	// Allowed reports, by recipient index, who may still come in.
	Allowed []bool
	// Unnamed reports whether a visitor who is none of the recipients may
	// come in (a link open to anyone, by a name they give or none).
	Unnamed bool
}

// Admits reports whether recipient i (-1: none of the recipients) may come in.
func (a Audience) Admits(i int) bool {
	if i < 0 {
		return a.Unnamed
	}
	return i < len(a.Allowed) && a.Allowed[i]
}

// Anyone reports whether anybody at all may come in.
func (a Audience) Anyone() bool {
	for _, ok := range a.Allowed {
		if ok {
			return true
		}
	}
	return a.Unnamed
}

// AudienceFunc is a kind's part of admission: who among a share's recipients
// may come in now, read through r, within the transaction of the request
// (or of the write that lets the visitor in).
type AudienceFunc func(sh store.Share, r store.LinkTx) (Audience, error)

// OnAudience sets who may open the shares of a kind. Without one, every
// recipient may (documents have FilesAudience from New).
func (e *Engine) OnAudience(kind store.ShareKind, fn AudienceFunc) { e.audiences[kind] = fn }

// Current gives each recipient of sh who is a client record the numbers
// that record holds now for codes, in place of those taken when the link was
// made: where a person's codes go is their record's matter, decided here
// for every kind, so a number staff take off a record (a lost or stolen
// phone, most often) stops receiving codes at once, and a session or a code
// that came through it opens nothing more, as a removed contact loses access
// at once. A recipient who is no client record (someone the documents were
// sent to by name, their numbers typed by staff) keeps those numbers. sh's
// recipients must be its own (a share read for a request is).
func Current(sh *store.Share, r store.LinkTx) error {
	ids := make([]uint64, len(sh.Recipients))
	for i, rc := range sh.Recipients {
		ids[i] = rc.ClientID
	}
	mobiles, found, err := r.ClientMobiles(ids)
	if err != nil {
		return err
	}
	for i := range sh.Recipients {
		if found[i] {
			sh.Recipients[i].Mobiles = mobiles[i]
		}
	}
	return nil
}

// current is sh with its recipients' numbers as Current says, as a copy:
// the share of a write is left as it is stored.
func current(sh store.Share, r store.LinkTx) (store.Share, error) {
	sh.Recipients = slices.Clone(sh.Recipients)
	err := Current(&sh, r)
	return sh, err
}

// audience is the kind's audience, never wider than the share's visibility:
// a visitor who is none of the recipients comes in only where anyone with
// the link may, and only while some recipient still may (a link made for
// people who have all lost access opens for nobody).
func (e *Engine) audience(sh store.Share, r store.LinkTx) (Audience, error) {
	var a Audience
	if fn := e.audiences[sh.Kind]; fn != nil {
		var err error
		if a, err = fn(sh, r); err != nil {
			return Audience{}, err
		}
	} else {
		a.Allowed = make([]bool, len(sh.Recipients))
		for i := range a.Allowed {
			a.Allowed[i] = true
		}
	}
	for i, r := range sh.Recipients {
		if r.Removed && i < len(a.Allowed) {
			a.Allowed[i] = false
		}
	}
	a.Unnamed = false
	if sh.Visibility == store.VisibilityAnyone {
		a.Unnamed = a.Anyone()
	}
	return a, nil
}

// FilesAudience is the audience of a documents share: its recipient, unless
// the client record the documents were shared from is archived (archiving
// ends the client's links as it ends their portal access, for someone else
// they went to as well) or the recipient's own record is.
func FilesAudience(sh store.Share, r store.LinkTx) (Audience, error) {
	a := Audience{Allowed: make([]bool, len(sh.Recipients))}
	if sh.ClientID != 0 {
		if archived, err := r.ClientArchived(sh.ClientID); err == nil && archived {
			return a, nil
		} else if err != nil && !errors.Is(err, store.ErrNotFound) {
			return a, err
		}
	}
	for i, rc := range sh.Recipients {
		ok := true
		if rc.ClientID != sh.ClientID { // the client themselves: read just above
			var err error
			if ok, err = notArchived(r, rc.ClientID); err != nil {
				return a, err
			}
		}
		a.Allowed[i] = ok
	}
	return a, nil
}

// notArchived reports whether the client record id (0: none) is not archived.
func notArchived(r store.LinkTx, id uint64) (bool, error) {
	if id == 0 {
		return true, nil
	}
	archived, err := r.ClientArchived(id)
	if errors.Is(err, store.ErrNotFound) {
		return true, nil
	}
	return !archived, err
}

// Opens reports whether the link of token still opens for somebody, or
// would once staff unlock it: the outbox asks before sending what waited for
// it (the link's email, its reminder).
func (e *Engine) Opens(token string) bool {
	opens := false
	err := e.st.ReadLink(token, func(sh store.Share, r store.LinkTx) (err error) {
		opens, err = e.opens(sh, r)
		return err
	})
	return err == nil && opens
}

// OpensShare reports whether the link of share id still opens for
// somebody, or would once staff unlock it, as Opens does: a sharing box asks
// so as not to call working a link whose recipients have all lost access.
// ErrNotFound when there is no such share.
func (e *Engine) OpensShare(id uint64) (bool, error) {
	opens := false
	err := e.st.ReadShare(id, func(sh store.Share, r store.LinkTx) (err error) {
		opens, err = e.opens(sh, r)
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return false, ErrNotFound
	}
	return opens, err
}

// opens reports whether sh is live or locked and its audience admits somebody.
func (e *Engine) opens(sh store.Share, r store.LinkTx) (bool, error) {
	if st := e.State(sh); st != store.ShareActive && st != store.ShareLocked {
		return false, nil
	}
	a, err := e.audience(sh, r)
	return err == nil && a.Anyone(), err
}

// opensFor is whether a link opens now, given its audience: nil, or why
// not (ErrEnded, ErrLocked). A link whose recipients have all lost access
// has ended for its visitors. Admit decides by it whether it read the
// share just now or kept it.
func (e *Engine) opensFor(sh store.Share, a Audience) error {
	if err := e.Usable(sh); err != nil {
		return err
	}
	if !a.Anyone() {
		return ErrEnded
	}
	return nil
}

// Visit is admission's answer for one request of a link.
type Visit struct {
	// Share is the share found, its recipients' numbers as they are now
	// (see Current): Targets of it are where codes may go.
	Share store.Share
	// Audience is who may come in now.
	Audience Audience
	// Err is nil when the link opens; ErrEnded or ErrLocked when it does not,
	// for the page to say why. A link whose recipients have all lost access
	// has ended for its visitors.
	Err error
	// Session is the visitor's session on this share, nil without one: none
	// held, idle, of another share, or ended with the share's sessions.
	Session   *store.ShareSession
	SessionID string
	// Refused says the visitor's session is of someone who may no longer
	// come in (an archived client, a removed preso contact): the visitor is
	// told the link no longer opens for them, also when it opens for nobody
	// now (Err is ErrEnded then).
	Refused bool
	// Renewed says the session's idle clock moved with this request (the
	// browser's cookie should be given the idle limit again).
	Renewed bool
}

// Admitted reports whether the visitor may see the pages behind the code
// (or the name): the share is live and their session is of this share, for
// someone who may still come in.
func (v Visit) Admitted() bool { return v.Err == nil && v.Session != nil }

// Admit decides whether a visitor may see a link's next page; every request
// of a link goes through it. In one read transaction it finds the share of
// token, checks it is live (not expired, revoked, deleted or locked), asks
// the share's kind who may come in (Audience) and reads the visitor's session,
// whose ID sessionOf gives for the share found (nil: the request has none).
// A session opens the share only while it is bound to this share, not idle,
// not ended with the share's sessions, and of someone the audience admits.
// ErrNotFound for an unknown token; any other error is the store's.
func (e *Engine) Admit(token string, sessionOf func(shareID uint64) string) (Visit, error) {
	var v Visit
	if token == "" || len(token) > 128 {
		return v, ErrNotFound
	}
	key := e.st.LinkKey(token)
	// A visitor without a session on the link (its landing) is answered
	// from what was read for the last one, while the store is as it was.
	if sh, aud, ok := e.links.get(key, e.st); ok && e.opensFor(sh, aud) == nil &&
		(sessionOf == nil || len(sessionOf(sh.ID)) != 43) {
		return Visit{Share: sh, Audience: aud}, nil
	}
	stamp, quiet := e.st.Stamp()
	var ss store.ShareSession
	err := e.st.ReadLinkKey(key, func(sh store.Share, r store.LinkTx) error {
		v.Share = sh
		if v.Err = e.Usable(sh); v.Err != nil {
			return nil
		}
		if err := Current(&v.Share, r); err != nil {
			return err
		}
		var err error
		if v.Audience, err = e.audience(sh, r); err != nil {
			return err
		}
		// Live, but for nobody now (its recipients all lost access): it has
		// ended for its visitors, and a visitor who was one of them is
		// still told it is their own access that ended (Refused, below).
		v.Err = e.opensFor(sh, v.Audience)
		if sessionOf == nil {
			return nil
		}
		sid := sessionOf(sh.ID)
		if len(sid) != 43 {
			return nil
		}
		ss, err = r.ShareSession(sid)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		v.SessionID = sid
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return Visit{}, ErrNotFound
	} else if err != nil {
		return v, err
	}
	if v.Err == nil {
		if now, still := e.st.Stamp(); quiet && still && now == stamp {
			e.links.put(key, stamp, v.Share, v.Audience)
		}
	}
	if v.SessionID == "" {
		return v, nil
	}
	now := e.now().UTC()
	switch {
	case ss.ShareID != v.Share.ID || ss.Epoch != v.Share.SessionEpoch:
		// Another share's session (never touched from here), or one ended
		// with every session of this share: the visitor has none.
		v.SessionID = ""
		return v, nil
	case now.Sub(ss.LastSeen) >= SessionIdle:
		err := e.st.DeleteShareSession(v.SessionID)
		v.SessionID = ""
		return v, err
	case !v.Audience.Admits(ss.Recipient):
		// Kept as it is: it opens nothing while its recipient may not come
		// in, and a request that only reads writes nothing.
		v.SessionID, v.Refused = "", true
		return v, nil
	case v.Err != nil:
		v.SessionID = ""
		return v, nil
	case ss.Via != "" && !slices.ContainsFunc(Targets(v.Share, ss.Recipient), func(t Target) bool { return t.To == ss.Via }):
		// The code went to a number that is no longer its person's: they
		// prove it again with one of theirs.
		v.SessionID = ""
		return v, nil
	}
	if now.Sub(ss.LastSeen) > touchEvery {
		ss.LastSeen = now
		if err := e.st.SaveShareSession(v.SessionID, ss); err != nil {
			return v, err
		}
		v.Renewed = true
	}
	v.Session = &ss
	return v, nil
}
