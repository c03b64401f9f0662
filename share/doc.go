// Package share is the engine behind every share link (/s/{token}): documents
// today, presentations next. It knows nothing of HTTP; handlers stay thin
// around it. Everything it keeps lives in the store (store/share*.go), so a
// restart resets no limit.
//
// # What a share is
//
// A store.Share points at a frozen snapshot of something (Kind: files or preso;
// SubjectID: the thing; Snapshot: the IDs of what the link shows), for
// Recipients (name, email, mobiles, language, and the client record when the
// recipient is a client), with a Visibility (contacts only: a security code is
// needed; anyone with the link: the visitor names themselves or goes on
// anonymously), an expiry and a State (active, expired, revoked, deleted,
// locked).
//
// # Making one
//
//	eng := share.New(st, clock)
//	eng.OnPurge(store.SharePreso, func(sh store.Share) error { /* delete the snapshot */ })
//	sh, token, err := eng.Create(share.Draft{Kind: store.SharePreso, SubjectID: presoID, ...},
//	    func(sh store.Share, token string) ([]*store.Message, error) { /* a message with Secret: token (handlers/mail.go) */ })
//
// The token (256 random bits) is handed out once by Create; the store keeps its
// HMAC (to find the share) and a sealed copy (Link, for Copy link). The messages
// Compose returns are queued in the same transaction as the share.
//
// # Opening one
//
// Every request of a link goes through Admit(token, sessionOf), the one place
// that decides whether a visitor may see the link's next page. In one read
// transaction it finds the share (ErrNotFound), checks it is live (else the
// Visit carries ErrEnded or ErrLocked, so the page can say why), asks the
// share's kind who may come in — its Audience, set with OnAudience: for
// documents the recipient unless the client record is archived
// (FilesAudience), for presos each contact still on the preso and not
// archived — and reads the visitor's session. A session opens the link only
// while it is bound to this share, not idle for SessionIdle, not ended with
// the share's sessions (its SessionEpoch), and of a recipient the audience
// admits; otherwise the Visit says Refused (that recipient lost access) or
// carries no session. A GET of the landing does nothing more: mail scanners
// open links.
//
// Contacts only: Targets(sh, recipient) lists where a code may go (each mobile,
// else the email), of a share whose recipients' numbers Current set from
// their client records as they are now (Admit's Visit.Share is); IssueCode(id, target, ttl, ua, compose) checks the resend
// limits of that number or address (one a minute, five an hour, across every
// share), stores the
// code's HMAC among those waiting and queues the message compose renders, in
// one transaction. CheckCode(id, who, code, ua, welcome) checks the code
// against those waiting for recipient who and returns CodeOK with a session
// ID (for a cookie), CodeWrong, CodeWornOut (this was the fifth wrong entry
// for that person, from any address: their code is void), CodeVoided (no
// code waiting), CodeExpired or CodeLocked
// (100 failures; staff Unlock). Anyone with the link: Enter(id, recipient or
// -1, name, ua, welcome). Both let the visitor in within one write
// transaction: the share and its audience checked again, the code used up,
// the event, the session and the kind's Welcome (a preso's viewing).
//
// # Life
//
// Record and Downloaded add events (Downloaded reports the first one, for the
// staff notification). Expire (which purges at once), Extend, Unlock,
// SendAgain (a new link for the same content; the old one is revoked),
// Refresh (same link, new snapshot), Retarget (new recipients; everyone in
// proves it again) and DeleteContent (the recipient's delete; content purged
// at once) change a share. Sweep, run by the periodic job and never by a
// request, expires shares past their date and purges what ended shares hold
// through the kind's Purger; Remind queues one reminder for shares that
// expire within two days and were never downloaded.
//
// Browser(ua) names the browser and OS of a User-Agent for the history.
package share
