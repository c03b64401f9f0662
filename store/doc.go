// Package store keeps all of Foyer's state in one bbolt file.
//
// The bucket tree:
//
//	meta/
//	    schema_version      uint64, 8-byte big-endian; migrations run up to CurrentSchema at Open
//	    secrets             JSON Secrets: the HMAC key (token and session-ID hashing) and the seal key,
//	                        wrapped (sealed) under the secret key kept apart in secret.key or
//	                        FOYER_SECRET_KEY, and the ID of that key (see secretkey.go); files from
//	                        before held them in the clear, and are rewritten at Open
//	    compact_due         present while freed pages must leave the file (keys once in the clear,
//	                        an erasure): Open, or the schedule, compacts it (compact.go)
//	    backup              JSON BackupStatus: the last off-site backup, the last failure, the failures
//	                        since (see package backup)
//	practice/
//	    settings            JSON Practice
//	    logo                the logo bytes, as uploaded after validation
//	    privacy             JSON PrivacySettings (retention, the journal's months, the notice)
//	staff/                  8-byte big-endian ID → JSON Staff
//	staff_by_email/         lower-cased email → 8-byte ID (written in the same Update as staff/)
//	sessions/               HMAC(session ID) → JSON Session (the cookie carries the ID alone)
//	invites/                HMAC(invite token) → JSON Invite
//	outbox/                 8-byte big-endian ID → JSON Message (kind, recipient, language, arguments,
//	                        the secret sealed; no text, rendered when sent)
//	outbox_due/             (until schema 6: 8-byte unix-nano next attempt ++ 8-byte ID → empty)
//
// Since schema 2:
//
//	clients/                8-byte ID → JSON Client
//	client_index/           folded last name \0 first name \0 8-byte ID → practitioner ID (8) ++ archived (1)
//	                        ++ birth date (10) ++ search text; searched without decoding records
//	clients_by_email/       email \0 8-byte ID → empty (suggestions for prospects)
//	clients_by_phone/       E.164 \0 8-byte ID → empty
//	accounts/               8-byte ID → JSON Account (client portal accounts)
//	accounts_by_email/      lower-cased email → 8-byte ID
//	prospects/              8-byte ID → verified (1) ++ search text; accounts not linked to a client
//	account_tokens/         HMAC(kind, token) → JSON AccountToken (email verification, password reset)
//	appointments/           8-byte ID → JSON Appointment (with its video room log: who joined and left, when; no signalling)
//	appointments_by_client/ client ID (8) ++ start unix (8) ++ ID (8) → empty
//	appointments_reminders/ start unix (8) ++ ID (8) → empty (booked, reminder not sent yet)
//	meta/receipt_seq        the last receipt number given
//
// Since schema 3:
//
//	appointments_by_start/  start unix (8) ++ ID (8) → practitioner ID (8) ++ status
//
// Since schema 4:
//
//	account_tokens_by_account/ account ID (8) ++ token key → empty; a password or email change
//	                        deletes every token of the account through it
//
// Since schema 5 (shares, see package share; blobs, see blob.go):
//
//	shares/                 8-byte ID → JSON Share (kind, subject, recipients, visibility, state, expiry,
//	                        snapshot IDs, the link's token sealed)
//	shares_by_token/        HMAC("share:" token) → 8-byte share ID
//	shares_by_client/       client ID (8) ++ share ID (8) → empty (the client record's timeline)
//	shares_by_subject/      kind \0 subject ID (8) ++ share ID (8) → empty
//	shares_expiry/          expiry unix (8) ++ share ID (8) → empty (live shares only)
//	shares_purge/           8-byte share ID → empty (ended shares whose content is not purged yet)
//	share_codes/            8-byte share ID → JSON ShareCode: the HMAC of each code waiting, whom and
//	                        where it went, its wrong tries, and per number or address the times codes
//	                        went out (the limits survive a restart)
//	share_events/           share ID (8) ++ sequence (8) → JSON ShareEvent
//	share_sessions/         HMAC("share-session:" ID) → JSON ShareSession (bound to one share and its SessionEpoch)
//	blobs/                  8-byte ID → JSON Blob (name, type, size, complete, attached)
//	blob_chunks/            blob ID (8) ++ chunk index (8) → bucket: 0x00 → nonce ++ AES-256-GCM(256 KiB),
//	                        the key as additional data so chunks cannot be moved. A bucket per chunk
//	                        so each chunk is written once (see putChunk); chunks written before are
//	                        plain values under the same key, read and deleted as well
//
// Since schema 6:
//
//	outbox_due/             channel \0 unix-nano next attempt (8) ++ ID (8) → empty (queued messages,
//	                        one lane per channel)
//	outbox_logged/          channel \0 ID (8) → empty (logged while the channel had no delivery;
//	                        queued again once it has one)
//
// Since schema 7 (presos: slide presentations; see preso.go and viewing.go):
//
//	presos/                 8-byte ID → JSON Preso (its slides inside, in order)
//	presos_by_client/       client ID (8) ++ preso ID (8) → empty (the preso's contacts)
//	preso_activity/         preso ID (8) → bucket: 8-byte sequence → JSON PresoEvent
//	preso_images/           SHA-256 of the image → the image bytes (PNG, JPEG or WebP)
//	preso_snapshots/        8-byte ID → JSON Snapshot (the included slides, frozen for a share)
//	viewings/               8-byte ID → JSON Viewing (one person's viewing of a shared preso)
//	viewings_by_token/      HMAC(viewing token) → 8-byte viewing ID
//	viewings_by_share/      share ID (8) ++ viewing ID (8) → empty
//	slide_times/            viewing ID (8) → bucket: 8-byte sequence → JSON SlideTime (the beacons)
//	viewings_due/           last beacon unix-nano (8) ++ viewing ID (8) → empty (owner not told yet)
//	signatures/             8-byte ID → JSON Signature (typed name, drawing, consent, verification, the
//	                        contact verified and where the code went (masked), browser, IP, time,
//	                        SHA-256 of the snapshot signed)
//	signatures_by_share/    share ID (8) ++ signature ID (8) → empty
//
// Beacons are written through DB.Batch, so many viewers' reports share one fsync.
//
// Since schema 8:
//
//	sessions_by_owner/      'u' staff ID (8) or 'a' account ID (8) ++ HMAC(session ID) → empty; ending a
//	                        person's sessions reads theirs alone
//
// Since schema 9:
//
//	client_search/          8-byte ID / 256 → search block: the search text, practitioner, archived flag
//	                        and name sort key of up to 256 consecutive client IDs (searchblock.go)
//	prospect_search/        8-byte ID / 256 → search block of prospects (verified flag, search text)
//
// Since schema 10 (searchindex.go):
//
//	client_grams/           trigram (3) ++ 8-byte ID / 4096 → the IDs of that chunk whose search text holds
//	                        the trigram: sorted 2-byte low bits, or a 512-byte bitmap from 256 IDs on
//	prospect_grams/         the same for prospects
//
// Since schema 11:
//
//	search_counts/          'c' or 'p' ++ practitioner (8; 0 for prospects) ++ flag (1) → 8-byte count of
//	                        search entries (the flag: archived for clients, verified for prospects)
//
// Since schema 12 (signing certificates, see certificate.go):
//
//	certificates/           signature ID (8) → JSON Certificate (the PDF's blob ID and SHA-256, the
//	                        detached CMS signature, the facts /verify shows, the timestamp if any)
//	certificates_by_id/     HMAC("certificate:" ID printed on it) → signature ID (8)
//	certificates_by_sum/    SHA-256 of the PDF (32) → signature ID (8)
//	certificates_due/       signature ID (8) → "i" (to issue, written with the signature) or "s"
//	                        (issued without the timestamp asked for)
//	meta/practice_seal      JSON PracticeSeal: the practice's signing certificate, its key sealed
//
// A certificate's PDF is a blob (blobs/, blob_chunks/). A snapshot someone
// signed stays when its link ends or its preso is deleted.
//
// Made at first use, without a schema version of their own:
//
//	cert_cache/             name → the value sealed: the ACME account key, each certificate and its
//	                        private key (see certcache.go)
//	code_sends/             HMAC("code-sends:" channel ":" number or address) → JSON times codes went
//	                        there within the last hour, from any share: the resend limits of a phone
//	                        or inbox (share.IssueCode writes it with the code; the sweep drops the old,
//	                        an erasure the client's numbers and addresses)
//
// Since schema 12 (journal.go, erase.go):
//
//	journal/                8-byte sequence → MAC (32) ++ JSON JournalEntry, whose prev is the MAC of
//	                        the entry before: the access journal, append-only (package journal)
//	journal_by_client/      client ID (8) ++ sequence (8) → empty
//	journal_by_staff/       staff ID (8) ++ sequence (8) → empty
//	journal_meta/
//	    head                (until schema 14: sequence (8) ++ MAC (32) of the last entry written)
//	    anchor              MAC (32) ++ JSON JournalAnchor: the first entry the retention purge kept
//	                        and the MAC it chains to, signed
//	kept_receipts/          receipt number (8) → JSON KeptReceipt: what stays of an erased client's receipt
//
// Since schema 14:
//
//	journal_meta/head       signature (32) ++ JSON JournalHead: the last entry written, its MAC, and
//	                        the first entry written after the head was found missing or changed, if
//	                        one was; signed under a key derived from the HMAC key, written in the same
//	                        Update as the entries. The upgrade signs an older head as it stands, and
//	                        the wrapped keys in meta/secrets then say so (journal_head), so that a file
//	                        set back to an older schema does not get an unsigned head signed again
//
// Every index is written in the same Update as its record.
//
// Tokens (invites, sessions) are never stored in the clear: only their HMAC under
// the store's key is, so a copy of the file does not give a working link or session.
// Secrets Foyer must read back (staff TOTP seeds, share tokens, file chunks, the
// token or code of an outbox message until it is sent, certificates) are sealed with
// AES-256-GCM under the seal key, which the file holds only wrapped under the secret key
// kept outside it: a copy of the file alone opens none of them.
package store
