// Package mailtest holds a message of every kind the outbox sends, as the
// code that queues it writes it: for the mail package's tests and for the
// browser tests that look at the emails. It names the kinds by their values,
// as package mail cannot be imported by its own tests' helpers; the mail
// tests fail on a kind that has no sample here.
package mailtest

import (
	"time"

	"foyer/share"
	"foyer/store"
)

// LinkToken is a link token as Foyer makes them (43 characters).
const LinkToken = "Zt0kEn-for-a-test_link-of-43-characters-abc"

// Samples returns a message of every kind, by kind, for a clock at now: the
// emails to zoe@example.org, the texts to +33612345678.
func Samples(now time.Time) map[string]store.Message {
	when := now.Add(24 * time.Hour).UTC().Format(time.RFC3339)
	email := func(kind, secret string, args map[string]string) store.Message {
		return store.Message{Channel: store.ChannelEmail, To: "zoe@example.org", ClientID: 1, Kind: kind, Secret: secret, Args: args}
	}
	sms := func(m store.Message) store.Message {
		m.Channel, m.To, m.ExpiresAt = store.ChannelSMS, "+33612345678", now.Add(10*time.Minute)
		return m
	}
	slides := `[{"t":"Votre bilan","ms":65000},{"t":"La suite","ms":4000}]`
	return map[string]store.Message{
		"invite":         email("invite", LinkToken, map[string]string{"Name": "Kim", "Inviter": "Olive Owner", "Role": "practitioner", "Expires": when}),
		"staff_reset":    email("staff_reset", LinkToken, map[string]string{"Name": "Kim", "Expires": when}),
		"portal_verify":  email("portal_verify", LinkToken, map[string]string{"Expires": when}),
		"portal_reset":   email("portal_reset", LinkToken, map[string]string{"Expires": when}),
		"portal_exists":  email("portal_exists", "", nil),
		"portal_access":  email("portal_access", "", map[string]string{"FirstName": "Zoé"}),
		"portal_linked":  email("portal_linked", "", map[string]string{"FirstName": "Zoé"}),
		"phones_added":   email("phones_added", "", map[string]string{"Staff": "Olive Owner", "Name": "Zoé Martin", "Numbers": "06 12 34 56 78", "Path": "/clients/1"}),
		"reminder":       email("reminder", "", map[string]string{"Appointment": "1", "FirstName": "Zoé", "Start": when, "Practitioner": "Olive Owner", "Kind": "video", "Minutes": "50", "Portal": "1"}),
		"share_link":     email("share_link", LinkToken, map[string]string{"Name": "Zoé Martin", "Message": "Voici le bilan.", "Expires": when}),
		"share_code":     sms(email("share_code", "123456", map[string]string{"Name": "Zoé Martin", "Minutes": "10", share.ArgShare: "1"})),
		"share_reminder": email("share_reminder", LinkToken, map[string]string{"Name": "Zoé Martin", "Expires": when}),
		"share_staff":    email("share_staff", "", map[string]string{"Event": "first_download", "Name": "Zoé Martin", "File": "bilan.pdf", "Staff": "Olive Owner", "Path": "/clients/1#share-1"}),
		"preso_code":     sms(email("preso_code", "654321", map[string]string{"Title": "Votre bilan", "Expires": now.Add(10 * time.Minute).UTC().Format(time.RFC3339), share.ArgShare: "2"})),
		"preso_viewed":   email("preso_viewed", "", map[string]string{"Viewer": "Zoé Martin", "Title": "Votre bilan", "Start": when, "Slides": slides, "Path": "/presos/1/share/2"}),
		"backup_failed":  email("backup_failed", "", map[string]string{"Name": "Olive Owner", "Kind": "credentials", "Target": "https://s3.fr-par.scw.cloud/cabinet/foyer", "Since": when}),
	}
}
