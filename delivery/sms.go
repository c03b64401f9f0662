package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// SMS sends text messages through the Twilio Messages API, or any provider
// that speaks its shape, at a configurable base URL.
type SMS struct {
	base       string
	accountSID string
	authToken  string
	from       string
	client     *http.Client
}

// ParseSMSURL builds an SMS driver from https://ACCOUNT_SID:AUTH_TOKEN@api.example.com.
func ParseSMSURL(raw, from string) (*SMS, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("delivery: SMS URL: %w", err)
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return nil, errors.New("delivery: SMS URL scheme must be https (or http for a local test server)")
	}
	if u.User == nil || u.User.Username() == "" {
		return nil, errors.New("delivery: SMS URL needs ACCOUNT_SID:AUTH_TOKEN@")
	}
	if from == "" {
		return nil, errors.New("delivery: a sender number (FOYER_SMS_FROM) is needed with SMS")
	}
	token, _ := u.User.Password()
	sid := u.User.Username()
	u.User = nil
	return &SMS{base: strings.TrimRight(u.String(), "/"), accountSID: sid, authToken: token, from: from,
		client: &http.Client{Timeout: 20 * time.Second}}, nil
}

// Send posts one message to {base}/2010-04-01/Accounts/{sid}/Messages.json.
func (s *SMS) Send(ctx context.Context, m Outgoing) error {
	form := url.Values{"To": {m.To}, "From": {s.from}, "Body": {m.Text}}
	endpoint := s.base + "/2010-04-01/Accounts/" + url.PathEscape(s.accountSID) + "/Messages.json"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.SetBasicAuth(s.accountSID, s.authToken)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("delivery: SMS provider: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		var e struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		}
		_ = json.Unmarshal(body, &e)
		return fmt.Errorf("delivery: SMS provider answered %d: %d %s", resp.StatusCode, e.Code, e.Message)
	}
	var ok struct {
		SID    string `json:"sid"`
		Status string `json:"status"`
	}
	if err := json.Unmarshal(body, &ok); err != nil || ok.SID == "" {
		return errors.New("delivery: SMS provider gave no message SID")
	}
	if ok.Status == "failed" || ok.Status == "undelivered" {
		return fmt.Errorf("delivery: SMS provider marked the message %s", ok.Status)
	}
	return nil
}
