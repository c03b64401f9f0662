package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Target is where the copies go: a bucket, and a prefix in it, on an
// S3-compatible storage.
type Target struct {
	Endpoint          string // host[:port]
	Secure            bool   // HTTPS (the default; ?tls=false for a store on the same network)
	Region            string
	Bucket, Prefix    string
	AccessKey, Secret string
}

// ParseURL reads s3://ACCESS:SECRET@host[:port]/bucket[/prefix][?region=…&tls=false].
func ParseURL(raw string) (Target, error) {
	bad := func(why string) (Target, error) {
		return Target{}, fmt.Errorf("FOYER_BACKUP_URL (-backup-url) %s: it must look like s3://ACCESS_KEY:SECRET@s3.example.org/bucket/prefix?region=fr-par", why)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return bad("cannot be read")
	}
	if u.Scheme != "s3" {
		return bad("does not start with s3://")
	}
	if u.Host == "" {
		return bad("names no host")
	}
	secret, ok := u.User.Password()
	if !ok || u.User.Username() == "" || secret == "" {
		return bad("has no access key and secret")
	}
	path := strings.Trim(u.Path, "/")
	bucket, prefix, _ := strings.Cut(path, "/")
	if bucket == "" {
		return bad("names no bucket")
	}
	t := Target{Endpoint: u.Host, Secure: true, Region: u.Query().Get("region"), Bucket: bucket, Prefix: strings.Trim(prefix, "/"),
		AccessKey: u.User.Username(), Secret: secret}
	switch v := u.Query().Get("tls"); v {
	case "", "true":
	case "false":
		t.Secure = false
	default:
		return bad(fmt.Sprintf("has tls=%s (true or false)", v))
	}
	for k := range u.Query() {
		if k != "region" && k != "tls" {
			return bad(fmt.Sprintf("has an unknown setting %q (region, tls)", k))
		}
	}
	return t, nil
}

// String is the target without its secret, for pages and logs.
func (t Target) String() string {
	scheme := "https"
	if !t.Secure {
		scheme = "http"
	}
	s := scheme + "://" + t.Endpoint + "/" + t.Bucket
	if t.Prefix != "" {
		s += "/" + t.Prefix
	}
	return s
}

// Redact describes err for the owner, the log and the terminal: the
// storage's own code first when it gave one, and never the target's
// secret, should a client library ever repeat it.
func (t Target) Redact(err error) string {
	s := err.Error()
	var resp minio.ErrorResponse
	if errors.As(err, &resp) && resp.Code != "" && !strings.HasPrefix(s, resp.Code) {
		s = resp.Code + ": " + s
	}
	if t.Secret != "" {
		s = strings.ReplaceAll(s, t.Secret, "[secret]")
	}
	return s
}

// Copy is one backup kept on the storage.
type Copy struct {
	Name string
	// Time is when the snapshot was taken (from the name).
	Time time.Time
	Size int64
}

// nameLayout is the time in a copy's name, UTC.
const nameLayout = "20060102T150405Z"

// nameSuffix says what a copy is: a bbolt file, zstd-compressed, age-encrypted.
const nameSuffix = ".db.zst.age"

// CopyName names the copy of a snapshot taken at t, wherever it is kept:
// foyer-20260302T093000Z.db.zst.age (a bbolt file, zstd, age; the time UTC).
func CopyName(t time.Time) string { return "foyer-" + t.UTC().Format(nameLayout) + nameSuffix }

// parseName gives the time of a copy's name; false for any other object.
func parseName(name string) (time.Time, bool) {
	s, ok := strings.CutPrefix(name, "foyer-")
	if !ok {
		return time.Time{}, false
	}
	s, ok = strings.CutSuffix(s, nameSuffix)
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(nameLayout, s)
	return t, err == nil
}

// Remote is the storage, through minio-go: a kept S3 client, about 0.7 MB
// smaller in the binary than aws-sdk-go-v2's s3 with its upload manager
// (measured: 2.0 MB against 2.7 MB), speaking to any S3-compatible store.
type Remote struct {
	t      Target
	client *minio.Client
}

