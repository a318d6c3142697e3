package graphsim

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// consumerTenant is the tenant id of personal Microsoft accounts.
const consumerTenant = "9188040d-6c67-4c5b-b112-36a304b66dad"

type user struct {
	User
	id string
	// revokedAt: refresh tokens issued before it are dead (AADSTS50173).
	revokedAt time.Time
	// consentWithdrawn: refresh → AADSTS65001, Graph → 403.
	consentWithdrawn bool
	mb               *mailbox
}

type authCode struct {
	clientID, redirectURI string
	user                  *user
	scopes                []string
	challenge, method     string
	expires               time.Time
	used                  bool
}

type accessToken struct {
	clientID string
	user     *user
	scopes   []string
	expires  time.Time
}

type refreshToken struct {
	clientID string
	user     *user
	scopes   []string
	issued   time.Time
	expires  time.Time
	used     bool
}

// oidcScopes are granted without consent and never reach Graph.
var oidcScopes = map[string]bool{"openid": true, "profile": true, "email": true, "offline_access": true}

func (s *Sim) addUserLocked(u User) *user {
	key := strings.ToLower(u.UPN)
	if u.TenantID == "" {
		u.TenantID = s.opts.DefaultTenantID
		if u.Mail == "" {
			u.TenantID = consumerTenant
		}
	}
	if u.DisplayName == "" {
		u.DisplayName = strings.SplitN(u.UPN, "@", 2)[0]
	}
	if u.ConsentScopes != nil {
		u.ConsentScopes = slices.Clone(u.ConsentScopes)
	}
	if ex, ok := s.users[key]; ok {
		ex.User = u
		return ex
	}
	nu := &user{User: u, id: s.guid()}
	nu.mb = newMailbox(s)
	s.users[key] = nu
	s.usersByID[nu.id] = nu
	return nu
}

func (s *Sim) userLocked(upn string) (*user, error) {
	u, ok := s.users[strings.ToLower(upn)]
	if !ok {
		return nil, fmt.Errorf("graphsim: no user %q", upn)
	}
	return u, nil
}

// RevokeRefreshTokens kills every refresh token issued to the user so far;
// the next refresh answers invalid_grant AADSTS50173 (facts §9).
func (s *Sim) RevokeRefreshTokens(upn string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.userLocked(upn)
	if err != nil {
		return err
	}
	u.revokedAt = s.now().Add(time.Nanosecond)
	return nil
}

// WithdrawConsent removes the user's consent for every app: refresh answers
// AADSTS65001 and Graph answers 403 until the user signs in and consents again.
func (s *Sim) WithdrawConsent(upn string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.userLocked(upn)
	if err != nil {
		return err
	}
	u.consentWithdrawn = true
	return nil
}

var (
	identityRe = regexp.MustCompile(`^/([^/]+)/oauth2/v2\.0/(authorize|token)$`)
	guidRe     = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
)

func validTenant(t string) bool {
	switch t {
	case "common", "organizations", "consumers":
		return true
	}
	return guidRe.MatchString(t) || (strings.Contains(t, ".") && !strings.ContainsAny(t, " /"))
}

func (s *Sim) serveIdentity(w http.ResponseWriter, r *http.Request, body []byte) string {
	m := identityRe.FindStringSubmatch(r.URL.Path)
	if m == nil {
		s.unimplemented(r, "unknown identity route")
		s.oauthError(w, http.StatusNotFound, "invalid_request", 900561, "The endpoint only accepts the authorize and token routes of the v2.0 authority. (graphsim: unimplemented route)")
		return ""
	}
	endpoint := r.Method + " /{tenant}/oauth2/v2.0/" + m[2]
	if !validTenant(m[1]) {
		s.oauthError(w, http.StatusBadRequest, "invalid_tenant", 90002, fmt.Sprintf("Tenant '%s' not found.", m[1]))
		return endpoint
	}
	switch {
	case m[2] == "authorize" && (r.Method == http.MethodGet || r.Method == http.MethodPost):
		s.authorize(w, r, body)
	case m[2] == "token" && r.Method == http.MethodPost:
		s.tokenEndpoint(w, r, body)
	default:
		s.unimplemented(r, "method not allowed")
		s.oauthError(w, http.StatusMethodNotAllowed, "invalid_request", 900561, "The endpoint only accepts POST requests.")
	}
	return endpoint
}

