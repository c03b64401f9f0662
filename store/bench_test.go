package store

import (
	"os"
	"strconv"
	"testing"
	"time"

	"foyer/bench/cpu"
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

// BenchmarkSearch compares, in one run, the search (trigram index, then the
// search blocks) with the scan of the compact index it replaced, over
// FOYER_BENCH_CLIENTS clients and as many prospects (10,000 by default).
// "dense" matches a tenth of the clients; "all" is the list without a query.
func BenchmarkSearch(b *testing.B) {
	n := 10000
	if v := os.Getenv("FOYER_BENCH_CLIENTS"); v != "" {
		n, _ = strconv.Atoi(v)
	}
	s := openTest(b)
	s.db.NoSync = true
	last := []string{"Durand", "Dupont", "Martin", "Bernard", "Petit", "Roux", "Moreau", "Lefèvre", "Garnier", "Faure"}
	for start := 0; start < n; start += 10000 {
		err := s.Batch(func(batch *Batch) error {
			for i := start; i < min(n, start+10000); i++ {
				c := &Client{FirstName: "Anne", LastName: last[(i/10)%10] + strconv.Itoa(i), Email: "a" + strconv.Itoa(i) + "@example.org",
					Phones: []Phone{{Number: "+336" + strconv.Itoa(10000000+i)}}, PractitionerID: uint64(1 + i%4)}
				if err := batch.AddClient(c); err != nil {
					return err
				}
				a := &Account{Email: "p" + strconv.Itoa(i) + "@example.org", Verified: i%2 == 0, SignUp: SignUp{FirstName: "Zoé", LastName: last[(i/7)%10] + strconv.Itoa(i)}}
				if err := batch.AddAccount(a); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	for _, q := range []struct{ name, q string }{{"name", "dupont12"}, {"phone", "06 10 00 12"}, {"dense", "dupont"}, {"all", ""}} {
		f := ClientFilter{Query: ParseQuery(q.q), Limit: 25}
		b.Run("clients-"+q.name+"/index", func(b *testing.B) {
			defer cpu.Report(b)()
			for b.Loop() {
				if _, _, err := s.SearchClients(f); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("clients-"+q.name+"/scan", func(b *testing.B) {
			defer cpu.Report(b)()
			for b.Loop() {
				if _, _, err := s.scanClients(f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	for _, q := range []struct{ name, q string }{{"", "martin"}, {"-all", ""}} {
		pf := ProspectFilter{Query: ParseQuery(q.q), Verified: "yes", Limit: 25}
		b.Run("prospects"+q.name+"/index", func(b *testing.B) {
			defer cpu.Report(b)()
			for b.Loop() {
				if _, _, err := s.SearchProspects(pf); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("prospects"+q.name+"/scan", func(b *testing.B) {
			defer cpu.Report(b)()
			for b.Loop() {
				if _, _, err := s.scanProspects(pf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkClientWrite is the cost of one client create or edit, each one
// fsynced transaction, in a store of FOYER_BENCH_CLIENTS clients (10,000 by
// default): the record, its indexes and its search entries.
func BenchmarkClientWrite(b *testing.B) {
	n := 10000
	if v := os.Getenv("FOYER_BENCH_CLIENTS"); v != "" {
		n, _ = strconv.Atoi(v)
	}
	s := openTest(b)
	s.db.NoSync = true
	for start := 0; start < n; start += 10000 {
		err := s.Batch(func(batch *Batch) error {
			for i := start; i < min(n, start+10000); i++ {
				c := &Client{FirstName: "Anne", LastName: "Martin" + strconv.Itoa(i), Email: "a" + strconv.Itoa(i) + "@example.org",
					Phones: []Phone{{Number: "+336" + strconv.Itoa(10000000+i)}}, PractitionerID: uint64(1 + i%4)}
				if err := batch.AddClient(c); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	s.db.NoSync = false
	b.Run("create", func(b *testing.B) {
		defer cpu.Report(b)()
		for i := 0; b.Loop(); i++ {
			c := &Client{FirstName: "Zoé", LastName: "Lefèvre" + strconv.Itoa(i), Email: "z" + strconv.Itoa(i) + "@example.org",
				Phones: []Phone{{Number: "+337" + strconv.Itoa(20000000+i)}}, PractitionerID: 1}
			if err := s.CreateClient(c); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("edit-name", func(b *testing.B) {
		defer cpu.Report(b)()
		for i := 0; b.Loop(); i++ {
			_, err := s.UpdateClient(uint64(1+i%n), func(c *Client) error {
				c.LastName, c.Email = "Bernard"+strconv.Itoa(i), "b"+strconv.Itoa(i)+"@example.org"
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}
