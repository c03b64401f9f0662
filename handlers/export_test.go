package handlers

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"

	"foyer/auth"
)

func authHash(p string) string { return auth.HashPassword(p) }

func itoa(n uint64) string { return strconv.FormatUint(n, 10) }

func newRawPost(path, body string) *http.Request {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}
