package main

import (
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"foyer/auth"
	"foyer/mail"
	"foyer/share"
	"foyer/store"
)

// Per client, the scaled demo stores this many past sessions and sent
// reminders: with 100,000 clients, about a million stored events.
const (
	demoPastSessions = 4
	demoSentMessages = 5
	// One client in demoShareEvery was sent documents through a secure
	// link, long expired, with its history kept (demoShareEvents events).
	demoShareEvery  = 4
	demoShareEvents = 7
	// demoBatch records go in one transaction: large enough to make few
	// fsyncs, small enough to keep a transaction's dirty pages in a few MB.
	demoBatch = 2000
)

var (
	demoFirst = []string{"Éloïse", "Marc", "Anne", "Zoé", "Louis", "Chloé", "Hugo", "Léa", "Paul", "Inès", "Jules", "Camille",
		"Lucas", "Manon", "Gabriel", "Jade", "Arthur", "Louise", "Raphaël", "Emma", "Noah", "Alice", "Adam", "Lina", "Nathan",
		"Rose", "Tom", "Anna", "Théo", "Juliette", "Oliver", "Amelia", "George", "Isla", "Harry", "Ava", "Jack", "Mia", "Leo", "Grace"}
	demoLast = []string{"Durand", "Dupont", "Martin", "Bernard", "Petit", "Roux", "Moreau", "Lefèvre", "Garnier", "Faure",
		"Thomas", "Robert", "Richard", "Dubois", "Laurent", "Simon", "Michel", "Leroy", "Lambert", "Bonnet", "François", "Girard",
		"André", "Mercier", "Blanc", "Guérin", "Boyer", "Chevalier", "Gauthier", "Perrin", "Smith", "Jones", "Taylor", "Brown",
		"Williams", "Wilson", "Johnson", "Davies", "Robinson", "Wright", "Müller", "Nguyen", "Da Silva", "Benali", "O'Brien",
		"Rossi", "García", "Kowalski", "Haddad", "Diallo"}
)

