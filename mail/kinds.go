package mail

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"foyer/share"
	"foyer/store"
)

// The kinds of message, one per entry of the table below. Code that queues a
// message names its kind with one of these (TestEveryQueuedKindIsInTheTable).
const (
	Invite        = "invite"         // a colleague invited to join the practice
	StaffReset    = "staff_reset"    // a staff member's "forgot password" link
	PortalVerify  = "portal_verify"  // confirm the email of a portal sign-up
	PortalReset   = "portal_reset"   // a client's "forgot password" link
	PortalExists  = "portal_exists"  // a sign-up with an email that has an account
	PortalAccess  = "portal_access"  // staff gave the client portal access: where to sign in
	PortalLinked  = "portal_linked"  // the practice linked a sign-up to its client record
	PhonesAdded   = "phones_added"   // to the practitioner: a client added mobiles to confirm
	Reminder      = "reminder"       // a session starts within a day
	ShareLink     = "share_link"     // documents shared: the link, in the practice's template
	ShareCode     = "share_code"     // the security code of a document share
	ShareReminder = "share_reminder" // undownloaded documents are deleted in two days
	ShareStaff    = "share_staff"    // to staff: first download, "This wasn't me"
	PresoCode     = "preso_code"     // the security code of a preso link
	PresoViewed   = "preso_viewed"   // to a preso's owner: who viewed what, for how long
	BackupFailed  = "backup_failed"  // to the owners: off-site backups failed twice in a row
)

// Kind is one kind of message: how it is written, what it needs, how long it
// may wait and what voids it.
type Kind struct {
	// Channels are the lanes it may travel.
	Channels []store.Channel
	// Args are the arguments it cannot be written without; Times those of
	// them holding a time (TimeArg).
	Args, Times []string
	// Secret: it carries a link or a code, and is refused without one.
	Secret bool
	// Expiry says until when it may go out.
	Expiry Expiry
	// Write fills the email (r.Mail, or r.Text for a plain one) or the text
	// message (r.SMS) from r.M.Args in r.L's language, putting r.Secret (or
	// r.Link(path)) where the code or the link goes.
	Write func(r *rendering) error
	// Void, when set, reports that what the message is about has become void
	// (its link used or revoked, its session cancelled): it is withdrawn, not sent.
	Void func(m *Mailer, msg store.Message, secret string) bool
	// Client: it goes to a client (or a prospect) or speaks of one. Whoever
	// queues it names the client record (store.Message.ClientID) or the
	// portal account (AccountID) it concerns, by which the client's erasure
	// finds it (TestClientKindsNameTheirClient).
	Client bool
}

// Expiry is until when a message may go out; past it, it is never sent.
type Expiry struct {
	// Until names the time argument it expires at: its link's own expiry,
	// its session's start.
	Until string
	// Given: the sender sets ExpiresAt (a code's validity, which the message
	// does not otherwise say).
	Given bool
	// With neither, it may wait store.DefaultMessageTTL unless the sender says less.
}

var (
	email       = []store.Channel{store.ChannelEmail}
	emailOrText = []store.Channel{store.ChannelEmail, store.ChannelSMS}
)

// kinds is every kind of message, by name: the one table the outbox writes,
// checks and expires messages with.
var kinds = map[string]Kind{
	Invite: {Channels: email, Args: []string{"Name", "Inviter", "Role"}, Times: []string{"Expires"}, Secret: true,
		Expiry: Expiry{Until: "Expires"}, Write: writeInvite, Void: staffTokenVoid(store.StaffInvite)},
	StaffReset: {Channels: email, Args: []string{"Name"}, Times: []string{"Expires"}, Secret: true,
		Expiry: Expiry{Until: "Expires"}, Write: writeStaffReset, Void: staffTokenVoid(store.StaffReset)},
	PortalVerify: {Channels: email, Times: []string{"Expires"}, Secret: true, Client: true,
		Expiry: Expiry{Until: "Expires"}, Write: portalLinkEmail("verify", "/portal/verify/"), Void: accountTokenVoid(store.TokenVerify)},
	PortalReset: {Channels: email, Times: []string{"Expires"}, Secret: true, Client: true,
		Expiry: Expiry{Until: "Expires"}, Write: portalLinkEmail("reset", "/portal/reset/"), Void: accountTokenVoid(store.TokenReset)},
	PortalExists: {Channels: email, Client: true, Write: writePortalExists},
	PortalAccess: {Channels: email, Args: []string{"FirstName"}, Client: true, Write: portalPlainEmail("portal_access")},
	PortalLinked: {Channels: email, Args: []string{"FirstName"}, Client: true, Write: portalPlainEmail("portal_linked")},
	PhonesAdded:  {Channels: email, Args: []string{"Staff", "Name", "Numbers", "Path"}, Client: true, Write: writePhonesAdded},
	Reminder: {Channels: email, Args: []string{"FirstName", "Kind", "Minutes"}, Times: []string{"Start"}, Client: true,
		Expiry: Expiry{Until: "Start"}, Write: writeReminder, Void: reminderVoid},
	ShareLink: {Channels: email, Args: []string{"Name", "Message"}, Times: []string{"Expires"}, Secret: true, Client: true,
		Expiry: Expiry{Until: "Expires"}, Write: writeShareLink, Void: shareLinkVoid},
	ShareCode: {Channels: emailOrText, Args: []string{"Name", "Minutes", share.ArgShare}, Secret: true, Client: true,
		Expiry: Expiry{Given: true}, Write: writeShareCode, Void: shareCodeVoid},
	ShareReminder: {Channels: email, Args: []string{"Name"}, Times: []string{"Expires"}, Secret: true, Client: true,
		Expiry: Expiry{Until: "Expires"}, Write: writeShareReminder, Void: shareReminderVoid},
	ShareStaff: {Channels: email, Args: []string{"Event", "Name", "File", "Staff", "Path"}, Client: true, Write: writeShareStaff},
	PresoCode: {Channels: emailOrText, Args: []string{"Title", share.ArgShare}, Times: []string{"Expires"}, Secret: true, Client: true,
		Expiry: Expiry{Until: "Expires"}, Write: writePresoCode, Void: shareCodeVoid},
	PresoViewed: {Channels: email, Args: []string{"Viewer", "Title", "Slides", "Path"}, Times: []string{"Start"}, Client: true,
		Write: writePresoViewed},
	BackupFailed: {Channels: email, Args: []string{"Name", "Kind", "Target"}, Times: []string{"Since"}, Write: writeBackupFailed, Void: backupVoid},
}

