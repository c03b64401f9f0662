package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"foyer/auth"
	"foyer/store"
)

// demoPassword opens every account of the demo practice.
const demoPassword = "foyer demo 2026"

// demoPerson is one client of the demo practice.
type demoPerson struct {
	first, last, phone, phoneType, city string
	born                                string
	lang                                string
}

// The demo's clients: ordinary French names, varied details (some with no
// email, a landline only, an address or not), a few who speak English.
var demoPeople = []demoPerson{
	{"Éloïse", "Durand", "06 12 34 56 78", "mobile", "75011 Paris", "1985-04-12", "fr"},
	{"Marc", "Dupont", "01 42 00 00 00", "work", "", "1972-09-03", "fr"},
	{"Anne", "Zola", "", "", "", "", "en"},
	{"Lucas", "Bernard", "06 21 43 65 87", "mobile", "92100 Boulogne-Billancourt", "1990-01-22", "fr"},
	{"Chloé", "Petit", "07 81 22 33 44", "mobile", "75015 Paris", "1996-07-30", "fr"},
	{"Hugo", "Robert", "06 45 67 89 01", "mobile", "", "1988-11-11", "fr"},
	{"Inès", "Richard", "06 98 76 54 32", "mobile", "94300 Vincennes", "1979-02-14", "fr"},
	{"Thomas", "Moreau", "01 45 67 89 12", "home", "75012 Paris", "1965-05-05", "fr"},
	{"Léa", "Simon", "06 11 22 33 55", "mobile", "", "2001-03-19", "fr"},
	{"Nathan", "Laurent", "", "", "93100 Montreuil", "1993-08-08", "fr"},
	{"Manon", "Lefebvre", "06 33 44 55 66", "mobile", "75020 Paris", "1987-12-01", "fr"},
	{"Louis", "Michel", "06 77 88 99 00", "mobile", "", "1959-06-25", "fr"},
	{"Camille", "Garcia", "07 66 55 44 33", "mobile", "75010 Paris", "1998-10-10", "fr"},
	{"Sarah", "Cohen", "+44 7700 900123", "mobile", "", "1984-04-04", "en"},
	{"Jules", "Fournier", "06 14 25 36 47", "mobile", "92130 Issy-les-Moulineaux", "1975-09-17", "fr"},
	{"Emma", "Girard", "06 58 69 70 81", "mobile", "75014 Paris", "1991-02-02", "fr"},
	{"Adam", "Bonnet", "01 43 21 65 87", "home", "", "1969-07-07", "fr"},
	{"Jade", "Dupuis", "06 24 68 13 57", "mobile", "75018 Paris", "1999-05-21", "fr"},
	{"Raphaël", "Lambert", "06 97 53 18 64", "mobile", "", "1982-03-03", "fr"},
	{"Alice", "Fontaine", "06 86 42 97 31", "mobile", "94200 Ivry-sur-Seine", "1977-01-15", "fr"},
	{"Gabriel", "Rousseau", "", "", "", "1994-09-29", "fr"},
	{"Zoé", "Vincent", "07 12 34 56 70", "mobile", "75019 Paris", "2003-06-06", "fr"},
	{"Arthur", "Muller", "06 31 41 59 26", "mobile", "", "1962-12-24", "fr"},
	{"Louise", "Lefèvre", "06 27 18 28 18", "mobile", "75005 Paris", "1986-08-18", "fr"},
	{"Mohamed", "Benali", "06 16 18 03 39", "mobile", "93200 Saint-Denis", "1980-10-31", "fr"},
	{"Yasmine", "Haddad", "06 41 42 13 56", "mobile", "", "1997-04-27", "fr"},
	{"Paul", "Mercier", "01 40 20 30 40", "work", "75008 Paris", "1970-02-28", "fr"},
	{"Olivia", "Brown", "+1 415 555 0132", "mobile", "", "1989-11-02", "en"},
	{"Victor", "Blanc", "06 52 63 74 85", "mobile", "75013 Paris", "1992-07-14", "fr"},
	{"Clara", "Guerin", "06 19 28 37 46", "mobile", "", "1983-09-09", "fr"},
}

var demoStreets = []string{"rue des Lilas", "avenue Parmentier", "rue de la Roquette", "boulevard Voltaire", "rue Oberkampf", "rue du Faubourg Saint-Antoine", "rue de Charonne", "place de la Nation"}

