package store

import (
	"strconv"
	"testing"
	"time"
)

// BenchmarkStaffRead is one indexed read: email → ID → record.
func BenchmarkStaffRead(b *testing.B) {
	s := openTest(b)
	for i := range 1000 {
		s.CreateStaff(&Staff{Email: "user" + strconv.Itoa(i) + "@example.org", Name: "User"})
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := s.StaffByEmail("user" + strconv.Itoa(i%1000) + "@example.org"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSessionWrite is one fsynced write transaction.
func BenchmarkSessionWrite(b *testing.B) {
	s := openTest(b)
	now := time.Now()
	for i := 0; b.Loop(); i++ {
		if err := s.SaveSession("s"+strconv.Itoa(i%100), Session{UserID: 1, CreatedAt: now, LastSeen: now}); err != nil {
			b.Fatal(err)
		}
	}
}
