package handlers

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"foyer/store"
)

// BenchmarkSignInPage renders the sign-in page through the whole middleware stack.
func BenchmarkSignInPage(b *testing.B) {
	a := newTestApp(b)
	a.setUp()
	req := httptest.NewRequest(http.MethodGet, "/signin", nil)
	req.Header.Set("Accept-Language", "fr")
	for b.Loop() {
		rec := httptest.NewRecorder()
		a.e.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatal(rec.Code)
		}
	}
}

// BenchmarkStaffPage renders the staff list for a signed-in owner (session and user reads included).
func BenchmarkStaffPage(b *testing.B) {
	a := newTestApp(b)
	owner := a.setUp()
	for i := range 30 {
		a.addStaff("Staff "+itoa(uint64(i)), "s"+itoa(uint64(i))+"@example.org", store.RolePractitioner)
	}
	req := httptest.NewRequest(http.MethodGet, "/staff", nil)
	for _, c := range owner.cookies {
		req.AddCookie(c)
	}
	for b.Loop() {
		rec := httptest.NewRecorder()
		a.e.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatal(rec.Code)
		}
	}
}
