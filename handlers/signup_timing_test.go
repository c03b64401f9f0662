package handlers

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"foyer/store"
)

// signUpForm is a sign-up with email.
func signUpForm(email string) url.Values {
	return formOf("first_name", "Zoé", "last_name", "Martin", "email", email, "lang", "fr", "password", "un mot de passe assez long")
}

// TestSignUpAnswersBeforeItWrites: a sign-up does the same work before its
// answer whether or not the email has an account (the same reads, and no
// write at all), and learns which it is only after: then the new account is
// made, or the owner of the existing one is told.
func TestSignUpAnswersBeforeItWrites(t *testing.T) {
	t.Parallel()
	a := newTestApp(t)
	a.enableSignup(a.setUp())
	a.signUpAs("known@example.org", "the owner's own password")
	var answered *store.TxCounts
	a.h.spawn = func(fn func()) {
		if answered == nil {
			c := a.st.TxCounts()
			answered = &c
		}
		fn()
	}
	try := func(email string, i int) store.TxCounts {
		t.Helper()
		b := a.browser()
		b.ip = "198.51.100." + itoa(uint64(i)) + ":1"
		b.csrf()
		answered = nil
		before := a.st.TxCounts()
		if r := b.post("/portal/signup", signUpForm(email)); r.Code != http.StatusOK {
			t.Fatalf("sign-up %s: %d", email, r.Code)
		}
		if answered == nil {
			t.Fatalf("sign-up %s: nothing was left for after the answer", email)
		}
		return answered.Sub(before)
	}
	known := try("known@example.org", 1)
	unknown := try("new@example.org", 2)
	if known != unknown || known.Writes != 0 || known.Batched != 0 {
		t.Fatalf("before the answer: known email %+v, unknown %+v (want the same, and no write)", known, unknown)
	}
	if acct, err := a.st.AccountByEmail("new@example.org"); err != nil || acct.PasswordHash == "" {
		t.Fatalf("the new account after the answer: %+v %v", acct, err)
	}
	msgs, _ := a.st.ListMessages(0, 10)
	if msgs[0].To != "new@example.org" || msgs[0].Kind != "portal_verify" || msgs[1].To != "known@example.org" || msgs[1].Kind != "portal_exists" {
		t.Fatalf("messages after the answers: %s %s, %s %s", msgs[0].To, msgs[0].Kind, msgs[1].To, msgs[1].Kind)
	}
}

// TestSignUpTiming measures sign-up answers for emails that have an account
// and emails that do not, 200 of each taken in pairs on an idle server, and
// fails when the median of the pairs' differences is 2 ms or more: the time
// of the answer must not tell whether an email is known. A pair's two tries
// run back to back, so a machine slowed by other work slows both, and the
// difference within a pair keeps what the medians of each side would lose. Known emails are spread over
// twenty accounts, so some answers would still queue a "you already have an
// account" email if that happened before the answer. Not run with the race
// detector, whose slowdown is uneven, nor with -short.
func TestSignUpTiming(t *testing.T) {
	if raceDetector || testing.Short() {
		t.Skip("timings are measured without the race detector and -short")
	}
	a := newTestApp(t)
	a.enableSignup(a.setUp())
	for i := range 20 {
		if err := a.st.CreateAccount(&store.Account{Email: "known" + itoa(uint64(i)) + "@example.org", PasswordHash: testHash, Lang: "fr"}); err != nil {
			t.Fatal(err)
		}
	}
	b := a.browser()
	csrf := b.csrf()
	const tries = 200
	post := func(email string, i int) time.Duration {
		form := signUpForm(email)
		form.Set("_csrf", csrf)
		req := httptest.NewRequest(http.MethodPost, "/portal/signup", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for _, c := range b.cookies {
			req.AddCookie(c)
		}
		// One address per try: the per-address limit is not what is measured.
		req.RemoteAddr = "10.1." + itoa(uint64(i/250)) + "." + itoa(uint64(i%250)) + ":1"
		rec := httptest.NewRecorder()
		start := time.Now()
		a.e.ServeHTTP(rec, req)
		took := time.Since(start)
		if rec.Code != http.StatusOK {
			t.Fatalf("sign-up %s: %d", email, rec.Code)
		}
		a.h.Wait() // the next try starts on an idle server
		return took
	}
	median := func(d []time.Duration) time.Duration {
		s := slices.Clone(d)
		slices.Sort(s)
		return (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	var known, unknown, pairs []time.Duration
	for i := range tries {
		// Alternate which goes first, so neither always follows the other.
		k := func() { known = append(known, post("known"+itoa(uint64(i%20))+"@example.org", 2*i)) }
		u := func() { unknown = append(unknown, post("new"+itoa(uint64(i))+"@example.org", 2*i+1)) }
		if i%2 == 0 {
			k()
			u()
		} else {
			u()
			k()
		}
		pairs = append(pairs, known[i]-unknown[i])
	}
	mk, mu, diff := median(known), median(unknown), median(pairs)
	t.Logf("sign-up answers over %d pairs: known email median %v, unknown %v, median difference within a pair %v", tries, mk, mu, diff)
	if diff.Abs() >= 2*time.Millisecond {
		t.Errorf("known emails answer %v apart from unknown ones (median within a pair): the answer's time tells whether an email has an account", diff)
	}
}
