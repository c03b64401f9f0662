package certificate

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/smallstep/pkcs7"

	"foyer/store"
)

// The practice's seal: an ECDSA P-256 key and a self-signed X.509
// certificate, made at first use and kept in the store with the key sealed
// (store.PracticeSeal). P-256 rather than Ed25519: every OpenSSL in use
// verifies ECDSA in CMS, not all verify Ed25519. The certificate never
// expires (RFC 5280's 99991231235959Z), so a certificate issued today
// still checks in twenty years; it is a self-signed seal, trusted because
// the practice publishes it (/verify shows its fingerprint and serves it
// as PEM), not because a CA vouches for it.

// Seal is the practice's signing key pair.
type Seal struct {
	Cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

// ErrSeal: a .p7s that does not verify against the practice's seal for this PDF.
var ErrSeal = errors.New("certificate: the signature does not verify")

// loadSeal reads the practice's seal from the store, making it at first use.
func loadSeal(st *store.Store, practice string, now time.Time) (*Seal, error) {
	ps, err := st.PracticeSeal()
	if errors.Is(err, store.ErrNotFound) {
		if ps, err = newSeal(practice, now); err != nil {
			return nil, err
		}
		ps, err = st.CreatePracticeSeal(ps)
	}
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(ps.Cert)
	if err != nil {
		return nil, fmt.Errorf("certificate: the practice's seal: %w", err)
	}
	k, err := x509.ParsePKCS8PrivateKey(ps.Key)
	if err != nil {
		return nil, fmt.Errorf("certificate: the practice's seal key: %w", err)
	}
	key, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return nil, errors.New("certificate: the practice's seal key is not ECDSA")
	}
	return &Seal{Cert: cert, key: key}, nil
}

// newSeal makes a key pair for a practice.
func newSeal(practice string, now time.Time) (store.PracticeSeal, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return store.PracticeSeal{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return store.PracticeSeal{}, err
	}
	name := strings.TrimSpace(practice)
	if name == "" {
		name = "Foyer"
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: name + " (Foyer)", Organization: []string{name}},
		NotBefore:    now.Add(-time.Hour).UTC(),
		NotAfter:     time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC),
		// Content commitment (non-repudiation): the key signs documents, nothing else.
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return store.PracticeSeal{}, err
	}
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return store.PracticeSeal{}, err
	}
	return store.PracticeSeal{Cert: der, Key: pk}, nil
}

// PEM is the seal's certificate in PEM, for openssl's -CAfile.
func (s *Seal) PEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Cert.Raw})
}

// Fingerprint is the SHA-256 of the seal's certificate, as openssl x509
// -fingerprint -sha256 prints it (AB:CD:...).
func (s *Seal) Fingerprint() string {
	sum := sha256.Sum256(s.Cert.Raw)
	h := strings.ToUpper(hex.EncodeToString(sum[:]))
	var parts []string
	for i := 0; i < len(h); i += 2 {
		parts = append(parts, h[i:i+2])
	}
	return strings.Join(parts, ":")
}

// oidTimeStampToken is id-aa-timeStampToken (RFC 3161 appendix A): the
// unsigned attribute that carries a timestamp of a SignerInfo's signature.
var oidTimeStampToken = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 14}

// sign makes the detached CMS signature (DER) of pdf: SHA-256, ECDSA, with
// the seal's certificate inside, and, when stamp is not nil, a timestamp of
// the signature value asked of it (a TSA). A failed stamp is returned as
// stampErr beside a signature without one.
func (s *Seal) sign(pdf []byte, stamp func(digest []byte) (token []byte, err error)) (p7s []byte, stamped bool, stampErr error, err error) {
	sd, err := pkcs7.NewSignedData(pdf)
	if err != nil {
		return nil, false, nil, err
	}
	sd.SetDigestAlgorithm(pkcs7.OIDDigestAlgorithmSHA256)
	if err := sd.AddSigner(s.Cert, s.key, pkcs7.SignerInfoConfig{}); err != nil {
		return nil, false, nil, err
	}
	sd.Detach()
	if stamp != nil {
		si := &sd.GetSignedData().SignerInfos[0]
		sum := sha256.Sum256(si.EncryptedDigest)
		token, err := stamp(sum[:])
		if err == nil {
			err = si.SetUnauthenticatedAttributes([]pkcs7.Attribute{{Type: oidTimeStampToken, Value: asn1.RawValue{FullBytes: token}}})
		}
		stamped, stampErr = err == nil, err
	}
	p7s, err = sd.Finish()
	return p7s, stamped, stampErr, err
}

// verify checks that p7s is the seal's signature of pdf; ErrSeal when it is not.
func (s *Seal) verify(pdf, p7s []byte) (*pkcs7.PKCS7, error) {
	p7, err := pkcs7.Parse(p7s)
	if err != nil {
		return nil, ErrSeal
	}
	p7.Content = pdf
	roots := x509.NewCertPool()
	roots.AddCert(s.Cert)
	if len(p7.Signers) != 1 || p7.VerifyWithChain(roots) != nil {
		return nil, ErrSeal
	}
	if signer := p7.GetOnlySigner(); signer == nil || !signer.Equal(s.Cert) {
		return nil, ErrSeal
	}
	return p7, nil
}
