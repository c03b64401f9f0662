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
// Open(token) finds the share; it returns ErrNotFound, or the share with
// ErrEnded or ErrLocked so the page can say why it no longer opens. A GET of the
// link must do nothing more: mail scanners open links.
//
// Contacts only: Targets(sh, recipient) lists where a code may go (each mobile,
// else the email); IssueCode(id, target, ttl, ua, compose) checks the resend
// limits (one a minute, five an hour), stores the code's HMAC and queues the
// message compose renders, in one transaction. CheckCode(id, code, ua) returns
// CodeOK with a session ID (for a cookie), CodeWrong, CodeVoided (five wrong
// entries, or no code waiting), CodeExpired or CodeLocked (100 failures; staff
// Unlock). Anyone with the link: Enter(id, recipient or -1, name, ua).
//
// Every later request calls Session(sid, sh): a session opens only the share
// it was made for, ends after 30 minutes idle, and ends with the share.
//
// # Life
//
// Record and Downloaded add events (Downloaded reports the first one, for the
// staff notification). Expire, Extend, Unlock, SendAgain (a new link for the same
// content; the old one is revoked), Refresh (same link, new snapshot) and
// DeleteContent (the recipient's delete; content purged at once) change a share.
// Sweep, run by the housekeeping job, expires shares past their date and purges
// what ended shares hold through the kind's Purger; Remind queues one reminder
// for shares that expire within two days and were never downloaded.
//
// Browser(ua) names the browser and OS of a User-Agent for the history.
package share
