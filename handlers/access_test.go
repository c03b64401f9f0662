package handlers

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"foyer/access"
	"foyer/store"
)

// accessPractice is a practice with two practitioners, each with a client
// who has a portal account, and everything a loader can load of the first
// client: sessions (a paid video one, one a colleague holds), a document
// share to the client and one about them to their lawyer, a preso.
type accessPractice struct {
	a        *testApp
	browsers map[string]*browser
	// x is Pat's client, y is Sam's.
	x, y                store.Client
	apX, apXBySam, apY  store.Appointment
	shX, shXLawyer, shY store.Share
	preso               store.Preso
}

func newAccessPractice(t *testing.T) *accessPractice {
	t.Helper()
	a := newTestApp(t)
	p := &accessPractice{a: a, browsers: map[string]*browser{"owner": a.setUp()}}
	admin := a.addStaff("Ada Admin", "ada@example.org", store.RoleAdmin)
	pat := a.addStaff("Pat Practitioner", "pat@example.org", store.RolePractitioner)
	sam := a.addStaff("Sam Practitioner", "sam@example.org", store.RolePractitioner)
	for name, st := range map[string]store.Staff{"admin": admin, "pat": pat, "sam": sam} {
		p.browsers[name] = a.signIn(st.Email, staffPassword)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	p.x = store.Client{FirstName: "Xavier", LastName: "Xylo", Lang: "en", PractitionerID: pat.ID}
	p.y = store.Client{FirstName: "Yvonne", LastName: "Yew", Lang: "en", PractitionerID: sam.ID}
	must(a.st.CreateClient(&p.x))
	must(a.st.CreateClient(&p.y))
	for name, cl := range map[string]store.Client{"client X": p.x, "client Y": p.y} {
		email := fmt.Sprintf("client%d@example.org", cl.ID)
		_, _, err := a.st.SetClientCredentials(cl.ID, email, testHash, "en")
		must(err)
		b := a.browser()
		if r := b.post("/portal", formOf("email", email, "password", staffPassword)); r.Code != http.StatusSeeOther {
			t.Fatalf("%s signs in: %d", name, r.Code)
		}
		p.browsers[name] = b
	}
	// Sessions at 10:20 UTC: their rooms are open at the test clock's 10:00.
	at := a.now().Add(20 * time.Minute)
	p.apX = store.Appointment{ClientID: p.x.ID, PractitionerID: pat.ID, Start: at, Minutes: 50, Kind: store.KindVideo, FeeCents: 8000, Currency: "EUR", Paid: true, PaidAt: at, ReceiptNo: 1}
	p.apXBySam = store.Appointment{ClientID: p.x.ID, PractitionerID: sam.ID, Start: at.Add(24 * time.Hour), Minutes: 50, Kind: store.KindVideo, FeeCents: 8000, Currency: "EUR"}
	p.apY = store.Appointment{ClientID: p.y.ID, PractitionerID: sam.ID, Start: at, Minutes: 50, Kind: store.KindVideo, FeeCents: 8000, Currency: "EUR", Paid: true, PaidAt: at, ReceiptNo: 2}
	for _, ap := range []*store.Appointment{&p.apX, &p.apXBySam, &p.apY} {
		must(a.st.CreateAppointment(ap))
	}
	share := func(sh *store.Share, token string) {
		sh.Kind, sh.State, sh.CreatedAt, sh.ExpiresAt = store.ShareFiles, store.ShareActive, a.now(), a.now().Add(20*24*time.Hour)
		must(a.st.CreateShare(sh, token, nil, nil))
	}
	p.shX = store.Share{ClientID: p.x.ID, StaffID: pat.ID, Recipients: []store.ShareRecipient{{Name: "Xavier Xylo", ClientID: p.x.ID, Lang: "en"}}}
	p.shXLawyer = store.Share{ClientID: p.x.ID, StaffID: pat.ID, Recipients: []store.ShareRecipient{{Name: "Maître Lawyer", Email: "lawyer@example.org", Lang: "fr"}}}
	p.shY = store.Share{ClientID: p.y.ID, StaffID: sam.ID, Recipients: []store.ShareRecipient{{Name: "Yvonne Yew", ClientID: p.y.ID, Lang: "en"}}}
	share(&p.shX, strings.Repeat("x", 43))
	share(&p.shXLawyer, strings.Repeat("l", 43))
	share(&p.shY, strings.Repeat("y", 43))
	p.preso = store.Preso{Title: "Xavier's plan", OwnerID: pat.ID, ContactIDs: []uint64{p.x.ID}, CreatedAt: a.now()}
	p.preso.AddSlide(store.Slide{Kind: store.SlideContent, Title: "One"})
	must(a.st.CreatePreso(&p.preso, pat.ID))
	return p
}

// Every loader of a client's data, for every kind of viewer, on one practice
// (the refused posts change nothing, so the parts cannot disturb each other).
func TestWhoMaySeeAClient(t *testing.T) {
	t.Parallel()
	p := newAccessPractice(t)
	t.Run("staff", func(t *testing.T) { staffReachWhatTheyMay(t, p) })
	t.Run("portal", func(t *testing.T) { portalClientReachesOnlyTheirOwn(t, p) })
	t.Run("journal", func(t *testing.T) { loadersTellThePolicyWhoWhatWhich(t, p) })
}

// staffReachWhatTheyMay: the table is who may see what; everyone else gets
// 404, as if it did not exist.
func staffReachWhatTheyMay(t *testing.T, p *accessPractice) {
	x, apX, apSam := p.x.ID, p.apX.ID, p.apXBySam.ID
	staff := []string{"owner", "admin", "pat", "sam"}
	cases := []struct {
		name, path string
		// allowed are the staff members who get 200; the others get 404.
		allowed []string
		// want is on the page of those allowed.
		want string
	}{
		{"client record", fmt.Sprintf("/clients/%d", x), []string{"owner", "admin", "pat"}, "Xylo"},
		{"its presos and shares", fmt.Sprintf("/clients/%d", x), []string{"owner", "admin", "pat"}, "Maître Lawyer"},
		{"client record to edit", fmt.Sprintf("/clients/%d/edit", x), []string{"owner", "admin", "pat"}, "Xavier"},
		{"another practitioner's client", fmt.Sprintf("/clients/%d", p.y.ID), []string{"owner", "admin", "sam"}, "Yew"},
		{"appointment", fmt.Sprintf("/appointments/%d/edit", apX), []string{"owner", "admin", "pat"}, "Xavier"},
		{"appointment a colleague holds", fmt.Sprintf("/appointments/%d/edit", apSam), []string{"owner", "admin", "pat", "sam"}, "Xavier"},
		{"receipt", fmt.Sprintf("/appointments/%d/receipt.pdf", apX), []string{"owner", "admin", "pat"}, "%PDF"},
		{"receipt of an unpaid session", fmt.Sprintf("/appointments/%d/receipt.pdf", apSam), nil, ""},
		{"video room", fmt.Sprintf("/appointments/%d/video", apX), []string{"pat"}, "Xavier"},
		{"share", fmt.Sprintf("/shares/%d/link", p.shX.ID), []string{"owner", "admin", "pat"}, "/s/"},
		{"share of another practitioner's client", fmt.Sprintf("/shares/%d/link", p.shY.ID), []string{"owner", "admin", "sam"}, "/s/"},
	}
	for _, tc := range cases {
		for _, who := range staff {
			want := http.StatusNotFound
			for _, ok := range tc.allowed {
				if ok == who {
					want = http.StatusOK
				}
			}
			r := p.browsers[who].get(tc.path)
			if r.Code != want {
				t.Errorf("%s, %s: %d, want %d", tc.name, who, r.Code, want)
			} else if want == http.StatusOK && tc.want != "" {
				mustContain(t, r, tc.want)
			}
		}
	}
	// The client record lists the presos and shares its viewer may open.
	for _, who := range []string{"owner", "admin", "pat"} {
		mustContain(t, p.browsers[who].get(fmt.Sprintf("/clients/%d", x)), "Xavier&#39;s plan", "Maître Lawyer")
	}
	// Changes are refused alike, and change nothing.
	sam := p.browsers["sam"]
	for _, action := range []string{"archive", "restore", "portal/remove", "appointments", "phones/confirm"} {
		if r := sam.post(fmt.Sprintf("/clients/%d/%s", x, action), nil); r.Code != http.StatusNotFound {
			t.Errorf("Sam posts %s for Pat's client: %d, want 404", action, r.Code)
		}
	}
	if r := sam.post(fmt.Sprintf("/appointments/%d/status", apX), formOf("action", "cancelled")); r.Code != http.StatusNotFound {
		t.Errorf("Sam cancels Pat's session: %d, want 404", r.Code)
	}
	if r := sam.post("/presos", formOf("client", fmt.Sprint(x))); r.Code != http.StatusNotFound {
		t.Errorf("Sam makes a preso for Pat's client: %d, want 404", r.Code)
	}
	if r := sam.post(fmt.Sprintf("/shares/%d/expire", p.shX.ID), nil); r.Code != http.StatusNotFound {
		t.Errorf("Sam expires a share of Pat's client: %d, want 404", r.Code)
	}
	if cl, _ := p.a.st.Client(x); cl.Archived || cl.AccountID == 0 {
		t.Errorf("Sam's refused posts changed the record: %+v", cl)
	}
	if sh, _ := p.a.st.Share(p.shX.ID); !sh.Live() {
		t.Errorf("Sam's refused post expired the share")
	}
	// Lists: a practitioner's search and agenda hold their own only.
	r := sam.get("/clients?q=x")
	mustNotContain(t, r, "Xylo")
	mustContain(t, sam.get("/clients"), "Yew")
	mustContain(t, p.browsers["owner"].get("/clients"), "Xylo", "Yew")
	home := p.browsers["pat"].get("/")
	mustContain(t, home, "Xylo")
	mustNotContain(t, home, "Yew")
}

// portalClientReachesOnlyTheirOwn: a portal client reaches their own
// record's data and nothing else.
func portalClientReachesOnlyTheirOwn(t *testing.T, p *accessPractice) {
	cx, cy := p.browsers["client X"], p.browsers["client Y"]
	cases := []struct {
		who, path string
		status    int
	}{
		{"client X", fmt.Sprintf("/portal/receipts/%d", p.apX.ID), http.StatusOK},
		{"client Y", fmt.Sprintf("/portal/receipts/%d", p.apX.ID), http.StatusNotFound},
		{"client X", fmt.Sprintf("/portal/receipts/%d", p.apY.ID), http.StatusNotFound},
		{"client X", fmt.Sprintf("/portal/receipts/%d", p.apXBySam.ID), http.StatusNotFound}, // not paid
		{"client X", fmt.Sprintf("/portal/video/%d", p.apX.ID), http.StatusOK},
		{"client Y", fmt.Sprintf("/portal/video/%d", p.apX.ID), http.StatusNotFound},
		{"client X", fmt.Sprintf("/portal/shares/%d/not-me", p.shX.ID), http.StatusOK},
		{"client X", fmt.Sprintf("/portal/shares/%d/not-me", p.shXLawyer.ID), http.StatusNotFound},
		{"client Y", fmt.Sprintf("/portal/shares/%d/not-me", p.shX.ID), http.StatusNotFound},
		// Staff pages are not theirs at all.
		{"client X", fmt.Sprintf("/clients/%d", p.x.ID), http.StatusSeeOther},
		{"client X", fmt.Sprintf("/appointments/%d/receipt.pdf", p.apX.ID), http.StatusSeeOther},
	}
	for _, tc := range cases {
		if r := p.browsers[tc.who].get(tc.path); r.Code != tc.status {
			t.Errorf("%s GET %s: %d, want %d", tc.who, tc.path, r.Code, tc.status)
		}
	}
	if r := cy.post(fmt.Sprintf("/portal/shares/%d/not-me", p.shX.ID), nil); r.Code != http.StatusNotFound {
		t.Errorf("client Y reports client X's share: %d, want 404", r.Code)
	}
	// My account lists their own sessions and the share sent to them, not the lawyer's.
	r := cx.get("/portal/account")
	mustContain(t, r, fmt.Sprintf("/portal/receipts/%d", p.apX.ID))
	mustNotContain(t, r, "Maître Lawyer", fmt.Sprintf("/portal/receipts/%d", p.apY.ID))
	mustNotContain(t, cy.get("/portal/account"), "Xavier", fmt.Sprintf("/portal/receipts/%d", p.apX.ID))
}

// journalRec collects what the access policy allowed.
type journalRec struct{ got []access.Access }

func (j *journalRec) Record(a access.Access) { j.got = append(j.got, a) }

// loadersTellThePolicyWhoWhatWhich: every loader tells the policy who,
// which client and what: the journal can record it without a change to any
// handler.
func loadersTellThePolicyWhoWhatWhich(t *testing.T, p *accessPractice) {
	var j journalRec
	p.a.h.access = access.New(p.a.st, &j, p.a.now)
	x := p.x.ID
	type entry struct {
		who  string
		item access.Item
		op   access.Op
	}
	steps := []struct {
		do   func() *resp
		want []entry
	}{
		{func() *resp { return p.browsers["pat"].get(fmt.Sprintf("/clients/%d/edit", x)) }, []entry{{"pat", access.ItemRecord, access.Read}}},
		{func() *resp {
			return p.browsers["pat"].post(fmt.Sprintf("/clients/%d/phones/confirm", x), formOf("number", "+33612345678"))
		}, []entry{{"pat", access.ItemRecord, access.Change}}},
		{func() *resp { return p.browsers["sam"].get(fmt.Sprintf("/clients/%d", x)) }, nil},
		{func() *resp { return p.browsers["client X"].get(fmt.Sprintf("/portal/receipts/%d", p.apX.ID)) }, []entry{{"client X", access.ItemReceipt, access.Read}}},
		{func() *resp { return p.browsers["client Y"].get(fmt.Sprintf("/portal/receipts/%d", p.apX.ID)) }, nil},
		{func() *resp { return p.browsers["admin"].get(fmt.Sprintf("/appointments/%d/edit", p.apX.ID)) }, []entry{{"admin", access.ItemAppointment, access.Read}}},
		{func() *resp { return p.browsers["pat"].get(fmt.Sprintf("/appointments/%d/video", p.apX.ID)) }, []entry{{"pat", access.ItemVideoRoom, access.Read}}},
		{func() *resp { return p.browsers["owner"].get(fmt.Sprintf("/shares/%d/link", p.shX.ID)) }, []entry{{"owner", access.ItemShare, access.Read}}},
		{func() *resp { return p.browsers["owner"].get(fmt.Sprintf("/clients/%d", x)) }, []entry{
			{"owner", access.ItemRecord, access.Read}, {"owner", access.ItemAppointments, access.Read},
			{"owner", access.ItemPresos, access.Read}, {"owner", access.ItemShares, access.Read}}},
	}
	ids := map[string]func(access.Viewer) bool{
		"owner": func(v access.Viewer) bool { return v.StaffID == 1 }, "admin": func(v access.Viewer) bool { return v.StaffID == 2 },
		"pat": func(v access.Viewer) bool { return v.StaffID == 3 }, "client X": func(v access.Viewer) bool { return v.ClientID == x && v.StaffID == 0 },
	}
	for i, s := range steps {
		j.got = nil
		s.do()
		if len(j.got) != len(s.want) {
			t.Errorf("step %d: the policy heard %d accesses, want %d: %+v", i, len(j.got), len(s.want), j.got)
			continue
		}
		for k, w := range s.want {
			g := j.got[k]
			if !ids[w.who](g.Viewer) || g.ClientID != x || g.Item != w.item || g.Op != w.op || g.Viewer.Addr == "" {
				t.Errorf("step %d: heard %+v, want %s %s %s of client %d from an address", i, g, w.who, w.op, w.item, x)
			}
		}
	}
}
