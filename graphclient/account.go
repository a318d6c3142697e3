package graphclient

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"

	"github.com/microsoftgraph/msgraph-sdk-go/users"
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
	u, err := s.client.Me().Get(ctx, &users.UserItemRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.UserItemRequestBuilderGetQueryParameters{
			Select: []string{"id", "displayName", "mail", "userPrincipalName"},
		},
	})
	if err != nil {
		return Account{}, withOp(ClassifyRead(err), "graph.me")
	}
	if u == nil {
		return Account{}, EmptyAnswer("graph.me")
	}
	a := Account{ID: deref(u.GetId()), DisplayName: deref(u.GetDisplayName()), Email: deref(u.GetMail())}
	if a.Email == "" {
		a.Email = deref(u.GetUserPrincipalName())
	}
	a.TenantID = s.tenantID()
	return a, nil
}

// DefaultCalendar reads the user's default calendar (GET /me/calendar).
func (s *Session) DefaultCalendar(ctx context.Context) (Calendar, error) {
	c, err := s.client.Me().Calendar().Get(ctx, &users.ItemCalendarRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.ItemCalendarRequestBuilderGetQueryParameters{
			Select: []string{"id", "name", "canEdit"},
		},
	})
	if err != nil {
		return Calendar{}, withOp(ClassifyRead(err), "graph.defaultCalendar")
	}
	if c == nil {
		return Calendar{}, EmptyAnswer("graph.defaultCalendar")
	}
	cal := Calendar{ID: deref(c.GetId()), Name: deref(c.GetName())}
	if ce := c.GetCanEdit(); ce != nil {
		cal.CanEdit = *ce
	}
	return cal, nil
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