// demo fills a fresh data directory with a believable practice: three
// practitioners and an assistant, about 30 clients, two weeks of sessions
// around today with receipts for those paid, and four sign-ups waiting,
// one of whom is already a client. French unless -lang en.
func demo(cfg config, out io.Writer) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	lang := cfg.demoLang
	if lang != "en" {
		lang = "fr"
	}
	st, err := openStore(cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	hash := auth.HashPassword(demoPassword)
	p := store.DefaultPractice()
	p.Name, p.DefaultLang, p.BrandColor, p.AllowSignup = "Cabinet Lumière", lang, "#2f5d62", true
	if lang == "en" {
		p.Name = "Lumière Counselling"
	}
	p.Address, p.Phone, p.ContactEmail, p.SIRET = "12 rue de la Paix\n75002 Paris", "01 42 60 00 00", "contact@lumiere.demo.foyer.test", "73282932000074"
	owner := &store.Staff{Name: "Claire Martin", Email: "owner@demo.foyer.test", Lang: lang, PasswordHash: hash, ProfessionalNo: "10001234567"}
	if err := st.Setup(p, owner); errors.Is(err, store.ErrAlreadySetUp) {
		return fmt.Errorf("%s already holds a practice; give demo a fresh directory with -data", cfg.data)
	} else if err != nil {
		return err
	}
	others := []store.Staff{
		{Name: "Nadia Benali", Email: "admin@demo.foyer.test", Role: store.RoleAdmin, Lang: lang},
		{Name: "Julien Moreau", Email: "practitioner@demo.foyer.test", Role: store.RolePractitioner, Lang: lang, ProfessionalNo: "10009876543"},
		{Name: "Sophie Lefèvre", Email: "sophie@demo.foyer.test", Role: store.RolePractitioner, Lang: lang, ProfessionalNo: "759912345"},
	}
	practitioners := []uint64{owner.ID}
	for _, o := range others {
		o.Active, o.PasswordHash = true, hash
		if err := st.CreateStaff(&o); err != nil {
			return err
		}
		if o.Role == store.RolePractitioner {
			practitioners = append(practitioners, o.ID)
		}
	}
	clients, err := demoClients(st, practitioners, lang, hash)
	if err != nil {
		return err
	}
	if err := demoAppointments(st, clients); err != nil {
		return err
	}
	if err := demoProspects(st, lang, hash); err != nil {
		return err
	}
	if cfg.scale > 0 {
		if err := demoScale(st, practitioners, cfg.scale, hash, out); err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "Demo practice %q created in %s.\nStart Foyer with:  go run . -data %s\nThen sign in at http://localhost:8080/signin with any of these (password %q):\n", p.Name, cfg.data, cfg.data, demoPassword)
	fmt.Fprintf(out, "  owner@demo.foyer.test (owner, Claire Martin)\n  admin@demo.foyer.test (admin, Nadia Benali)\n  practitioner@demo.foyer.test (practitioner, Julien Moreau)\n")
	fmt.Fprintf(out, "The client portal is at http://localhost:8080/portal: sign in as eloise@demo.foyer.test (same password).\n")
	return nil
}

