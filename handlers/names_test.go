package handlers

import (
	"net/http"
	"testing"

	"foyer/store"
)

// invisibles are characters that change how a name is shown but not how it
// reads: the bidi controls that make "Chloe \u202eRLO" render reversed on the
// staff pages and /verify, zero-width and direction marks, line and
// paragraph separators, the byte-order mark, a soft hyphen.
var invisibles = []rune{'\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069',
	'\u200b', '\u200e', '\u200f', '\u2028', '\u2029', '\ufeff', '\u00ad', '\u061c', '\u2060'}

func TestInvisibleCharacters(t *testing.T) {
	for _, r := range invisibles {
		if !invisible(r) {
			t.Errorf("U+%04X is let through", r)
		}
	}
	// The zero-width non-joiner and joiner spell Persian and Indic names.
	for _, r := range "Chloé O’Brien-Dupré Ægir Łukasz Ñúñez 李小龍 محمد Αλέξης ʻOkina .\u200c\u200d" {
		if invisible(r) {
			t.Errorf("%q (U+%04X) is refused", r, r)
		}
	}
}

// TestNamesRefuseInvisibleCharacters: a signer's typed name carrying a bidi
// override is refused as NUL is, beside the field, and nothing is signed;
// so is every other name a person types: "Not on the list?", the client
// form, sign-up, staff invitations and a staff member's own name.
func TestNamesRefuseInvisibleCharacters(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	owner := a.setUp()
	a.enableSignup(owner)
	mia := a.addClient("Mia", "Martin", a.ownerID())
	_, link := sharePreso(t, a, owner, "anyone", mia)
	const refused = "This contains characters that cannot be used here."

	signer := a.browser()
	signer.get(link)
	signer.post(link+"/open", formOf("who", "0"))
	for _, r := range invisibles {
		name := "Chloe " + string(r) + "RLO"
		res := signer.post(link+"/sign", formOf("slide", "3", "name", name, "typed_only", "1", "consent", "1"))
		if res.Code != http.StatusUnprocessableEntity {
			t.Fatalf("sign as %q: %d", name, res.Code)
		}
		mustContain(t, res, refused)
	}
	if sigs, _ := a.st.ShareSignatures(1); len(sigs) != 0 {
		t.Fatalf("signed as %q", sigs[0].Name)
	}
	if r := signer.post(link+"/sign", formOf("slide", "3", "name", "Mia O’Brien-Martin", "typed_only", "1", "consent", "1")); r.Code != http.StatusSeeOther {
		t.Fatalf("a plain name: %d %s", r.Code, abbreviate(r.body))
	}

	visitor := a.browser()
	visitor.get(link)
	mustContain(t, visitor.follow(visitor.post(link+"/open", formOf("name", "Eve \u202eevE")), link), refused)

	for _, tc := range []struct {
		who    *browser
		path   string
		fields []string
		status int
	}{
		{owner, "/clients", []string{"first_name", "Jea\u200bnne", "last_name", "Martin", "lang", "fr", "practitioner", "1"}, http.StatusUnprocessableEntity},
		{owner, "/clients", []string{"first_name", "Jeanne", "last_name", "\u2066Martin\u2069", "lang", "fr", "practitioner", "1"}, http.StatusUnprocessableEntity},
		{a.browser(), "/portal/signup", []string{"first_name", "L\ufeffea", "last_name", "Petit", "email", "lea@example.org", "lang", "en",
			"password", "a long enough client password"}, http.StatusUnprocessableEntity},
		{owner, "/staff/invite", []string{"name", "Pat \u202dPractitioner", "email", "pat@example.org", "role", "practitioner", "lang", "en"}, http.StatusUnprocessableEntity},
		{owner, "/account", []string{"name", "Owner\u2028Name", "lang", "en"}, http.StatusUnprocessableEntity},
	} {
		r := tc.who.post(tc.path, formOf(tc.fields...))
		if r.Code != tc.status {
			t.Errorf("%s %q: %d", tc.path, tc.fields, r.Code)
			continue
		}
		mustContain(t, r, refused)
	}
	if _, total, _ := a.st.SearchClients(store.ClientFilter{Limit: 1}); total != 1 {
		t.Fatalf("%d clients: a refused one was saved", total)
	}
}
