package graphclient

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	calsync "github.com/oro-msync/oro-msync/sync"
)

// Production endpoints of the Microsoft identity platform and Microsoft Graph.
const (
	DefaultAuthority = "https://login.microsoftonline.com"
	DefaultGraph     = "https://graph.microsoft.com/v1.0"
)

// Endpoints are the base URLs of the identity platform and of Graph. They are
// process-level settings (--authority-url, --graph-url), never request input.
type Endpoints struct {
	Authority string // without tenant, e.g. https://login.microsoftonline.com
	Graph     string // including the version segment, e.g. https://graph.microsoft.com/v1.0
}

// WithDefaults fills empty fields with the production endpoints and trims
// trailing slashes.
func (e Endpoints) WithDefaults() Endpoints {
	if e.Authority == "" {
		e.Authority = DefaultAuthority
	}
	if e.Graph == "" {
		e.Graph = DefaultGraph
	}
	e.Authority = strings.TrimRight(e.Authority, "/")
	e.Graph = strings.TrimRight(e.Graph, "/")
	return e
}

// Validate reports a malformed endpoint. Plain http is accepted only for
// loopback hosts (the simulator).
func (e Endpoints) Validate() error {
	for _, f := range []struct{ name, raw string }{{"authority", e.Authority}, {"graph", e.Graph}} {
		u, err := url.Parse(f.raw)
		if err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return fmt.Errorf("%s endpoint %q is not an absolute URL", f.name, f.raw)
		}
		switch {
		case u.Scheme == "https":
		case u.Scheme == "http" && isLoopback(u.Hostname()):
		default:
			return fmt.Errorf("%s endpoint %q must use https (http only for loopback)", f.name, f.raw)
		}
	}
	return nil
}

func isLoopback(host string) bool {
	return host == "localhost" || host == "::1" || strings.HasPrefix(host, "127.")
}

// Config is what a Session needs from the process.
type Config struct {
	Endpoints Endpoints
	Version   string            // oro-msync's version, sent in User-Agent
	Logger    zerolog.Logger    // used when the request context carries no logger
	Transport http.RoundTripper // optional: the network below the SDK middleware and OAuth (tests); default network
	Now       func() time.Time  // optional: the clock deciding whether a token is about to expire
}

func (c Config) withDefaults() Config {
	c.Endpoints = c.Endpoints.WithDefaults()
	if c.Version == "" {
		c.Version = "dev"
	}
	if c.Transport == nil {
		c.Transport = network()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// network is the process's HTTP transport to Microsoft: http.DefaultTransport
// keeping an idle connection for each of the 4 requests a mailbox runs at
// once (its default keeps 2, so a push of four chains closed and dialled
// again, a TLS handshake each time, about one request in ten), and reading
// and writing through 64 KiB buffers instead of 4 KiB: an answer of a
// $batch is about 20 KiB, a delta page a few hundred. Built on first use,
// so that a process that never calls Graph does not build it.
var network = sync.OnceValue(func() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 4
	t.ReadBufferSize = 64 << 10
	t.WriteBufferSize = 64 << 10
	return t
})

// App is the application registered in Microsoft Entra ID, as the host sends
// it. ClientSecret is only needed for the token endpoint.
type App struct {
	Tenant       string `json:"tenant"`
	ClientID     string `json:"clientId"`
	ClientSecret string `json:"clientSecret,omitempty"`
	RedirectURI  string `json:"redirectUri"`
}

// isGUID reports whether s is a GUID in its 8-4-4-4-12 hex form. Hand
// written rather than a regexp: package-level regexps are compiled at every
// process start, and start-up time matters to a host that spawns us.
func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := range len(s) {
		switch c := s[i]; {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return false
			}
		case '0' <= c && c <= '9', 'a' <= c && c <= 'f', 'A' <= c && c <= 'F':
		default:
			return false
		}
	}
	return true
}

// isDomain reports whether s is a DNS name of at least two labels, each 1–63
// letters, digits or inner hyphens.
func isDomain(s string) bool {
	labels := strings.Split(s, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if len(l) == 0 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := range len(l) {
			switch c := l[i]; {
			case '0' <= c && c <= '9', 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', c == '-':
			default:
				return false
			}
		}
	}
	return true
}

// Validate checks the shape of the registration before anything is sent:
// tenant is common, organizations, consumers, a GUID or a domain; clientId a
// GUID; redirectUri an absolute https URL (http only for loopback). With
// needSecret it also requires the client secret. Field paths are prefixed
// with "app.". Messages never contain the secret.
func (a App) Validate(needSecret bool) *calsync.Error {
	switch t := a.Tenant; {
	case t == "":
		return calsync.Invalid("app.tenant", "is required")
	case t == "common" || t == "organizations" || t == "consumers" || isGUID(t) || isDomain(t):
	default:
		return calsync.Invalid("app.tenant", "must be common, organizations, consumers, a tenant id (GUID) or a domain name")
	}
	if !isGUID(a.ClientID) {
		return calsync.Invalid("app.clientId", "must be the application (client) id, a GUID")
	}
	u, err := url.Parse(a.RedirectURI)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Fragment != "" {
		return calsync.Invalid("app.redirectUri", "must be an absolute URL without a fragment")
	}
	if u.Scheme != "https" && (u.Scheme != "http" || !isLoopback(u.Hostname())) {
		return calsync.Invalid("app.redirectUri", "must use https (http only for localhost)")
	}
	if needSecret && a.ClientSecret == "" {
		return calsync.Invalid("app.clientSecret", "is required")
	}
	return nil
}

// Tokens are the user's OAuth tokens as the host stores them.
type Tokens struct {
	AccessToken  string    `json:"accessToken"`
	RefreshToken string    `json:"refreshToken,omitempty"`
	ExpiresAt    time.Time `json:"expiresAt"`
}