// kindNames lists the names of every kind of message, sorted.
func kindNames() []string {
	out := make([]string, 0, len(kinds))
	for name := range kinds {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

// ErrMessage is what Prepare's errors wrap: a message its kind refuses.
var ErrMessage = errors.New("mail: message refused")

// Prepare checks a message against its kind before it enters the outbox
// (the store calls it, see store.WithMessageCheck): a kind the table lacks, a
// lane it does not travel, a missing argument or secret, a time that does not
// read, or no expiry where the sender must give one, is refused. It sets the
// message's expiry by its kind: never later than the time its kind expires at.
func Prepare(m *store.Message) error {
	k, ok := kinds[m.Kind]
	if !ok {
		return fmt.Errorf("%w: no kind %q", ErrMessage, m.Kind)
	}
	if !slices.Contains(k.Channels, m.Channel) {
		return fmt.Errorf("%w: %s does not go by %q", ErrMessage, m.Kind, m.Channel)
	}
	if m.To == "" {
		return fmt.Errorf("%w: %s has no recipient", ErrMessage, m.Kind)
	}
	if k.Secret && m.Secret == "" {
		return fmt.Errorf("%w: %s carries no link or code", ErrMessage, m.Kind)
	}
	for _, a := range k.Args {
		if _, ok := m.Args[a]; !ok {
			return fmt.Errorf("%w: %s lacks its argument %s", ErrMessage, m.Kind, a)
		}
	}
	for _, a := range k.Times {
		if _, err := time.Parse(time.RFC3339, m.Args[a]); err != nil {
			return fmt.Errorf("%w: %s: argument %s is not a time", ErrMessage, m.Kind, a)
		}
	}
	switch {
	case k.Expiry.Until != "":
		until, err := time.Parse(time.RFC3339, m.Args[k.Expiry.Until])
		if err != nil {
			return fmt.Errorf("%w: %s: argument %s is not a time", ErrMessage, m.Kind, k.Expiry.Until)
		}
		if m.ExpiresAt.IsZero() || m.ExpiresAt.After(until) {
			m.ExpiresAt = until
		}
	case k.Expiry.Given && m.ExpiresAt.IsZero():
		return fmt.Errorf("%w: %s needs an expiry", ErrMessage, m.Kind)
	}
	return nil
}

// staffTokenVoid: an invitation or reset link is void once used, cancelled or replaced.
func staffTokenVoid(kind store.StaffTokenKind) func(m *Mailer, _ store.Message, secret string) bool {
	return func(m *Mailer, _ store.Message, secret string) bool {
		_, err := m.store.PeekStaffToken(kind, secret, m.now())
		return err != nil
	}
}

// accountTokenVoid: a portal link is void once used or voided (a password change).
func accountTokenVoid(kind store.TokenKind) func(m *Mailer, _ store.Message, secret string) bool {
	return func(m *Mailer, _ store.Message, secret string) bool {
		_, err := m.store.PeekAccountToken(kind, secret, m.now())
		return err != nil
	}
}

// reminderVoid: the session was cancelled or moved since the reminder was written.
func reminderVoid(m *Mailer, msg store.Message, _ string) bool {
	id, err := strconv.ParseUint(msg.Args["Appointment"], 10, 64)
	if err != nil {
		return false // queued before reminders named their appointment
	}
	ap, err := m.store.Appointment(id)
	return err != nil || ap.Status != store.StatusBooked || TimeArg(ap.Start) != msg.Args["Start"]
}
