// Package graphclient is the Microsoft side of oro-msync's connection: OAuth 2.0
// against the Microsoft identity platform (authorization code with PKCE S256,
// a client secret, refresh with rotation captured), a deterministic
// msgraph-sdk-go client whose access tokens come from an oauth2.TokenSource,
// and Classify, the one function that maps every Microsoft failure onto the
// calsync error taxonomy.
//
// A Session lives for one RPC request: it is built from the tokens the host
// sent, may refresh them, and hands the rotated set back through Tokens so the
// host can persist it. The package holds no storage and no process-wide state
// beyond what msgraph-sdk-go itself keeps, which it sets up once, before the
// first session, so that sessions never write it (see newGraphClient).
//
// Base URLs come only from process-level Endpoints (flags or environment),
// never from request parameters. Links the host sends back (a deltaLink in
// the sync state) do decide where a request goes, so the access token is
// attached only to URLs with the Graph endpoint's scheme, host and port and
// a path below its base path, whatever the SDK was asked to fetch;
// Session.CheckLink rejects any other link up front, naming the request
// field, and Session.IsGraphLink lets callers refuse such links from Graph
// itself. Redirects: the token client follows none (a token request
// carries secrets), and Graph redirects are followed only for a GET within
// the Graph endpoint. Whatever Graph or the token endpoint answers that the
// SDK or x/oauth2 would misread (a redirect not followed, an HTML page, a
// body cut short, a token answer without an access token) is Microsoft
// being unavailable, never our internal error.
//
// Tokens, codes, verifiers and client secrets are never logged and never put
// into error messages. Errors from the SDK and from x/oauth2 are reduced to
// status, codes and request ids before they leave this package.
//
// The package must not import rpc; calendar mapping lives in the calendar
// subpackage.
package graphclient