// demoScale adds n clients spread over the practitioners, as many prospects,
// demoPastSessions attended sessions per client and one upcoming session
// for one client in ten, and demoSentMessages sent reminders per client, in
// batches. Everyone is made up: emails under example.org, phone numbers in
// ranges of no one's.
func demoScale(st *store.Store, practitioners []uint64, n int, passwordHash string, out io.Writer) error {
	start := time.Now()
	r := rand.New(rand.NewPCG(2026, uint64(n)))
	now := time.Now().UTC().Truncate(time.Hour)
	for from := 0; from < n; from += demoBatch {
		err := st.Batch(func(b *store.Batch) error {
			for i := from; i < min(n, from+demoBatch); i++ {
				if err := demoScalePerson(b, r, practitioners, i, now, passwordHash); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	shares := (n + demoShareEvery - 1) / demoShareEvery
	fmt.Fprintf(out, "Added %d clients, %d prospects, %d sessions, %d sent messages and %d document shares (%d events) in %s.\n",
		n, n, n*demoPastSessions+n/10, n*demoSentMessages, shares, shares*demoShareEvents, time.Since(start).Round(time.Millisecond))
	return nil
}

func demoScalePerson(b *store.Batch, r *rand.Rand, practitioners []uint64, i int, now time.Time, passwordHash string) error {
	first, last := demoFirst[r.IntN(len(demoFirst))], demoLast[r.IntN(len(demoLast))]
	lang := []string{"fr", "en"}[i%2]
	local := strings.NewReplacer(" ", "", "'", "").Replace(store.Fold(first + "." + last))
	c := &store.Client{FirstName: first, LastName: last, Lang: lang, PractitionerID: practitioners[i%len(practitioners)],
		Email: local + "." + strconv.Itoa(i) + "@example.org",
		// +33 6 99 is not given to any operator in this form: no real phone.
		Phones:    []store.Phone{{Type: store.PhoneMobile, Number: fmt.Sprintf("+33699%06d", i%1000000), Mobile: true}},
		BirthDate: fmt.Sprintf("%04d-%02d-%02d", 1940+r.IntN(65), 1+r.IntN(12), 1+r.IntN(28)),
		CreatedAt: now.Add(-time.Duration(r.IntN(3*365*24)) * time.Hour)}
	if err := b.AddClient(c); err != nil {
		return err
	}
	for k := range demoPastSessions {
		a := &store.Appointment{ClientID: c.ID, PractitionerID: c.PractitionerID, Minutes: 50, Kind: store.KindInPerson,
			FeeCents: 8000, Currency: "EUR", Status: store.StatusAttended,
			Start: now.Add(-time.Duration(7*(k+1)+r.IntN(300)) * 24 * time.Hour)}
		if err := b.AddAppointment(a); err != nil {
			return err
		}
	}
	if i%10 == 0 {
		// From the day after tomorrow: no reminder falls due at the first start.
		a := &store.Appointment{ClientID: c.ID, PractitionerID: c.PractitionerID, Minutes: 50, Kind: store.KindVideo,
			FeeCents: 8000, Currency: "EUR", Start: now.Add(time.Duration(48+r.IntN(58*24)) * time.Hour)}
		if err := b.AddAppointment(a); err != nil {
			return err
		}
	}
	for k := range demoSentMessages {
		sent := now.Add(-time.Duration(k*30+r.IntN(30)+1) * 24 * time.Hour)
		m := &store.Message{Channel: store.ChannelEmail, To: c.Email, Lang: lang, Kind: mail.Reminder, State: store.StateSent,
			Args:     map[string]string{"FirstName": first, "Start": sent.Add(24 * time.Hour).Format(time.RFC3339), "Kind": string(store.KindInPerson), "Minutes": "50"},
			ClientID: c.ID, Attempts: 1, CreatedAt: sent, NextAttempt: sent, DoneAt: sent, ExpiresAt: sent.Add(24 * time.Hour)}
		if err := b.AddMessage(m); err != nil {
			return err
		}
	}
	if i%demoShareEvery == 0 {
		if err := demoScaleShare(b, r, c, now); err != nil {
			return err
		}
	}
	pFirst, pLast := demoFirst[r.IntN(len(demoFirst))], demoLast[r.IntN(len(demoLast))]
	a := &store.Account{Email: "prospect." + strconv.Itoa(i) + "@example.org", PasswordHash: passwordHash, Lang: lang, Verified: i%2 == 0,
		SignUp:    store.SignUp{FirstName: pFirst, LastName: pLast, Phone: fmt.Sprintf("+33799%06d", i%1000000)},
		CreatedAt: now.Add(-time.Duration(r.IntN(90*24)) * time.Hour)}
	if a.Verified {
		a.VerifiedBy = "email"
	}
	return b.AddAccount(a)
}

var demoUserAgents = []string{
	"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (Linux; Android 15; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
}

// demoScaleShare adds a document share sent to client c a few months ago:
// the code, the verification and two downloads, then its expiry and purge.
// Its link is long dead, so its token is thrown away.
func demoScaleShare(b *store.Batch, r *rand.Rand, c *store.Client, now time.Time) error {
	sent := now.Add(-time.Duration(30+r.IntN(300)) * 24 * time.Hour)
	expired := sent.Add(share.DefaultLifetime)
	file := "Bilan " + strconv.Itoa(sent.Year()) + ".pdf"
	ua := demoUserAgents[r.IntN(len(demoUserAgents))]
	sh := &store.Share{Kind: store.ShareFiles, ClientID: c.ID, StaffID: c.PractitionerID, Visibility: store.VisibilityContacts,
		Recipients: []store.ShareRecipient{{Name: c.FirstName + " " + c.LastName, Email: c.Email, Mobiles: []string{c.Phones[0].Number}, Lang: c.Lang, ClientID: c.ID}},
		State:      store.ShareExpired, CreatedAt: sent, ExpiresAt: expired, EndedAt: expired, FirstDownloadAt: sent.Add(2 * time.Hour), Purged: true}
	events := []store.ShareEvent{
		{At: sent, Type: share.EventSent, Recipient: -1, StaffID: c.PractitionerID, Detail: file},
		{At: sent.Add(2 * time.Hour), Type: share.EventCodeSent, Recipient: 0, Detail: string(store.ChannelSMS) + " " + share.Mask(store.ChannelSMS, c.Phones[0].Number), UserAgent: ua},
		{At: sent.Add(2*time.Hour + time.Minute), Type: share.EventVerified, Recipient: 0, UserAgent: ua},
		{At: sent.Add(2*time.Hour + 2*time.Minute), Type: share.EventDownloaded, Recipient: 0, Item: 1, Detail: file, UserAgent: ua},
		{At: sent.Add(5 * 24 * time.Hour), Type: share.EventDownloaded, Recipient: 0, Item: 1, Detail: file, UserAgent: ua},
		{At: expired, Type: share.EventExpired, Recipient: -1},
		{At: expired.Add(time.Hour), Type: share.EventPurged, Recipient: -1},
	}
	return b.AddShare(sh, auth.NewToken(), events[:demoShareEvents])
}
