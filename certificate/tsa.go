package certificate

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"time"

	"github.com/smallstep/pkcs7"
)

// A trusted timestamp (RFC 3161) of a certificate's seal: the practice
// names a timestamp authority (FOYER_TSA_URL); Foyer asks it to timestamp
// the SHA-256 of the signature value and keeps its answer, a token signed
// by the authority, as an unsigned attribute of the .p7s (RFC 3161
// appendix A), where openssl cms leaves it alone and openssl ts reads it.
//
// The request and answer are written here with encoding/asn1: they are a
// few fixed structures (RFC 3161 §2.4), and the one Go module that does
// this is only served at a version needing a newer Go than Foyer's. The
// token, a CMS SignedData, is checked with the same CMS module as the seal,
// and the tests ask OpenSSL's own timestamp authority on loopback.

// oidTSTInfo is id-ct-TSTInfo, the content type of a timestamp token.
var oidTSTInfo = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 1, 4}

var oidSHA256 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}

type messageImprint struct {
	HashAlgorithm pkix.AlgorithmIdentifier
	HashedMessage []byte
}

type timeStampReq struct {
	Version        int
	MessageImprint messageImprint
	ReqPolicy      asn1.ObjectIdentifier `asn1:"optional"`
	Nonce          *big.Int              `asn1:"optional"`
	CertReq        bool                  `asn1:"optional,default:false"`
}

type pkiStatusInfo struct {
	Status       int
	StatusString []string       `asn1:"optional,utf8"`
	FailInfo     asn1.BitString `asn1:"optional"`
}

type timeStampResp struct {
	Status         pkiStatusInfo
	TimeStampToken asn1.RawValue `asn1:"optional"`
}

type accuracy struct {
	Seconds int `asn1:"optional"`
	Millis  int `asn1:"optional,tag:0"`
	Micros  int `asn1:"optional,tag:1"`
}

type tstInfo struct {
	Version        int
	Policy         asn1.ObjectIdentifier
	MessageImprint messageImprint
	SerialNumber   *big.Int
	GenTime        time.Time     `asn1:"generalized"`
	Accuracy       accuracy      `asn1:"optional"`
	Ordering       bool          `asn1:"optional,default:false"`
	Nonce          *big.Int      `asn1:"optional"`
	TSA            asn1.RawValue `asn1:"optional,tag:0"`
	Extensions     asn1.RawValue `asn1:"optional,tag:1"`
}

// maxTSAReply bounds a timestamp authority's answer (a token is a few KiB).
const maxTSAReply = 1 << 20

// tsaTimeout bounds one request to the timestamp authority.
const tsaTimeout = 15 * time.Second

// ErrStamp: the timestamp authority's answer is not a timestamp of what was asked.
var ErrStamp = errors.New("certificate: the timestamp is not valid")

// Stamp is a checked timestamp.
type Stamp struct {
	At time.Time
	// By names the authority (its certificate's subject).
	By string
}

// askTSA asks the authority at url to timestamp digest (a SHA-256) and
// returns its token, checked.
func askTSA(ctx context.Context, client *http.Client, url string, digest []byte) ([]byte, error) {
	nonce, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 63))
	if err != nil {
		return nil, err
	}
	req, err := asn1.Marshal(timeStampReq{Version: 1, MessageImprint: messageImprint{HashAlgorithm: pkix.AlgorithmIdentifier{Algorithm: oidSHA256},
		HashedMessage: digest}, Nonce: nonce, CertReq: true})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, tsaTimeout)
	defer cancel()
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(req))
	if err != nil {
		return nil, err
	}
	hr.Header.Set("Content-Type", "application/timestamp-query")
	res, err := client.Do(hr)
	if err != nil {
		return nil, fmt.Errorf("certificate: timestamp authority: %w", err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, maxTSAReply))
	if err != nil {
		return nil, fmt.Errorf("certificate: timestamp authority: %w", err)
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("certificate: timestamp authority answered %s: %.200s", res.Status, body)
	}
	var resp timeStampResp
	if rest, err := asn1.Unmarshal(body, &resp); err != nil || len(rest) > 0 {
		return nil, fmt.Errorf("certificate: timestamp authority: not a timestamp reply")
	}
	// 0 granted, 1 granted with modifications; the rest are refusals.
	if resp.Status.Status > 1 || len(resp.TimeStampToken.FullBytes) == 0 {
		return nil, fmt.Errorf("certificate: timestamp authority refused (status %d %v)", resp.Status.Status, resp.Status.StatusString)
	}
	token := resp.TimeStampToken.FullBytes
	info, _, err := readToken(token, digest)
	if err != nil {
		return nil, err
	}
	if info.Nonce == nil || info.Nonce.Cmp(nonce) != 0 {
		return nil, ErrStamp
	}
	return token, nil
}

// readToken checks a timestamp token: a SignedData of a TSTInfo, signed by
// the certificate it carries, over digest.
func readToken(token, digest []byte) (tstInfo, Stamp, error) {
	var info tstInfo
	p7, err := pkcs7.Parse(token)
	if err != nil {
		return info, Stamp{}, ErrStamp
	}
	if err := p7.Verify(); err != nil {
		return info, Stamp{}, ErrStamp
	}
	// A token signs a TSTInfo, not some other content its authority signed.
	if !eContentType(token).Equal(oidTSTInfo) {
		return info, Stamp{}, ErrStamp
	}
	if rest, err := asn1.Unmarshal(p7.Content, &info); err != nil || len(rest) > 0 {
		return info, Stamp{}, ErrStamp
	}
	if !info.MessageImprint.HashAlgorithm.Algorithm.Equal(oidSHA256) || !bytes.Equal(info.MessageImprint.HashedMessage, digest) {
		return info, Stamp{}, ErrStamp
	}
	st := Stamp{At: info.GenTime.UTC()}
	if signer := p7.GetOnlySigner(); signer != nil {
		st.By = signer.Subject.CommonName
		if st.By == "" {
			st.By = signer.Subject.String()
		}
	}
	return info, st, nil
}

// stampOf reads and checks the timestamp a .p7s carries; ok is false when it has none that checks.
func stampOf(p7 *pkcs7.PKCS7) (Stamp, bool) {
	if len(p7.Signers) != 1 {
		return Stamp{}, false
	}
	si := p7.Signers[0]
	sum := sha256.Sum256(si.EncryptedDigest)
	for _, a := range si.UnauthenticatedAttributes {
		if !a.Type.Equal(oidTimeStampToken) {
			continue
		}
		var token asn1.RawValue
		if _, err := asn1.Unmarshal(a.Value.Bytes, &token); err != nil {
			return Stamp{}, false
		}
		if _, st, err := readToken(token.FullBytes, sum[:]); err == nil {
			return st, true
		}
	}
	return Stamp{}, false
}

// eContentType reads the content type a SignedData token encapsulates
// (ContentInfo → SignedData → encapContentInfo → eContentType).
func eContentType(token []byte) asn1.ObjectIdentifier {
	var ci struct {
		Type    asn1.ObjectIdentifier
		Content asn1.RawValue `asn1:"explicit,tag:0"`
	}
	if _, err := asn1.Unmarshal(token, &ci); err != nil {
		return nil
	}
	var sd struct {
		Version int
		Digests asn1.RawValue
		Encap   struct {
			Type    asn1.ObjectIdentifier
			Content asn1.RawValue `asn1:"optional,explicit,tag:0"`
		}
		Rest asn1.RawValue `asn1:"optional"`
	}
	if _, err := asn1.Unmarshal(ci.Content.Bytes, &sd); err != nil {
		return nil
	}
	return sd.Encap.Type
}
