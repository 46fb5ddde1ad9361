// A loopback OpenID Connect provider for the browser tests: discovery, a sign-in page, the
// authorization code flow with PKCE (S256 only) as a real provider checks it, a token endpoint
// that allows the app's origin (CORS), and RS256 tokens whose keys it publishes as a JWKS.
//
// It refuses what a real provider refuses: an unknown client, a redirect URI that is not
// registered, a missing or plain PKCE challenge, a code used twice, a verifier that does not
// match. It records the requests it got, for the tests to look at.
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { createServer } from 'node:http';

const b64url = (data) => Buffer.from(data).toString('base64url');

function escape(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

async function readForm(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
}

/**
 * Starts the provider on 127.0.0.1. `users` maps a user key to its claims (`sub`, `name`, and
 * whatever else its access token carries); `audience` is the access tokens' `aud` when the
 * authorization request names none.
 */
export async function startProvider({ clientId, audience, users, name = 'Acme SSO' }) {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = `k-${randomBytes(4).toString('hex')}`;
  const codes = new Map();
  const provider = {
    issuer: '',
    /** Redirect URIs registered for the client (set once the app's address is known); also
     * its post-logout redirect URIs. */
    redirectUris: [],
    /** The query of each end-session (logout) request. */
    logoutRequests: [],
    /** Origins the token endpoint answers (CORS). */
    allowedOrigins: [],
    /** The query of each authorization request. */
    authorizeRequests: [],
    /** Each token request: its form and the answer's status. */
    tokenRequests: [],
    /** When set, the next access tokens carry this `aud` instead. */
    audienceOverride: null,
    /** The lifetime of the access tokens it issues, in seconds. */
    accessTokenSecs: 600,
    close: () => new Promise((r) => server.close(r)),
  };

  const jwt = (claims) => {
    const head = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid }));
    const body = b64url(JSON.stringify(claims));
    return `${head}.${body}.${sign('sha256', Buffer.from(`${head}.${body}`), privateKey).toString('base64url')}`;
  };

  const json = (res, status, body, headers = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
    res.end(JSON.stringify(body));
  };

  const page = (res, status, html) => {
    res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(name)}</title></head><body><main>${html}</main></body></html>`);
  };

  /** Why the authorization request `q` is refused, or '' (refusals are shown, never redirected). */
  const refusal = (q) => {
    if (q.get('client_id') !== clientId) return 'unknown client_id';
    if (!provider.redirectUris.includes(q.get('redirect_uri'))) return 'redirect_uri is not registered for this client';
    if (q.get('response_type') !== 'code') return 'response_type must be code';
    if (q.get('code_challenge_method') !== 'S256') return 'PKCE with S256 is required';
    if (!/^[A-Za-z0-9_-]{43}$/.test(q.get('code_challenge') || '')) return 'code_challenge is not a SHA-256 in base64url';
    if (!(q.get('scope') || '').split(' ').includes('openid')) return 'scope must include openid';
    if (!q.get('state')) return 'state is required';
    if (!['query', 'fragment', null].includes(q.get('response_mode'))) return 'unsupported response_mode';
    return '';
  };

  const back = (q, params) => {
    const to = new URL(q.get('redirect_uri'));
    const answer = new URLSearchParams({ ...params, state: q.get('state'), iss: provider.issuer });
    if (q.get('response_mode') === 'fragment') to.hash = answer.toString();
    else to.search = answer.toString();
    return to.href;
  };

  /** The user of the provider's own session cookie, if any. */
  const sessionOf = (req) => /(?:^|;\s*)sso=([\w-]+)/.exec(req.headers.cookie || '')?.[1];

  /** A new code for `user` answering the authorization request `q`, as the redirect back. */
  const issueCode = (q, user) => {
    const code = randomBytes(24).toString('base64url');
    codes.set(code, { q, user: users[user], used: false, at: Date.now() });
    return back(q, { code });
  };

  const refreshTokens = new Map();

  /** The tokens of an authorization `grant`: access, ID and (rotating) refresh token. */
  const tokensFor = (grant) => {
    const now = Math.floor(Date.now() / 1000);
    const { name: fullName, ...claims } = grant.user;
    const aud = provider.audienceOverride || grant.q.get('audience') || audience;
    const life = provider.accessTokenSecs;
    const refreshToken = randomBytes(24).toString('base64url');
    refreshTokens.set(refreshToken, { grant, used: false });
    return {
      token_type: 'Bearer',
      expires_in: life,
      scope: grant.q.get('scope'),
      access_token: jwt({ ...claims, iss: provider.issuer, aud, azp: clientId, iat: now, exp: now + life, scope: grant.q.get('scope') }),
      id_token: jwt({ iss: provider.issuer, aud: clientId, sub: claims.sub, name: fullName, nonce: grant.q.get('nonce'), iat: now, exp: now + life }),
      refresh_token: refreshToken,
    };
  };

  const server = createServer(async (req, res) => {
    const url = new URL(req.url, provider.issuer);
    try {
      if (req.method === 'GET' && url.pathname === '/.well-known/openid-configuration') {
        return json(res, 200, {
          issuer: provider.issuer,
          authorization_endpoint: `${provider.issuer}/authorize`,
          token_endpoint: `${provider.issuer}/token`,
          end_session_endpoint: `${provider.issuer}/logout`,
          jwks_uri: `${provider.issuer}/jwks`,
          response_types_supported: ['code'],
          response_modes_supported: ['query', 'fragment'],
          grant_types_supported: ['authorization_code'],
          code_challenge_methods_supported: ['S256'],
          id_token_signing_alg_values_supported: ['RS256'],
          subject_types_supported: ['public'],
        });
      }
      if (req.method === 'GET' && url.pathname === '/jwks') {
        return json(res, 200, { keys: [{ ...publicKey.export({ format: 'jwk' }), kid, use: 'sig', alg: 'RS256' }] });
      }
      if (req.method === 'GET' && url.pathname === '/authorize') {
        const q = url.searchParams;
        provider.authorizeRequests.push(Object.fromEntries(q));
        const why = refusal(q);
        if (why) return page(res, 400, `<h1>Sign-in refused</h1><p id="refusal">${escape(why)}</p>`);
        // A user signed in here before (and not signed out) is not asked again, as at a real
        // provider: the code comes back at once.
        const session = sessionOf(req);
        if (session && users[session]) {
          res.writeHead(302, { location: issueCode(q, session) });
          return res.end();
        }
        const hidden = [...q].map(([k, v]) => `<input type="hidden" name="${escape(k)}" value="${escape(v)}">`).join('');
        const buttons = Object.entries(users)
          .map(([key, u]) => `<button name="user" value="${escape(key)}">Continue as ${escape(u.name)}</button>`)
          .join(' ');
        return page(res, 200, `<h1>${escape(name)}</h1><form method="post" action="/authorize">${hidden}${buttons} <button name="deny" value="1">Cancel</button></form>`);
      }
      if (req.method === 'POST' && url.pathname === '/authorize') {
        const q = await readForm(req);
        const why = refusal(q);
        if (why) return page(res, 400, `<p id="refusal">${escape(why)}</p>`);
        if (q.get('deny') || !users[q.get('user')]) {
          const to = back(q, { error: 'access_denied', error_description: 'The user cancelled the sign-in' });
          res.writeHead(302, { location: to });
          return res.end();
        }
        res.writeHead(302, { location: issueCode(q, q.get('user')), 'set-cookie': `sso=${q.get('user')}; Path=/; HttpOnly; SameSite=Lax` });
        return res.end();
      }
      if (req.method === 'GET' && url.pathname === '/logout') {
        const q = url.searchParams;
        provider.logoutRequests.push(Object.fromEntries(q));
        const to = q.get('post_logout_redirect_uri');
        if (q.get('client_id') !== clientId || !provider.redirectUris.includes(to)) {
          return page(res, 400, '<p id="refusal">post_logout_redirect_uri is not registered for this client</p>');
        }
        res.writeHead(302, { location: to, 'set-cookie': 'sso=; Path=/; Max-Age=0' });
        return res.end();
      }
      if (url.pathname === '/token') {
        const origin = req.headers.origin;
        const cors = provider.allowedOrigins.includes(origin) ? { 'access-control-allow-origin': origin, vary: 'origin' } : {};
        if (req.method === 'OPTIONS') {
          res.writeHead(204, { ...cors, 'access-control-allow-methods': 'POST', 'access-control-allow-headers': 'content-type' });
          return res.end();
        }
        if (req.method !== 'POST') return json(res, 405, { error: 'invalid_request' }, cors);
        const form = await readForm(req);
        const answer = (status, body) => {
          provider.tokenRequests.push({ form: Object.fromEntries(form), status });
          json(res, status, body, cors);
        };
        if (form.get('grant_type') === 'refresh_token') {
          // Rotation: a refresh token works once, and its use gives a new one.
          const held = refreshTokens.get(form.get('refresh_token') || '');
          if (!held || held.used || form.get('client_id') !== clientId) {
            return answer(400, { error: 'invalid_grant', error_description: 'The refresh token is unknown or was used' });
          }
          held.used = true;
          return answer(200, tokensFor(held.grant));
        }
        const grant = codes.get(form.get('code') || '');
        if (form.get('grant_type') !== 'authorization_code') return answer(400, { error: 'unsupported_grant_type' });
        if (!grant || grant.used || Date.now() - grant.at > 60_000) {
          return answer(400, { error: 'invalid_grant', error_description: 'The code is unknown, used or expired' });
        }
        grant.used = true;
        if (form.get('client_id') !== grant.q.get('client_id')) return answer(400, { error: 'invalid_client' });
        if (form.get('redirect_uri') !== grant.q.get('redirect_uri')) {
          return answer(400, { error: 'invalid_grant', error_description: 'redirect_uri differs from the authorization request' });
        }
        const verifier = form.get('code_verifier') || '';
        if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier) || b64url(createHash('sha256').update(verifier).digest()) !== grant.q.get('code_challenge')) {
          return answer(400, { error: 'invalid_grant', error_description: 'PKCE verification failed' });
        }
        return answer(200, tokensFor(grant));
      }
      json(res, 404, { error: 'not_found' });
    } catch (e) {
      json(res, 500, { error: 'server_error', error_description: String(e) });
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  provider.issuer = `http://127.0.0.1:${server.address().port}`;
  return provider;
}