// oauthError writes Microsoft's OAuth error shape (facts §9).
func (s *Sim) oauthError(w http.ResponseWriter, status int, code string, aadsts int, msg string) {
	s.mu.Lock()
	now := s.now()
	trace, corr := s.guid(), s.guid()
	s.mu.Unlock()
	b, _ := json.Marshal(map[string]any{
		"error":             code,
		"error_description": fmt.Sprintf("AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s", aadsts, msg, trace, corr, now.Format("2006-01-02 15:04:05Z")),
		"error_codes":       []int{aadsts},
		"timestamp":         now.Format("2006-01-02 15:04:05Z"),
		"trace_id":          trace,
		"correlation_id":    corr,
		"error_uri":         "https://login.microsoftonline.com/error?code=" + fmt.Sprint(aadsts),
	})
	if aadsts == 65001 {
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		m["suberror"] = "consent_required"
		b, _ = json.Marshal(m)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store, no-cache")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// errorPage answers an authorize request that cannot be redirected (unknown
// client or redirect URI): the identity platform shows an error page.
func (s *Sim) errorPage(w http.ResponseWriter, aadsts int, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusBadRequest)
	fmt.Fprintf(w, "<!DOCTYPE html><html><body><h1>Sign in</h1><p>AADSTS%d: %s</p></body></html>", aadsts, template.HTMLEscapeString(msg))
}

func splitScopes(s string) []string { return strings.Fields(s) }

func scopeKey(sc string) string {
	sc = strings.TrimPrefix(sc, "https://graph.microsoft.com/")
	return strings.ToLower(sc)
}

func hasScope(list []string, want string) bool {
	for _, s := range list {
		if scopeKey(s) == strings.ToLower(want) {
			return true
		}
	}
	return false
}

// grant is what the user consents to out of requested.
func grant(u *user, requested, ticked []string) []string {
	var out []string
	for _, sc := range requested {
		k := scopeKey(sc)
		if oidcScopes[k] {
			out = append(out, sc)
			continue
		}
		if u.ConsentScopes != nil && !hasScope(u.ConsentScopes, k) {
			continue
		}
		if ticked != nil && !hasScope(ticked, k) {
			continue
		}
		out = append(out, sc)
	}
	return out
}

var personalDomains = map[string]bool{"outlook.com": true, "hotmail.com": true, "live.com": true, "msn.com": true}

func (s *Sim) authorize(w http.ResponseWriter, r *http.Request, body []byte) {
	q := r.URL.Query()
	var form url.Values
	if r.Method == http.MethodPost {
		var err error
		if form, err = url.ParseQuery(string(body)); err != nil {
			s.errorPage(w, 900144, "The request body must be form-encoded.")
			return
		}
		q = form
	}
	clientID, redirectURI := q.Get("client_id"), q.Get("redirect_uri")
	s.mu.Lock()
	app, ok := s.apps[clientID]
	s.mu.Unlock()
	if !ok {
		s.errorPage(w, 700016, fmt.Sprintf("Application with identifier '%s' was not found in the directory.", clientID))
		return
	}
	if !slices.Contains(app.RedirectURIs, redirectURI) {
		s.errorPage(w, 50011, fmt.Sprintf("The redirect URI '%s' specified in the request does not match the redirect URIs configured for the application '%s'.", redirectURI, clientID))
		return
	}
	redirectErr := func(code, desc string) {
		s.redirect(w, q, url.Values{"error": {code}, "error_description": {desc}})
	}
	if q.Get("response_type") != "code" {
		redirectErr("unsupported_response_type", "AADSTS700054: response_type '"+q.Get("response_type")+"' is not enabled for the application.")
		return
	}
	if q.Get("code_challenge") != "" && q.Get("code_challenge_method") != "S256" {
		redirectErr("invalid_request", "AADSTS501491: Invalid code_challenge_method; this simulator accepts S256 only.")
		return
	}
	scopes := splitScopes(q.Get("scope"))
	if len(scopes) == 0 {
		redirectErr("invalid_request", "AADSTS900144: The request body must contain the following parameter: 'scope'.")
		return
	}
	var ticked []string
	upn := q.Get("login_hint")
	switch {
	case r.Method == http.MethodPost:
		if form.Get("action") != "accept" {
			redirectErr("access_denied", "AADSTS65004: User declined to consent to access the app.")
			return
		}
		upn = form.Get("login")
		ticked = form["grant"]
		if ticked == nil {
			ticked = []string{}
		}
	case s.opts.AutoConsent:
		if upn == "" {
			redirectErr("interaction_required", "AADSTS50058: A silent sign-in request was sent but no user is signed in (no login_hint).")
			return
		}
	case q.Get("prompt") == "none":
		redirectErr("interaction_required", "AADSTS65001: The user or administrator has not consented to use the application.")
		return
	default:
		s.signInPage(w, q, scopes)
		return
	}
	if upn == "" {
		redirectErr("invalid_request", "AADSTS50126: No user name was given.")
		return
	}

	s.mu.Lock()
	u, ok := s.users[strings.ToLower(upn)]
	if !ok {
		nu := User{UPN: upn}
		if at := strings.LastIndex(upn, "@"); at < 0 || !personalDomains[strings.ToLower(upn[at+1:])] {
			nu.Mail = upn
		}
		u = s.addUserLocked(nu)
	}
	granted := grant(u, scopes, ticked)
	u.consentWithdrawn = false
	code := s.token("M.C")
	s.codes[code] = &authCode{
		clientID: clientID, redirectURI: redirectURI, user: u, scopes: granted,
		challenge: q.Get("code_challenge"), method: q.Get("code_challenge_method"),
		expires: s.now().Add(s.opts.AuthCodeLifetime),
	}
	s.mu.Unlock()
	s.redirect(w, q, url.Values{"code": {code}})
}

// redirect sends the authorize answer back in the requested response_mode.
func (s *Sim) redirect(w http.ResponseWriter, q url.Values, vals url.Values) {
	if st := q.Get("state"); st != "" {
		vals.Set("state", st)
	}
	target := q.Get("redirect_uri")
	if q.Get("response_mode") == "form_post" {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = formPostTmpl.Execute(w, map[string]any{"Action": target, "Vals": vals})
		return
	}
	u, _ := url.Parse(target)
	uq := u.Query()
	for k, vs := range vals {
		uq[k] = vs
	}
	u.RawQuery = uq.Encode()
	w.Header().Set("Location", u.String())
	w.WriteHeader(http.StatusFound)
}

var formPostTmpl = template.Must(template.New("fp").Parse(`<!DOCTYPE html><html><body onload="document.forms[0].submit()">
<form method="POST" action="{{.Action}}">{{range $k, $vs := .Vals}}{{range $vs}}<input type="hidden" name="{{$k}}" value="{{.}}">{{end}}{{end}}
<noscript><button type="submit">Continue</button></noscript></form></body></html>`))

// signInTmpl looks like Microsoft's sign-in: an account picker (the
// login_hint's account, or another one) and the consent screen listing the
// permissions. The form's fields (login, grant, action) are what authorize reads.
var signInTmpl = template.Must(template.New("si").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in to your account (graphsim)</title>
<style>
body{margin:0;background:#f2f2f2;font:15px "Segoe UI",Helvetica,Arial,sans-serif;color:#1b1b1b}
.card{background:#fff;max-width:380px;margin:40px auto;padding:36px 40px;box-shadow:0 2px 6px rgba(0,0,0,.2)}
.logo{display:flex;align-items:center;gap:8px;font-size:18px;color:#5e5e5e;margin-bottom:18px}
.logo i{display:inline-grid;grid-template-columns:9px 9px;gap:1px}.logo i b{width:9px;height:9px;display:block}
h1{font-size:22px;font-weight:600;margin:0 0 14px}h2{font-size:15px;font-weight:600;margin:20px 0 6px}
.tile{display:flex;align-items:center;gap:12px;padding:10px;border:1px solid #e0e0e0;margin-bottom:6px}
.avatar{width:36px;height:36px;border-radius:50%;background:#0067b8;color:#fff;display:grid;place-items:center;font-weight:600}
input[name=login]{width:100%;box-sizing:border-box;border:0;border-bottom:1px solid #666;padding:6px 0;font-size:15px}
.perm{display:flex;gap:8px;margin:6px 0;font-size:14px}.perm small{color:#666;display:block}
.note{font-size:12px;color:#666;margin-top:14px}.buttons{display:flex;justify-content:flex-end;gap:8px;margin-top:20px}
button{min-width:100px;padding:6px 12px;font-size:15px;border:0;cursor:pointer}button.primary{background:#0067b8;color:#fff}button.secondary{background:#ccc}
.sim{font-size:11px;color:#999;text-align:center}
</style></head>
<body><div class="card">
<div class="logo"><i><b style="background:#f25022"></b><b style="background:#7fba00"></b><b style="background:#00a4ef"></b><b style="background:#ffb900"></b></i>Microsoft</div>
<form method="POST">
{{range $k, $vs := .Q}}{{range $vs}}<input type="hidden" name="{{$k}}" value="{{.}}">{{end}}{{end}}
<h1>{{if .Login}}Pick an account{{else}}Sign in{{end}}</h1>
{{if .Login}}<div class="tile"><span class="avatar">{{slice .Login 0 1}}</span><span>{{.Login}}<br><small>Signed in</small></span></div>
<h2>Use another account</h2>{{end}}
<label>Email, phone, or Skype <input name="login" value="{{.Login}}" autofocus required></label>
<h2>Permissions requested</h2>
<p>This app would like to:</p>
{{range .Scopes}}<label class="perm"><input type="checkbox" name="grant" value="{{.}}" checked><span>{{if eq . "User.Read"}}Sign you in and read your profile{{else if eq . "Calendars.ReadWrite"}}Have full access to your calendars{{else if eq . "Calendars.Read"}}Read your calendars{{else if eq . "offline_access"}}Maintain access to data you have given it access to{{else}}{{.}}{{end}}<small>{{.}}</small></span></label>{{end}}
<p class="note">Accepting these permissions means that you allow this app to use your data as specified in their terms of service and privacy statement.</p>
<div class="buttons"><button name="action" value="cancel" class="secondary" formnovalidate>Cancel</button><button name="action" value="accept" class="primary">Accept</button></div>
</form></div><p class="sim">graphsim: the Microsoft 365 simulator</p></body></html>`))

func (s *Sim) signInPage(w http.ResponseWriter, q url.Values, scopes []string) {
	hidden := url.Values{}
	for k, vs := range q {
		if k != "login" && k != "grant" && k != "action" {
			hidden[k] = vs
		}
	}
	var shown []string
	for _, sc := range scopes {
		if !oidcScopes[scopeKey(sc)] {
			shown = append(shown, sc)
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = signInTmpl.Execute(w, map[string]any{"Q": hidden, "Login": q.Get("login_hint"), "Scopes": shown})
}

func (s *Sim) tokenEndpoint(w http.ResponseWriter, r *http.Request, body []byte) {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		s.oauthError(w, http.StatusBadRequest, "invalid_request", 900144, "The request body must be application/x-www-form-urlencoded.")
		return
	}
	f, err := url.ParseQuery(string(body))
	if err != nil {
		s.oauthError(w, http.StatusBadRequest, "invalid_request", 900144, "Malformed form body.")
		return
	}
	clientID, secret := f.Get("client_id"), f.Get("client_secret")
	if id, sec, ok := r.BasicAuth(); ok {
		clientID, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(sec)
	}
	s.mu.Lock()
	app, ok := s.apps[clientID]
	s.mu.Unlock()
	if !ok {
		s.oauthError(w, http.StatusBadRequest, "unauthorized_client", 700016, fmt.Sprintf("Application with identifier '%s' was not found in the directory.", clientID))
		return
	}
	if secret == "" {
		s.oauthError(w, http.StatusUnauthorized, "invalid_client", 7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
		return
	}
	if subtle.ConstantTimeCompare([]byte(secret), []byte(app.ClientSecret)) != 1 {
		s.oauthError(w, http.StatusUnauthorized, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.")
		return
	}
	switch f.Get("grant_type") {
	case "authorization_code":
		s.redeemCode(w, f, clientID)
	case "refresh_token":
		s.redeemRefresh(w, f, clientID)
	case "":
		s.oauthError(w, http.StatusBadRequest, "invalid_request", 900144, "The request body must contain the following parameter: 'grant_type'.")
	default:
		s.oauthError(w, http.StatusBadRequest, "unsupported_grant_type", 70003, "The app requested an unsupported grant type '"+f.Get("grant_type")+"'.")
	}
}

func (s *Sim) redeemCode(w http.ResponseWriter, f url.Values, clientID string) {
	s.mu.Lock()
	c, ok := s.codes[f.Get("code")]
	now := s.now()
	var fail func()
	switch {
	case !ok || c.clientID != clientID:
		fail = func() {
			s.oauthError(w, 400, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid. The provided authorization code is not valid.")
		}
	case c.used:
		fail = func() {
			s.oauthError(w, 400, "invalid_grant", 54005, "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.")
		}
	case now.After(c.expires):
		fail = func() {
			s.oauthError(w, 400, "invalid_grant", 70008, "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.")
		}
	case f.Get("redirect_uri") != c.redirectURI:
		fail = func() {
			s.oauthError(w, 400, "invalid_grant", 500112, "The reply address does not match the reply address provided when requesting the authorization code.")
		}
	case c.challenge != "" && !pkceOK(c.challenge, f.Get("code_verifier")):
		fail = func() {
			s.oauthError(w, 400, "invalid_grant", 501481, "The Code_Verifier does not match the code_challenge supplied in the authorization request.")
		}
	case c.challenge == "" && f.Get("code_verifier") != "":
		fail = func() {
			s.oauthError(w, 400, "invalid_grant", 501481, "The code_verifier was sent but no code_challenge was supplied in the authorization request.")
		}
	case c.user.consentWithdrawn:
		fail = func() {
			s.oauthError(w, 400, "invalid_grant", 65001, "The user or administrator has not consented to use the application. Send an interactive authorization request for this user and resource.")
		}
	}
	if ok {
		c.used = true // any redemption attempt burns the code
	}
	if fail != nil {
		s.mu.Unlock()
		fail()
		return
	}
	resp := s.issueLocked(clientID, c.user, c.scopes)
	s.mu.Unlock()
	writeTokenResponse(w, resp)
}

func pkceOK(challenge, verifier string) bool {
	if verifier == "" {
		return false
	}
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:]) == challenge
}

func (s *Sim) redeemRefresh(w http.ResponseWriter, f url.Values, clientID string) {
	s.mu.Lock()
	rt, ok := s.refresh[f.Get("refresh_token")]
	now := s.now()
	var fail func()
	switch {
	case !ok || rt.clientID != clientID:
		fail = func() {
			s.oauthError(w, 400, "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid. The provided refresh token is not valid.")
		}
	case rt.issued.Before(rt.user.revokedAt):
		fail = func() {
			s.oauthError(w, 400, "invalid_grant", 50173, "The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password.")
		}
	case rt.used && s.opts.InvalidateUsedRefreshTokens:
		fail = func() {
			s.oauthError(w, 400, "invalid_grant", 70008, "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.")
		}
	case now.After(rt.expires):
		fail = func() {
			s.oauthError(w, 400, "invalid_grant", 700082, "The refresh token has expired due to inactivity. The token was issued on "+rt.issued.Format(time.RFC3339)+" and was inactive for "+s.opts.RefreshTokenLifetime.String()+".")
		}
	case rt.user.consentWithdrawn:
		fail = func() {
			s.oauthError(w, 400, "invalid_grant", 65001, "The user or administrator has not consented to use the application. Send an interactive authorization request for this user and resource.")
		}
	}
	scopes := []string(nil)
	if fail == nil {
		scopes = rt.scopes
		if req := splitScopes(f.Get("scope")); len(req) > 0 {
			for _, sc := range req {
				if !oidcScopes[scopeKey(sc)] && !hasScope(rt.scopes, scopeKey(sc)) {
					fail = func() {
						s.oauthError(w, 400, "invalid_grant", 65001, "The user or administrator has not consented to use the application with ID '"+clientID+"'. Send an interactive authorization request for this user and resource.")
					}
				}
			}
			if fail == nil {
				scopes = req
			}
		}
	}
	if fail != nil {
		s.mu.Unlock()
		fail()
		return
	}
	rt.used = true
	resp := s.issueLocked(clientID, rt.user, scopes)
	s.mu.Unlock()
	writeTokenResponse(w, resp)
}

// issueLocked mints an access token (and a refresh token when offline_access
// was granted, and an id_token with openid) (facts §9).
func (s *Sim) issueLocked(clientID string, u *user, scopes []string) map[string]any {
	now := s.now()
	at := s.token("EwB")
	s.access[at] = &accessToken{clientID: clientID, user: u, scopes: scopes, expires: now.Add(s.opts.AccessTokenLifetime)}
	var shown []string
	for _, sc := range scopes {
		if k := scopeKey(sc); k != "offline_access" && k != "openid" && k != "profile" && k != "email" {
			shown = append(shown, sc)
		}
	}
	resp := map[string]any{
		"token_type":     "Bearer",
		"scope":          strings.Join(shown, " "),
		"expires_in":     int(s.opts.AccessTokenLifetime / time.Second),
		"ext_expires_in": int(s.opts.AccessTokenLifetime / time.Second),
		"access_token":   at,
	}
	if hasScope(scopes, "offline_access") {
		rt := s.token("M.R3_")
		s.refresh[rt] = &refreshToken{clientID: clientID, user: u, scopes: scopes, issued: now, expires: now.Add(s.opts.RefreshTokenLifetime)}
		resp["refresh_token"] = rt
	}
	if hasScope(scopes, "openid") {
		resp["id_token"] = idToken(clientID, u, now, s.opts.AccessTokenLifetime)
	}
	return resp
}

// idToken is an unsigned JWT carrying the claims a client reads.
func idToken(clientID string, u *user, now time.Time, life time.Duration) string {
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	return enc(map[string]string{"typ": "JWT", "alg": "none"}) + "." + enc(map[string]any{
		"aud": clientID, "iss": "https://login.microsoftonline.com/" + u.TenantID + "/v2.0",
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(life).Unix(),
		"name": u.DisplayName, "oid": u.id, "preferred_username": u.UPN, "tid": u.TenantID, "ver": "2.0",
	}) + "."
}

func writeTokenResponse(w http.ResponseWriter, resp map[string]any) {
	w.Header().Set("Cache-Control", "no-store, no-cache")
	w.Header().Set("Pragma", "no-cache")
	b, _ := json.Marshal(resp)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
}
