package store

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// ErrNotVerified is returned when linking an account whose email nobody has
// confirmed: anyone can sign up with a client's email, and linking that
// account would hand the client's record to whoever chose its password.
var ErrNotVerified = errors.New("store: the account's email is not confirmed")

// SignUp is what a person typed when creating their own portal account.
type SignUp struct {
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Phone     string `json:"phone,omitempty"` // E.164
	BirthDate string `json:"birth_date,omitempty"`
	// NoticeVersion is the version of the information notice the sign-up
	// page linked to, and NoticeShown when it was shown (0 and zero for an
	// account staff made).
	NoticeVersion int       `json:"notice_version,omitempty"`
	NoticeShown   time.Time `json:"notice_shown,omitzero"`
}

// Account is a client portal account. Not yet linked to a client record (ClientID 0), it is a prospect.
type Account struct {
	ID           uint64 `json:"id"`
	Email        string `json:"email"`
	PasswordHash string `json:"password_hash"`
	Verified     bool   `json:"verified"`
	// VerifiedBy is "email" (the person followed the link), "staff" (verified from the prospects list)
	// or "record" (staff set the credentials on the client record).
	VerifiedBy string `json:"verified_by,omitempty"`
	// StaffPassword is true while the password is one staff set on the client
	// record: what staff hand the client then speaks of "the password we gave you".
	StaffPassword bool      `json:"staff_password,omitempty"`
	ClientID      uint64    `json:"client_id,omitempty"`
	Lang          string    `json:"lang"`
	SignUp        SignUp    `json:"sign_up"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// Name is the name given at sign-up.
func (a Account) Name() string {
	return strings.TrimSpace(a.SignUp.FirstName + " " + a.SignUp.LastName)
}

// prospectValue packs a prospect for the list: verified (1 byte), then the search text.
func prospectValue(a Account) []byte {
	v := []byte{0}
	if a.Verified {
		v[0] = 1
	}
	text := []string{Fold(a.SignUp.FirstName), Fold(a.SignUp.LastName), Fold(a.Email), digits(a.SignUp.Phone), nationalDigits(a.SignUp.Phone)}
	return append(v, strings.Join(text, " ")...)
}

// putAccountIndexes writes an account's indexes and, for a prospect, its
// search entry; a new prospect's trigram postings wait for later when it is
// not nil.
func putAccountIndexes(tx *bolt.Tx, a Account, later *gramBatch) error {
	if err := tx.Bucket(bucketAccountsByEmail).Put([]byte(NormalizeEmail(a.Email)), itob(a.ID)); err != nil {
		return err
	}
	p, search := tx.Bucket(bucketProspects), prospectSearch(tx)
	if a.ClientID != 0 {
		if err := deleteSearchEntry(search, a.ID); err != nil {
			return err
		}
		return p.Delete(itob(a.ID))
	}
	v := prospectValue(a)
	if err := putSearchEntry(search, searchEntry{id: a.ID, flag: v[0], text: v[1:]}, later); err != nil {
		return err
	}
	return p.Put(itob(a.ID), v)
}

// CreateAccount inserts a portal account; ErrEmailTaken when the email has one.
func (s *Store) CreateAccount(a *Account) error {
	return s.db.Update(func(tx *bolt.Tx) error { return insertAccount(tx, a, nil) })
}

func insertAccount(tx *bolt.Tx, a *Account, later *gramBatch) error {
	if tx.Bucket(bucketAccountsByEmail).Get([]byte(NormalizeEmail(a.Email))) != nil {
		return ErrEmailTaken
	}
	id, err := tx.Bucket(bucketAccounts).NextSequence()
	if err != nil {
		return fmt.Errorf("store: unable to allocate account ID: %w", err)
	}
	a.ID = id
	if a.CreatedAt.IsZero() {
		a.CreatedAt = time.Now().UTC()
	}
	a.UpdatedAt = a.CreatedAt
	if err := putAccountIndexes(tx, *a, later); err != nil {
		return err
	}
	return putJSON(tx, bucketAccounts, itob(id), a)
}

// DeleteProspect deletes a portal account that no client record uses (a
// sign-up the practice does not want), with its pending links and its
// sessions, in one transaction. A linked account is ErrNotFound: it is not a
// prospect.
func (s *Store) DeleteProspect(id uint64) (Account, error) {
	var a Account
	err := s.db.Update(func(tx *bolt.Tx) error {
		if err := getJSON(tx, bucketAccounts, itob(id), &a); err != nil {
			return err
		}
		if a.ClientID != 0 {
			return ErrNotFound
		}
		return deleteAccount(tx, a)
	})
	return a, err
}

// deleteAccount deletes a portal account with its email index, its prospect
// entry, its links and its sessions.
func deleteAccount(tx *bolt.Tx, a Account) error {
	for _, del := range []struct {
		b []byte
		k []byte
	}{{bucketAccounts, itob(a.ID)}, {bucketProspects, itob(a.ID)}, {bucketAccountsByEmail, []byte(NormalizeEmail(a.Email))}} {
		if err := tx.Bucket(del.b).Delete(del.k); err != nil {
			return err
		}
	}
	if err := deleteSearchEntry(prospectSearch(tx), a.ID); err != nil {
		return err
	}
	if err := deleteAccountTokens(tx, a.ID, nil); err != nil {
		return err
	}
	_, err := deleteOwnerSessions(tx, ownerAccount, a.ID, nil)
	return err
}

// RemovePortalAccess deletes the portal account of a client, with its links
// and sessions, in one transaction: the client can no longer sign in, and
// staff may give access again later. ErrNotFound when there is none.
func (s *Store) RemovePortalAccess(clientID uint64) (Account, error) {
	var a Account
	err := s.db.Update(func(tx *bolt.Tx) error {
		var err error
		a, err = removePortalAccess(tx, clientID)
		return err
	})
	return a, err
}

func removePortalAccess(tx *bolt.Tx, clientID uint64) (Account, error) {
	var a Account
	_, err := updateClient(tx, clientID, func(c *Client) error {
		if c.AccountID == 0 {
			return ErrNotFound
		}
		if err := getJSON(tx, bucketAccounts, itob(c.AccountID), &a); err != nil {
			return err
		}
		c.AccountID = 0
		return nil
	})
	if err != nil {
		return a, err
	}
	// The account's address leaves the record with it: its messages keep
	// the client they concern, for the client's erasure.
	if err := claimMessages(tx, a, clientID); err != nil {
		return a, err
	}
	return a, deleteAccount(tx, a)
}

// ArchiveClient archives a client (archived true) or brings them back.
// Archiving also removes their portal access, in the same transaction: an
// archived client's account, links and sessions end with it.
func (s *Store) ArchiveClient(id uint64, archived bool) (Client, error) {
	var c Client
	err := s.db.Update(func(tx *bolt.Tx) error {
		var err error
		if c, err = updateClient(tx, id, func(c *Client) error { c.Archived = archived; return nil }); err != nil {
			return err
		}
		if archived && c.AccountID != 0 {
			if _, err := removePortalAccess(tx, id); err != nil {
				return err
			}
			c.AccountID = 0
		}
		return nil
	})
	return c, err
}

// Account loads a portal account.
func (s *Store) Account(id uint64) (Account, error) {
	var a Account
	err := s.db.View(func(tx *bolt.Tx) error { return getJSON(tx, bucketAccounts, itob(id), &a) })
	return a, err
}

// AccountByEmail loads a portal account by email.
func (s *Store) AccountByEmail(email string) (Account, error) {
	var a Account
	err := s.db.View(func(tx *bolt.Tx) error {
		id := tx.Bucket(bucketAccountsByEmail).Get([]byte(NormalizeEmail(email)))
		if id == nil {
			return ErrNotFound
		}
		return getJSON(tx, bucketAccounts, id, &a)
	})
	return a, err
}

// UpdateAccount applies fn to an account and keeps its indexes in step.
func (s *Store) UpdateAccount(id uint64, fn func(*Account) error) (Account, error) {
	var a Account
	err := s.db.Update(func(tx *bolt.Tx) error {
		var err error
		a, err = updateAccount(tx, id, fn)
		return err
	})
	return a, err
}

func updateAccount(tx *bolt.Tx, id uint64, fn func(*Account) error) (Account, error) {
	var a Account
	if err := getJSON(tx, bucketAccounts, itob(id), &a); err != nil {
		return a, err
	}
	oldEmail, oldHash := NormalizeEmail(a.Email), a.PasswordHash
	if err := fn(&a); err != nil {
		return a, err
	}
	newEmail := NormalizeEmail(a.Email)
	if newEmail != oldEmail || a.PasswordHash != oldHash {
		// A link sent before a password or email change must not outlive it:
		// the old mailbox, or whoever read it, could take the account back.
		if err := deleteAccountTokens(tx, id, nil); err != nil {
			return a, err
		}
	}
	if newEmail != oldEmail {
		idx := tx.Bucket(bucketAccountsByEmail)
		if idx.Get([]byte(newEmail)) != nil {
			return a, ErrEmailTaken
		}
		if err := idx.Delete([]byte(oldEmail)); err != nil {
			return a, err
		}
	}
	a.UpdatedAt = time.Now().UTC()
	if err := putAccountIndexes(tx, a, nil); err != nil {
		return a, err
	}
	return a, putJSON(tx, bucketAccounts, itob(id), a)
}

// LinkAccount links a portal account to a client record, both ways, in one transaction.
// The account leaves the prospects list.
func (s *Store) LinkAccount(accountID, clientID uint64) error {
	return s.db.Update(func(tx *bolt.Tx) error { return linkAccount(tx, accountID, clientID) })
}

func linkAccount(tx *bolt.Tx, accountID, clientID uint64) error {
	var c Client
	if err := getJSON(tx, bucketClients, itob(clientID), &c); err != nil {
		return err
	}
	if c.AccountID != 0 && c.AccountID != accountID {
		return ErrAlreadyLinked
	}
	if _, err := updateAccount(tx, accountID, func(a *Account) error {
		if a.ClientID != 0 && a.ClientID != clientID {
			return ErrAlreadyLinked
		}
		if !a.Verified {
			return ErrNotVerified
		}
		a.ClientID = clientID
		return nil
	}); err != nil {
		return err
	}
	c.AccountID = accountID
	c.UpdatedAt = time.Now().UTC()
	return putJSON(tx, bucketClients, itob(clientID), c)
}

// CreateClientForAccount creates a client record from a prospect and links them, in one transaction.
func (s *Store) CreateClientForAccount(c *Client, accountID uint64) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		var a Account
		if err := getJSON(tx, bucketAccounts, itob(accountID), &a); err != nil {
			return err
		}
		if a.ClientID != 0 {
			return ErrAlreadyLinked
		}
		if !a.Verified {
			return ErrNotVerified
		}
		if err := insertClient(tx, c, nil); err != nil {
			return err
		}
		return linkAccount(tx, accountID, c.ID)
	})
}

// SetClientCredentials creates or updates the portal account of a client with an
// email and password chosen by staff (the account counts as verified).
// An unconfirmed sign-up with the same email gives way (see Unconfirmed): it
// is deleted with its links in the same transaction, which replaced reports.
// Any other account with the email is ErrEmailTaken: a confirmed prospect
// as a ProspectHoldsEmailError, which names it.
func (s *Store) SetClientCredentials(clientID uint64, email, passwordHash, lang string) (a Account, replaced bool, err error) {
	err = s.db.Update(func(tx *bolt.Tx) error {
		var c Client
		if err := getJSON(tx, bucketClients, itob(clientID), &c); err != nil {
			return err
		}
		var err error
		if replaced, err = yieldUnconfirmed(tx, email, c.AccountID); err != nil {
			return err
		}
		if err := prospectHolds(tx, email, c.AccountID); err != nil {
			return err
		}
		if c.AccountID == 0 {
			a = Account{Email: email, PasswordHash: passwordHash, Verified: true, VerifiedBy: "record", StaffPassword: true, Lang: lang,
				SignUp: SignUp{FirstName: c.FirstName, LastName: c.LastName}}
			if err := insertAccount(tx, &a, nil); err != nil {
				return err
			}
			a.ClientID = clientID
			return linkAccount(tx, a.ID, clientID)
		}
		a, err = updateAccount(tx, c.AccountID, func(a *Account) error {
			a.Email, a.PasswordHash, a.Verified, a.StaffPassword = email, passwordHash, true, true
			if a.VerifiedBy == "" {
				a.VerifiedBy = "record"
			}
			return nil
		})
		return err
	})
	return a, replaced, err
}

// ProspectHoldsEmailError is SetClientCredentials' answer when a prospect
// holds the email: a sign-up linked to no client whose email is confirmed,
// waiting under Prospects. Staff link it to the client there; giving the
// client access with its email would need a second account. errors.Is
// reports it as ErrEmailTaken.
type ProspectHoldsEmailError struct {
	// AccountID is the prospect's account.
	AccountID uint64
}

func (e *ProspectHoldsEmailError) Error() string {
	return fmt.Sprintf("store: email already in use by prospect %d", e.AccountID)
}

// Is makes the error ErrEmailTaken as well.
func (e *ProspectHoldsEmailError) Is(target error) bool { return target == ErrEmailTaken }

// prospectHolds is a ProspectHoldsEmailError when an account other than
// keep, linked to no client, holds email.
func prospectHolds(tx *bolt.Tx, email string, keep uint64) error {
	id := tx.Bucket(bucketAccountsByEmail).Get([]byte(NormalizeEmail(email)))
	if id == nil || btoi(id) == keep {
		return nil
	}
	var other Account
	if err := getJSON(tx, bucketAccounts, id, &other); err != nil {
		return err
	}
	if other.ClientID != 0 {
		return nil
	}
	return &ProspectHoldsEmailError{AccountID: other.ID}
}

// Unconfirmed reports whether a is a sign-up nobody has confirmed: not
// verified, linked to no client. Anyone can sign up with anyone's email, so
// such an account holds nothing of the address's owner and must not keep the
// practice from giving that person portal access.
func (a Account) Unconfirmed() bool { return !a.Verified && a.ClientID == 0 }

// yieldUnconfirmed deletes the account that holds email, unless it is keep,
// when it is Unconfirmed, and reports whether it did. The person who signed
// up is told nothing: their confirmation link, deleted with the account,
// voids its email if it still waits in the outbox.
func yieldUnconfirmed(tx *bolt.Tx, email string, keep uint64) (bool, error) {
	id := tx.Bucket(bucketAccountsByEmail).Get([]byte(NormalizeEmail(email)))
	if id == nil || btoi(id) == keep {
		return false, nil
	}
	var other Account
	if err := getJSON(tx, bucketAccounts, id, &other); err != nil {
		return false, err
	}
	if !other.Unconfirmed() {
		return false, nil
	}
	return true, deleteAccount(tx, other)
}

// ProspectFilter narrows the prospects list.
type ProspectFilter struct {
	Query Query
	// Verified: "" for all, "yes" or "no".
	Verified      string
	Offset, Limit int
}

// SearchProspects lists unlinked accounts, newest first, from the trigram
// index and the packed search blocks, as SearchClients does.
func (s *Store) SearchProspects(f ProspectFilter) ([]Account, int, error) {
	var out []Account
	total := 0
	terms := f.Query.bytes()
	err := s.db.View(func(tx *bolt.Tx) error {
		var ids [][]byte
		var hits []int
		keep := func(b blockView, i int) bool {
			return (f.Verified != "yes" || b.flag(i) == 1) && (f.Verified != "no" || b.flag(i) == 0)
		}
		add := func(id []byte) {
			if total >= f.Offset && len(ids) < f.Limit {
				ids = append(ids, id)
			}
			total++
		}
		if grams := queryGrams(terms); grams != nil {
			sets := candidates(tx.Bucket(bucketProspectGrams), grams)
			eachCandidate(tx.Bucket(bucketProspectSearch), sets, true, terms, keep, func(b blockView, i int) bool {
				add(b.id(i))
				return true
			})
		} else {
			// No query, or only terms of one or two bytes. Without a query
			// the counts give the total, and blocks are read only down to
			// the page; with short terms every block is read.
			if f.Query.Empty() {
				total = countEntries(tx.Bucket(bucketSearchCounts), 'p', func(_ uint64, flag byte) bool {
					return (f.Verified != "yes" || flag == 1) && (f.Verified != "no" || flag == 0)
				})
			}
			seen := 0
			c := tx.Bucket(bucketProspectSearch).Cursor()
			for k, v := c.Last(); k != nil && (!f.Query.Empty() || seen < f.Offset+f.Limit); k, v = c.Prev() {
				b := viewBlock(v)
				hits = hits[:0]
				b.each(terms, func(i int) bool { return keep(b, i) }, func(i int) { hits = append(hits, i) })
				for j := len(hits) - 1; j >= 0; j-- {
					if f.Query.Empty() {
						if seen >= f.Offset && len(ids) < f.Limit {
							ids = append(ids, b.id(hits[j]))
						}
						seen++
						continue
					}
					add(b.id(hits[j]))
				}
			}
		}
		for _, id := range ids {
			var a Account
			if err := getJSON(tx, bucketAccounts, id, &a); err != nil {
				return err
			}
			out = append(out, a)
		}
		return nil
	})
	return out, total, err
}

// ProspectCounts counts the prospects by what each waits for.
type ProspectCounts struct {
	// Verified prospects wait for the practice to link them to a client record.
	Verified int
	// Unverified ones wait for their owner to confirm the email.
	Unverified int
}

// Total is how many prospects there are.
func (p ProspectCounts) Total() int { return p.Verified + p.Unverified }

// CountProspects counts the prospects without reading them, from the
// search counts (whose flag is the verified byte of prospectValue).
func (s *Store) CountProspects() (ProspectCounts, error) {
	var n ProspectCounts
	err := s.db.View(func(tx *bolt.Tx) error {
		counts := tx.Bucket(bucketSearchCounts)
		n.Verified = countEntries(counts, 'p', func(_ uint64, flag byte) bool { return flag == 1 })
		n.Unverified = countEntries(counts, 'p', func(_ uint64, flag byte) bool { return flag != 1 })
		return nil
	})
	return n, err
}

// TokenKind is what an account token is for.
type TokenKind string

// The account token kinds.
const (
	TokenVerify TokenKind = "verify"
	TokenReset  TokenKind = "reset"
)

// AccountToken is a single-use link for a portal account.
type AccountToken struct {
	AccountID uint64    `json:"account_id"`
	Kind      TokenKind `json:"kind"`
	ExpiresAt time.Time `json:"expires_at"`
	// Fails counts wrong passwords typed with a verify link; the link is
	// voided at the limit given to FailAccountToken.
	Fails int `json:"fails,omitempty"`
}

func (s *Store) accountTokenKey(kind TokenKind, token string) []byte {
	return s.Hash("account:" + string(kind) + ":" + token)
}

// tokenIndexKey is the account_tokens_by_account key of a token: the account
// first, so one prefix scan finds every token of an account.
func tokenIndexKey(accountID uint64, key []byte) []byte {
	return append(itob(accountID), key...)
}

// LiveLinks is how many links of one kind (password reset, email
// confirmation) a person may hold at once: each works until it expires,
// until it or another of them is used, or until LiveLinks newer ones were
// sent. It is above the handlers' burst of emails per email, so that when
// someone else asks for links to a person's address, every link the person
// receives works.
const LiveLinks = 5

// CreateAccountToken stores a token beside the account's other links of its
// kind (at most LiveLinks of them).
func (s *Store) CreateAccountToken(token string, t AccountToken) error {
	return s.db.Update(func(tx *bolt.Tx) error { return s.putAccountToken(tx, token, t) })
}

func (s *Store) putAccountToken(tx *bolt.Tx, token string, t AccountToken) error {
	// The newest LiveLinks-1 links of the kind stay; older ones go. Links
	// of a kind live the same time, so the oldest expire first.
	type held struct {
		key     []byte
		expires time.Time
	}
	var same []held
	eachAccountToken(tx, t.AccountID, func(key []byte, old AccountToken) {
		if old.Kind == t.Kind {
			same = append(same, held{key, old.ExpiresAt})
		}
	})
	if len(same) >= LiveLinks {
		slices.SortFunc(same, func(a, b held) int { return b.expires.Compare(a.expires) })
		for _, old := range same[LiveLinks-1:] {
			if err := deleteAccountToken(tx, t.AccountID, old.key); err != nil {
				return err
			}
		}
	}
	key := s.accountTokenKey(t.Kind, token)
	if err := tx.Bucket(bucketTokensByAccount).Put(tokenIndexKey(t.AccountID, key), nil); err != nil {
		return err
	}
	return putJSON(tx, bucketAccountTokens, key, t)
}

// eachAccountToken calls fn with the key (a copy) and the value of each
// token of an account, found through the index without a scan.
func eachAccountToken(tx *bolt.Tx, accountID uint64, fn func(key []byte, t AccountToken)) {
	idx, tokens := tx.Bucket(bucketTokensByAccount), tx.Bucket(bucketAccountTokens)
	prefix := itob(accountID)
	c := idx.Cursor()
	for k, _ := c.Seek(prefix); len(k) > 8 && string(k[:8]) == string(prefix); k, _ = c.Next() {
		var t AccountToken
		if raw := tokens.Get(k[8:]); raw != nil && unmarshal(raw, &t) == nil {
			fn(bytes.Clone(k[8:]), t)
		}
	}
}

// deleteAccountToken deletes one token of an account, with its index entry.
func deleteAccountToken(tx *bolt.Tx, accountID uint64, key []byte) error {
	if err := tx.Bucket(bucketAccountTokens).Delete(key); err != nil {
		return err
	}
	return tx.Bucket(bucketTokensByAccount).Delete(tokenIndexKey(accountID, key))
}

// deleteAccountTokens deletes the tokens of an account for which match is
// true (nil: all of them), found through the index without a scan.
func deleteAccountTokens(tx *bolt.Tx, accountID uint64, match func(AccountToken) bool) error {
	idx, tokens := tx.Bucket(bucketTokensByAccount), tx.Bucket(bucketAccountTokens)
	prefix := itob(accountID)
	var doomed [][]byte
	c := idx.Cursor()
	for k, _ := c.Seek(prefix); len(k) > 8 && string(k[:8]) == string(prefix); k, _ = c.Next() {
		key := k[8:]
		var t AccountToken
		raw := tokens.Get(key)
		if raw != nil && unmarshal(raw, &t) == nil && match != nil && !match(t) {
			continue
		}
		doomed = append(doomed, append([]byte(nil), k...))
	}
	for _, k := range doomed {
		if err := tokens.Delete(k[8:]); err != nil {
			return err
		}
		if err := idx.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// PeekAccountToken checks a token without using it.
func (s *Store) PeekAccountToken(kind TokenKind, token string, now time.Time) (AccountToken, error) {
	var t AccountToken
	err := s.db.View(func(tx *bolt.Tx) error { return getJSON(tx, bucketAccountTokens, s.accountTokenKey(kind, token), &t) })
	if err == nil && now.After(t.ExpiresAt) {
		return t, ErrExpired
	}
	return t, err
}

// UseAccountToken uses a token once: in one transaction it checks it, deletes
// it and applies fn to its account. fn must be quick (hash a password before).
func (s *Store) UseAccountToken(kind TokenKind, token string, now time.Time, fn func(*Account) error) (Account, error) {
	var a Account
	err := s.db.Update(func(tx *bolt.Tx) error {
		key := s.accountTokenKey(kind, token)
		var t AccountToken
		if err := getJSON(tx, bucketAccountTokens, key, &t); err != nil {
			return err
		}
		if now.After(t.ExpiresAt) {
			return ErrExpired
		}
		// One link used, the others of its kind have done their work.
		if err := deleteAccountTokens(tx, t.AccountID, func(old AccountToken) bool { return old.Kind == t.Kind }); err != nil {
			return err
		}
		var err error
		a, err = updateAccount(tx, t.AccountID, fn)
		return err
	})
	return a, err
}

// FailAccountToken counts one wrong password typed with a token and deletes
// the token at the max-th: whoever holds the link without knowing the
// password cannot try for ever. It reports whether the token is now void.
func (s *Store) FailAccountToken(kind TokenKind, token string, max int) (bool, error) {
	var voided bool
	err := s.db.Update(func(tx *bolt.Tx) error {
		key := s.accountTokenKey(kind, token)
		var t AccountToken
		if err := getJSON(tx, bucketAccountTokens, key, &t); err != nil {
			return err
		}
		t.Fails++
		if t.Fails < max {
			return putJSON(tx, bucketAccountTokens, key, t)
		}
		voided = true
		if err := tx.Bucket(bucketAccountTokens).Delete(key); err != nil {
			return err
		}
		return tx.Bucket(bucketTokensByAccount).Delete(tokenIndexKey(t.AccountID, key))
	})
	return voided, err
}

// PurgeAccountTokens deletes the tokens expired before now, with their index
// entries; it returns how many went. It runs from housekeeping, not on a request.
func (s *Store) PurgeAccountTokens(now time.Time) (int, error) {
	var n int
	err := s.db.Update(func(tx *bolt.Tx) error {
		idx := tx.Bucket(bucketTokensByAccount)
		var err error
		n, err = deleteWhere(tx.Bucket(bucketAccountTokens), func(k, v []byte) bool {
			var t AccountToken
			if unmarshal(v, &t) != nil || now.After(t.ExpiresAt) {
				_ = idx.Delete(tokenIndexKey(t.AccountID, k))
				return true
			}
			return false
		})
		return err
	})
	return n, err
}

// SignUp creates a prospect's account, its email verification token and the
// email carrying it (m) in one transaction: either all three exist or none.
// ErrEmailTaken when the email has an account (nothing is written then).
func (s *Store) SignUp(a *Account, token string, expires time.Time, m *Message) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		if err := insertAccount(tx, a, nil); err != nil {
			return err
		}
		if err := s.putAccountToken(tx, token, AccountToken{AccountID: a.ID, Kind: TokenVerify, ExpiresAt: expires}); err != nil {
			return err
		}
		m.AccountID = a.ID
		return s.enqueue(tx, m)
	})
}
