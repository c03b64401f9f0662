package video

import (
	"encoding/json"
	"fmt"
	"strings"
)

// ICEServer is one entry of RTCConfiguration.iceServers.
type ICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

// ParseICEServers reads FOYER_ICE_SERVERS: either a JSON array of
// RTCIceServer objects ([{"urls":"turn:turn.example.org","username":"u","credential":"p"}])
// or a comma-separated list of stun:/turn: URLs without credentials.
func ParseICEServers(s string) ([]ICEServer, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	var out []ICEServer
	if strings.HasPrefix(s, "[") {
		var raw []struct {
			URLs       json.RawMessage `json:"urls"`
			Username   string          `json:"username"`
			Credential string          `json:"credential"`
		}
		if err := json.Unmarshal([]byte(s), &raw); err != nil {
			return nil, fmt.Errorf("FOYER_ICE_SERVERS is not a JSON array of {\"urls\": …}: %w", err)
		}
		for _, r := range raw {
			var e ICEServer
			var one string
			if json.Unmarshal(r.URLs, &one) == nil {
				e.URLs = []string{one}
			} else if err := json.Unmarshal(r.URLs, &e.URLs); err != nil {
				return nil, fmt.Errorf("FOYER_ICE_SERVERS: \"urls\" must be a string or a list of strings")
			}
			e.Username, e.Credential = r.Username, r.Credential
			out = append(out, e)
		}
	} else {
		for _, u := range splitComma(s) {
			out = append(out, ICEServer{URLs: []string{u}})
		}
	}
	for _, e := range out {
		if len(e.URLs) == 0 {
			return nil, fmt.Errorf("FOYER_ICE_SERVERS: an entry has no URL")
		}
		for _, u := range e.URLs {
			scheme, _, _ := strings.Cut(u, ":")
			switch scheme {
			case "stun", "stuns":
			case "turn", "turns":
				if e.Username == "" || e.Credential == "" {
					return nil, fmt.Errorf("FOYER_ICE_SERVERS: %s needs a username and a credential", u)
				}
			default:
				return nil, fmt.Errorf("FOYER_ICE_SERVERS: %q is not a stun: or turn: URL", u)
			}
		}
	}
	return out, nil
}

// splitComma gives the non-empty, trimmed fields of a comma-separated list.
func splitComma(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
