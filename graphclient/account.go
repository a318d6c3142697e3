package graphclient

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"

	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	"golang.org/x/oauth2"
)

// Account is the signed-in Microsoft 365 user as the configuration page shows it.
type Account struct {
	ID          string `json:"id"`
	DisplayName string `json:"displayName"`
	// Email is mail, or userPrincipalName where mail is null (personal
	// accounts, work accounts without Exchange Online).
	Email    string `json:"email"`
	TenantID string `json:"tenantId,omitempty"`
}

// Calendar is the user's default calendar.
type Calendar struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	CanEdit bool   `json:"canEdit"`
}

// Me reads the signed-in user (GET /me). TenantID comes from the id_token of
// the last refresh, the access token's claims or a tenant GUID in the app
// registration, whichever is known first; it is empty when none is.
func (s *Session) Me(ctx context.Context) (Account, error) {
	var u *struct {
		ID                string `json:"id"`
		DisplayName       string `json:"displayName"`
		Mail              string `json:"mail"`
		UserPrincipalName string `json:"userPrincipalName"`
	}
	if err := s.getJSON(ctx, "graph.me", "/me?%24select=id,displayName,mail,userPrincipalName", &u); err != nil {
		return Account{}, err
	}
	if u == nil {
		return Account{}, EmptyAnswer("graph.me")
	}
	a := Account{ID: u.ID, DisplayName: u.DisplayName, Email: u.Mail}
	if a.Email == "" {
		a.Email = u.UserPrincipalName
	}
	a.TenantID = s.tenantID()
	return a, nil
}

// DefaultCalendar reads the user's default calendar (GET /me/calendar).
func (s *Session) DefaultCalendar(ctx context.Context) (Calendar, error) {
	var c *Calendar
	if err := s.getJSON(ctx, "graph.defaultCalendar", "/me/calendar?%24select=id,name,canEdit", &c); err != nil {
		return Calendar{}, err
	}
	if c == nil {
		return Calendar{}, EmptyAnswer("graph.defaultCalendar")
	}
	return *c, nil
}

// getJSON sends GET pathAndQuery (below the Graph endpoint) through the
// session's request adapter, so authentication, retries, redirect rules
// and the rest of the middleware apply as to every Graph call, and decodes
// the answer into v with encoding/json: a few fields do not need the SDK's
// models, and not using them for these calls keeps their parsing (and, once
// nothing else uses them, their code) out of the process. An empty answer
// leaves v as it is.
func (s *Session) getJSON(ctx context.Context, op, pathAndQuery string, v any) error {
	ri := abs.NewRequestInformation()
	ri.Method = abs.GET
	ri.UrlTemplate = "{+baseurl}" + pathAndQuery
	ri.Headers.TryAdd("Accept", "application/json")
	raw, err := s.adapter.SendPrimitive(ctx, ri, "[]byte", abs.ErrorMappings{"XXX": odataerrors.CreateODataErrorFromDiscriminatorValue})
	if err != nil {
		return withOp(ClassifyRead(err), op)
	}
	if body, _ := raw.([]byte); len(body) > 0 {
		if err := json.Unmarshal(body, v); err != nil {
			return withOp(ClassifyRead(err), op)
		}
	}
	return nil
}

func (s *Session) tenantID() string {
	s.src.mu.Lock()
	last := s.src.last
	s.src.mu.Unlock()
	if last != nil {
		if t := idTokenTenant(last); t != "" {
			return t
		}
	}
	if t := jwtTenant(s.src.initial.AccessToken); t != "" {
		return t
	}
	if isGUID(s.tenant) {
		return s.tenant
	}
	return ""
}

// idTokenTenant reads the tid claim of the id_token in a token response. The
// id_token came straight from the token endpoint over TLS, which OpenID
// Connect Core §3.1.3.7 accepts in place of checking its signature.
func idTokenTenant(t *oauth2.Token) string {
	raw, _ := t.Extra("id_token").(string)
	return jwtTenant(raw)
}

// jwtTenant returns the tid claim of a JWT, or "" when raw is not one
// (Microsoft access tokens for personal accounts are opaque).
func jwtTenant(raw string) string {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return ""
	}
	var c struct {
		TID string `json:"tid"`
	}
	if json.Unmarshal(b, &c) != nil || !isGUID(c.TID) {
		return ""
	}
	return c.TID
}