// demoClients adds the clients, shared between the practitioners, and gives
// Éloïse Durand (the first) a portal account.
func demoClients(st *store.Store, practitioners []uint64, lang, hash string) ([]store.Client, error) {
	var out []store.Client
	for i, d := range demoPeople {
		c := store.Client{FirstName: d.first, LastName: d.last, Lang: d.lang, BirthDate: d.born,
			PractitionerID: practitioners[i%len(practitioners)]}
		if lang == "en" && i%3 == 0 {
			c.Lang = "en"
		}
		if i%5 != 4 { // one in five gave no email
			c.Email = strings.ToLower(demoASCII(d.first)+"."+demoASCII(d.last)) + "@demo.foyer.test"
		}
		if i == 0 {
			c.Email = "eloise@demo.foyer.test"
		}
		if d.phone != "" {
			e164, mobile := demoPhone(d.phone)
			c.Phones = []store.Phone{{Type: store.PhoneType(d.phoneType), Number: e164, Mobile: mobile}}
		}
		if d.city != "" {
			c.Address = fmt.Sprintf("%d %s\n%s", 3+i*7%90, demoStreets[i%len(demoStreets)], d.city)
		}
		if i%6 == 1 {
			c.Notes = map[string]string{"fr": "Préfère les rendez-vous en fin de journée.", "en": "Prefers late-afternoon sessions."}[lang]
		}
		if err := st.CreateClient(&c); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if _, _, err := st.SetClientCredentials(out[0].ID, out[0].Email, hash, out[0].Lang); err != nil {
		return nil, err
	}
	return out, nil
}

// demoAppointments books two weeks of sessions around today, on weekdays,
// for every practitioner: those past were attended (a few cancelled) and
// most paid, in order, so receipt numbers follow the calendar.
func demoAppointments(st *store.Store, clients []store.Client) error {
	zone, _ := time.LoadLocation("Europe/Paris")
	now := time.Now().In(zone)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, zone)
	hours := []int{9, 10, 11, 14, 15, 16, 17}
	n := 0
	for offset := -14; offset <= 14; offset++ {
		day := today.AddDate(0, 0, offset)
		if wd := day.Weekday(); wd == time.Saturday || wd == time.Sunday {
			continue
		}
		for slot := range 3 {
			n++
			cl := clients[(n*7)%len(clients)]
			if offset == 7 && slot == 0 || offset == -7 && slot == 0 || offset == -14 && slot == 0 {
				cl = clients[0] // Éloïse comes weekly: her My account has a history and receipts
			}
			start := day.Add(time.Duration(hours[(n+slot*2)%len(hours)]) * time.Hour)
			kind := store.KindInPerson
			if n%4 == 0 {
				kind = store.KindVideo
			}
			a := &store.Appointment{ClientID: cl.ID, PractitionerID: cl.PractitionerID, Start: start.UTC(), Minutes: []int{50, 50, 60, 45}[n%4],
				Kind: kind, FeeCents: []int64{7000, 8000, 6000, 9000}[n%4], Currency: "EUR", CreatedAt: start.AddDate(0, 0, -10).UTC()}
			if err := st.CreateAppointment(a); err != nil {
				return err
			}
			if !start.Before(now) {
				continue
			}
			cancelled := n%9 == 0
			paid := !cancelled && n%7 != 3 // a few past sessions still to be paid
			if _, err := st.UpdateAppointment(a.ID, func(a *store.Appointment) error {
				a.Status, a.ReminderSent = store.StatusAttended, true
				if cancelled {
					a.Status = store.StatusCancelled
				}
				if paid {
					a.Paid, a.PaidAt = true, a.Start.Add(time.Duration(a.Minutes)*time.Minute)
				}
				return nil
			}); err != nil {
				return err
			}
		}
	}
	return nil
}

// demoProspects adds four sign-ups: three new people and one who is
// already a client (same phone, name and date of birth as her record), for
// Prospects → Associate.
func demoProspects(st *store.Store, lang, hash string) error {
	for i, s := range []store.SignUp{
		{FirstName: "Zoé", LastName: "Martin", Phone: "+33611111111", BirthDate: "1990-04-01"},
		{FirstName: "Karim", LastName: "Haddad", Phone: "+33622334455", BirthDate: "1986-02-17"},
		{FirstName: "Margaux", LastName: "Perrin", BirthDate: "2000-12-05"},
		{FirstName: "Chloé", LastName: "Petit", Phone: "+33781223344", BirthDate: "1996-07-30"},
	} {
		email := strings.ToLower(demoASCII(s.FirstName)+"."+demoASCII(s.LastName)) + "@demo.foyer.test"
		if i == 0 {
			email = "zoe@demo.foyer.test"
		}
		a := &store.Account{Email: email, PasswordHash: hash, Lang: lang, SignUp: s, Verified: i != 2}
		if a.Verified {
			a.VerifiedBy = "email"
		}
		if i == 3 {
			// Chloé Petit is a client already: her sign-up uses another address,
			// and Prospects suggests her record by phone, name and date of birth.
			a.Email = "chloe.p@demo.foyer.test"
		}
		if err := st.CreateAccount(a); err != nil {
			return err
		}
	}
	return nil
}

// demoPhone reads a demo number as the practice (in France) would.
func demoPhone(raw string) (e164 string, mobile bool) {
	digits := strings.NewReplacer(" ", "").Replace(raw)
	if strings.HasPrefix(digits, "0") {
		digits = "+33" + digits[1:]
	}
	return digits, strings.HasPrefix(digits, "+336") || strings.HasPrefix(digits, "+337") || strings.HasPrefix(digits, "+447") || strings.HasPrefix(digits, "+1")
}

// demoASCII turns a first or last name into the letters of an email address.
func demoASCII(s string) string {
	r := strings.NewReplacer("é", "e", "è", "e", "ë", "e", "ê", "e", "ï", "i", "î", "i", "ô", "o", "à", "a", "ç", "c", "É", "E", "È", "E", " ", "")
	return r.Replace(s)
}
