package store

import (
	"strings"
	"testing"
)

const testSeed = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

func TestSealRoundTrip(t *testing.T) {
	s := openTest(t)
	sealed, err := s.Seal(testSeed)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(sealed, sealPrefix) || strings.Contains(sealed, testSeed) {
		t.Fatalf("sealed value %q", sealed)
	}
	again, _ := s.Seal(testSeed)
	if again == sealed {
		t.Error("sealing twice gave the same value: the nonce is not random")
	}
	if got, err := s.Unseal(sealed); err != nil || got != testSeed {
		t.Fatalf("Unseal = %q, %v", got, err)
	}
	if got, err := s.Seal(""); err != nil || got != "" {
		t.Errorf("Seal(\"\") = %q, %v", got, err)
	}
	// A changed byte, a cut value, plain text, bad base64: refused, not panicking.
	flipped := []byte(sealed)
	flipped[len(flipped)-2] ^= 1
	for _, bad := range []string{string(flipped), sealed[:len(sealPrefix)+4], testSeed, sealPrefix + "!!!"} {
		if _, err := s.Unseal(bad); err == nil {
			t.Errorf("Unseal(%q) succeeded", bad)
		}
	}
}

// FuzzUnseal: whatever the data file holds, unsealing fails cleanly or gives
// back what was sealed (a forged value never opens); it never panics.
func FuzzUnseal(f *testing.F) {
	s, err := Open(f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	sealed, _ := s.Seal(testSeed)
	for _, seed := range []string{sealed, sealPrefix, sealPrefix + "AAAA", testSeed, ""} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		if got, err := s.Unseal(in); err == nil && got != testSeed && in != "" {
			t.Errorf("Unseal(%q) = %q without error", in, got)
		}
	})
}