// NewRemote prepares a client for t; it does not reach the storage yet.
func NewRemote(t Target) (*Remote, error) {
	tr, err := minio.DefaultTransport(t.Secure)
	if err != nil {
		return nil, err
	}
	// A storage that stops answering fails a request rather than hold the backup forever.
	tr.ResponseHeaderTimeout = 2 * time.Minute
	tr.DialContext = (&net.Dialer{Timeout: 15 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	c, err := minio.New(t.Endpoint, &minio.Options{
		Creds:     credentials.NewStaticV4(t.AccessKey, t.Secret, ""),
		Secure:    t.Secure,
		Region:    t.Region,
		Transport: tr,
		// A few quick tries for a request that fails on the way; a longer
		// outage fails this run, and the next run comes later (see Run).
		MaxRetries: 3,
	})
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	return &Remote{t: t, client: c}, nil
}

// Target is where the copies are.
func (r *Remote) Target() Target { return r.t }

func (r *Remote) key(name string) string {
	if r.t.Prefix == "" {
		return name
	}
	return r.t.Prefix + "/" + name
}

// List returns the copies kept, oldest first. Other objects under the
// prefix are left alone.
func (r *Remote) List(ctx context.Context) ([]Copy, error) {
	prefix := ""
	if r.t.Prefix != "" {
		prefix = r.t.Prefix + "/"
	}
	var out []Copy
	for o := range r.client.ListObjects(ctx, r.t.Bucket, minio.ListObjectsOptions{Prefix: prefix}) {
		if o.Err != nil {
			return nil, o.Err
		}
		name := strings.TrimPrefix(o.Key, prefix)
		if t, ok := parseName(name); ok {
			out = append(out, Copy{Name: name, Time: t, Size: o.Size})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out, nil
}

// partSize is the size of each part of a large upload. Parts are read from
// the file where they lie (no copy in memory) and the copy exists only once
// the upload completes: a crash or kill half-way leaves no copy, only an
// unfinished upload that the next run removes (AbortUnfinished).
const partSize = 16 << 20

// Put uploads the file f of size bytes as name.
func (r *Remote) Put(ctx context.Context, name string, f *os.File, size int64) error {
	_, err := r.client.PutObject(ctx, r.t.Bucket, r.key(name), io.NewSectionReader(f, 0, size), size, minio.PutObjectOptions{
		ContentType: "application/octet-stream",
		PartSize:    partSize,
		// One part at a time: a backup is background work; it leaves the
		// line to the practice's pages.
		NumThreads: 1,
	})
	return err
}

// Size is the size the storage lists for name.
func (r *Remote) Size(ctx context.Context, name string) (int64, error) {
	info, err := r.client.StatObject(ctx, r.t.Bucket, r.key(name), minio.StatObjectOptions{})
	return info.Size, err
}

// Get opens the copy name for reading.
func (r *Remote) Get(ctx context.Context, name string) (io.ReadCloser, error) {
	o, err := r.client.GetObject(ctx, r.t.Bucket, r.key(name), minio.GetObjectOptions{})
	if err != nil {
		return nil, err
	}
	// GetObject reaches the storage at the first read: ask now, for a clear error.
	if _, err := o.Stat(); err != nil {
		o.Close()
		return nil, err
	}
	return o, nil
}

// Delete removes the copy name.
func (r *Remote) Delete(ctx context.Context, name string) error {
	return r.client.RemoveObject(ctx, r.t.Bucket, r.key(name), minio.RemoveObjectOptions{})
}

// AbortUnfinished removes the uploads under the prefix that were never
// completed (a Foyer stopped half-way): their parts take space and cost.
func (r *Remote) AbortUnfinished(ctx context.Context) (int, error) {
	prefix := ""
	if r.t.Prefix != "" {
		prefix = r.t.Prefix + "/"
	}
	n := 0
	for u := range r.client.ListIncompleteUploads(ctx, r.t.Bucket, prefix, true) {
		if u.Err != nil {
			return n, u.Err
		}
		if err := r.client.RemoveIncompleteUpload(ctx, r.t.Bucket, u.Key); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// Error kinds: what went wrong, in words the owner can act on (the
// locales have backup.error.<kind>), beside the error itself.
const (
	ErrKindCredentials = "credentials" // the storage refused the access key or secret
	ErrKindBucket      = "bucket"      // no such bucket
	ErrKindUnreachable = "unreachable" // no answer from the storage (network, DNS, TLS)
	ErrKindSize        = "size"        // the copy listed is not the size sent
	ErrKindLocal       = "local"       // this machine could not write the snapshot (disk full)
	ErrKindOther       = "other"
)

// errLocal marks a failure on this machine, before anything was sent.
type errLocal struct{ error }

func (e errLocal) Unwrap() error { return e.error }

// errSize marks a copy whose listed size is not the size sent.
var errSize = errors.New("the copy listed by the storage is not the size sent")

// Classify names the kind of a backup error.
func Classify(err error) string {
	var local errLocal
	var resp minio.ErrorResponse
	var netErr net.Error
	var urlErr *url.Error
	switch {
	case errors.As(err, &local):
		return ErrKindLocal
	case errors.Is(err, errSize):
		return ErrKindSize
	case errors.As(err, &resp):
		switch resp.Code {
		case "InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "InvalidToken", "ExpiredToken", "AuthorizationHeaderMalformed":
			return ErrKindCredentials
		case "NoSuchBucket":
			return ErrKindBucket
		}
		if resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusUnauthorized {
			return ErrKindCredentials
		}
		if resp.StatusCode == 0 || resp.StatusCode >= 500 {
			return ErrKindUnreachable
		}
	case errors.As(err, &netErr), errors.As(err, &urlErr), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, context.DeadlineExceeded):
		return ErrKindUnreachable
	}
	return ErrKindOther
}
