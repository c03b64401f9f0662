// Package store keeps all of Foyer's state in one bbolt file.
//
// The bucket tree:
//
//	meta/
//	    schema_version      uint64, 8-byte big-endian; migrations run up to CurrentSchema at Open
//	    secrets             JSON Secrets: HMAC key (token and session-ID hashing), seal key
//	practice/
//	    settings            JSON Practice
//	    logo                the logo bytes, as uploaded after validation
//	staff/                  8-byte big-endian ID → JSON Staff
//	staff_by_email/         lower-cased email → 8-byte ID (written in the same Update as staff/)
//	sessions/               HMAC(session ID) → JSON Session (the cookie carries the ID alone)
//	invites/                HMAC(invite token) → JSON Invite
//	outbox/                 8-byte big-endian ID → JSON Message
//	outbox_due/             8-byte unix-nano next attempt ++ 8-byte ID → empty (queued messages only)
//
// Tokens (invites, sessions) are never stored in the clear: only their HMAC under
// the store's key is, so a copy of the file does not give a working link or session.
package store
