// The page served at `/`: sign-in, the caller's conversations and the chat.
import { errorOf, h, icon } from './chat.js';

const TOKEN_KEY = 'cbi.token';
const NAME_KEY = 'cbi.name';
// A sign-in with an identity provider in progress: its state, nonce and PKCE verifier, kept in
// this tab only until the provider sends the browser back.
const PENDING_KEY = 'cbi.signin';
const PENDING_MAX_MS = 10 * 60 * 1000;
// How to end the provider's session too when the user signs out (RP-initiated logout), and the
// provider's name while the browser is away for it.
const SIGNOUT_KEY = 'cbi.signout';
const SIGNED_OUT_KEY = 'cbi.signedout';
// A provider's refresh token, to renew the access token before it expires.
const REFRESH_KEY = 'cbi.refresh';
let refreshTimer = 0;
const $ = (id) => document.getElementById(id);
const chat = $('chat');

/** The claims of a JWT, for display only (the server checks every token). */
function claims(token) {
  try {
    const part = token.split('.')[1].replaceAll('-', '+').replaceAll('_', '/');
    return JSON.parse(atob(part.padEnd(part.length + ((4 - (part.length % 4)) % 4), '=')));
  } catch {
    return null;
  }
}

let token = sessionStorage.getItem(TOKEN_KEY) || '';

function api(path, options = {}) {
  return fetch(path, {
    ...options,
    headers: { accept: 'application/json', 'content-type': 'application/json', authorization: `Bearer ${token}`, ...options.headers },
  });
}

/** Says `text` on the sign-in page: an error, or (`notice`) plain news such as a sign-out. */
function signInMessage(text, notice = false) {
  $('signin-error').textContent = text;
  $('signin-error').classList.toggle('notice', notice);
}

/** The sign-in page with `message`: an error, or (`notice`) plain news such as a sign-out. */
function showSignIn(message = '', notice = false) {
  token = '';
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(NAME_KEY);
  sessionStorage.removeItem(SIGNOUT_KEY);
  sessionStorage.removeItem(REFRESH_KEY);
  clearTimeout(refreshTimer);
  $('app-view').hidden = true;
  $('who').hidden = true;
  $('menu').hidden = true;
  $('signin-view').hidden = false;
  signInMessage(message, notice);
  showProviders().then(() => {
    if (!$('password-login').hidden && !$('signin-view').hidden) $('username').focus();
  });
}

let providersShown = null;

/**
 * The identity providers to sign in with, as buttons; the password fields only when the server
 * has users (they stay hidden until the server has said, so that a server of providers only
 * never shows them; without an answer, they show).
 */
function showProviders() {
  providersShown ??= (async () => {
    const response = await fetch('/api/v1/auth/providers', { headers: { accept: 'application/json' } }).catch(() => null);
    if (!response?.ok) {
      providersShown = null; // asked again the next time the sign-in page shows
      $('password-login').hidden = false;
      $('password-submit').hidden = false;
      return;
    }
    const { builtin_login: builtinLogin, providers } = await response.json();
    $('providers').replaceChildren(
      ...providers.map((p) =>
        h('button', { type: 'button', class: builtinLogin ? 'provider' : 'provider primary', onclick: () => startProviderSignIn(p) }, `Sign in with ${p.name}`),
      ),
    );
    $('providers').hidden = providers.length === 0;
    $('providers-or').hidden = providers.length === 0 || !builtinLogin;
    $('password-login').hidden = !builtinLogin;
    $('password-submit').hidden = !builtinLogin;
    if (!builtinLogin && providers.length === 0) {
      signInMessage('This server has no way to sign in yet: its administrator needs to add users or an identity provider.');
    }
  })();
  return providersShown;
}

const base64url = (bytes) => btoa(String.fromCharCode(...bytes)).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
const randomText = (n) => base64url(crypto.getRandomValues(new Uint8Array(n)));

/** Sends the browser to the provider (authorization code with PKCE, S256). */
async function startProviderSignIn(provider) {
  const target = new URL(provider.authorization_endpoint);
  if (target.protocol !== 'https:' && target.protocol !== 'http:') return;
  if (!crypto.subtle) {
    signInMessage(`Signing in with ${provider.name} needs this page over https.`);
    return;
  }
  const verifier = randomText(32);
  const challenge = base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))));
  const pending = { state: randomText(16), nonce: randomText(16), verifier, redirectUri: location.origin + location.pathname, provider, at: Date.now() };
  sessionStorage.setItem(PENDING_KEY, JSON.stringify(pending));
  for (const [name, value] of Object.entries(provider.params || {})) target.searchParams.set(name, value);
  const params = {
    response_type: 'code',
    client_id: provider.client_id,
    redirect_uri: pending.redirectUri,
    scope: provider.scope,
    state: pending.state,
    nonce: pending.nonce,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    // The code then comes back in the fragment, which the browser sends to no server or log.
    ...(provider.response_mode === 'fragment' ? { response_mode: 'fragment' } : {}),
  };
  for (const [name, value] of Object.entries(params)) target.searchParams.set(name, value);
  location.assign(target.href);
}

/**
 * Finishes a sign-in when the provider has sent the browser back (`code` and `state`, or
 * `error`, in the fragment or the query): checks that it answers the sign-in this tab started,
 * trades the code (with the PKCE verifier) for tokens at the provider, and signs in with the
 * access token.
 */
async function finishProviderSignIn() {
  const isAnswer = (p) => p.has('state') && (p.has('code') || p.has('error'));
  const fragment = new URLSearchParams(location.hash.slice(1));
  const answer = isAnswer(fragment) ? fragment : new URLSearchParams(location.search);
  if (!isAnswer(answer)) return false;
  // The code leaves the address bar and the history at once.
  history.replaceState(null, '', location.pathname);
  let pending = null;
  try {
    pending = JSON.parse(sessionStorage.getItem(PENDING_KEY) || 'null');
  } catch {}
  sessionStorage.removeItem(PENDING_KEY);
  if (!pending || pending.state !== answer.get('state') || Date.now() - pending.at > PENDING_MAX_MS) {
    showSignIn('This sign-in answer does not belong to a sign-in started in this tab, or it is too old. Sign in again.');
    return true;
  }
  const provider = pending.provider;
  const refuse = (why) => {
    showSignIn(why.length > 300 ? `${why.slice(0, 300)}...` : why);
    return true;
  };
  if (answer.has('iss') && answer.get('iss') !== provider.issuer) {
    return refuse(`The sign-in answer came from another provider than ${provider.name}. Sign in again.`);
  }
  if (answer.has('error')) {
    const error = answer.get('error');
    return refuse(
      error === 'access_denied'
        ? `The sign-in with ${provider.name} was cancelled or refused.`
        : `${provider.name} could not sign you in: ${answer.get('error_description') || error}.`,
    );
  }
  const response = await fetch(provider.token_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    credentials: 'omit',
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: answer.get('code'),
      redirect_uri: pending.redirectUri,
      client_id: provider.client_id,
      code_verifier: pending.verifier,
    }),
  }).catch(() => null);
  if (!response) {
    return refuse(`${provider.name} could not be reached to finish the sign-in. Check the connection; if it persists, the provider may not allow this page's origin (CORS) at its token endpoint.`);
  }
  const tokens = await response.json().catch(() => null);
  if (!response.ok || typeof tokens?.access_token !== 'string') {
    return refuse(`${provider.name} did not finish the sign-in: ${tokens?.error_description || tokens?.error || `HTTP ${response.status}`}.`);
  }
  let name = '';
  if (typeof tokens.id_token === 'string') {
    const id = claims(tokens.id_token);
    if (!id || id.nonce !== pending.nonce) return refuse(`The answer of ${provider.name} does not belong to this sign-in. Sign in again.`);
    name = [id.name, id.preferred_username, id.email].find((v) => typeof v === 'string' && v) || '';
  }
  token = tokens.access_token;
  sessionStorage.setItem(TOKEN_KEY, token);
  if (name) sessionStorage.setItem(NAME_KEY, name);
  if (typeof tokens.refresh_token === 'string') {
    sessionStorage.setItem(REFRESH_KEY, JSON.stringify({ tokenEndpoint: provider.token_endpoint, clientId: provider.client_id, refreshToken: tokens.refresh_token }));
  }
  if (provider.end_session_endpoint) {
    const signOut = { name: provider.name, endSession: provider.end_session_endpoint, clientId: provider.client_id, redirectUri: pending.redirectUri };
    if (typeof tokens.id_token === 'string') signOut.idToken = tokens.id_token;
    sessionStorage.setItem(SIGNOUT_KEY, JSON.stringify(signOut));
  }
  await showApp();
  return true;
}

/**
 * After a provider's sign-in with a refresh token: renews the access token when half its life
 * (at most a minute before it expires) is left, so that a person working all day stays signed
 * in while the provider allows it. A refused renewal leaves the token to expire.
 */
function scheduleRefresh() {
  clearTimeout(refreshTimer);
  const c = claims(token);
  if (!sessionStorage.getItem(REFRESH_KEY) || !c?.exp) return;
  const left = c.exp * 1000 - Date.now();
  const life = c.iat ? (c.exp - c.iat) * 1000 : left;
  refreshTimer = setTimeout(refresh, Math.max(0, left - Math.min(60_000, life / 2)));
}

async function refresh() {
  let saved = null;
  try {
    saved = JSON.parse(sessionStorage.getItem(REFRESH_KEY) || 'null');
  } catch {}
  if (!saved) return;
  const response = await fetch(saved.tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    credentials: 'omit',
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: saved.refreshToken, client_id: saved.clientId }),
  }).catch(() => null);
  const tokens = await response?.json().catch(() => null);
  // Another renewal, or a sign-out, may have happened meanwhile.
  if (sessionStorage.getItem(REFRESH_KEY) !== JSON.stringify(saved)) return;
  if (!response?.ok || typeof tokens?.access_token !== 'string') {
    sessionStorage.removeItem(REFRESH_KEY);
    return;
  }
  token = tokens.access_token;
  sessionStorage.setItem(TOKEN_KEY, token);
  // Providers that rotate refresh tokens send a new one with each renewal.
  if (typeof tokens.refresh_token === 'string') saved.refreshToken = tokens.refresh_token;
  sessionStorage.setItem(REFRESH_KEY, JSON.stringify(saved));
  chat.token = token;
  scheduleRefresh();
}

/** Signs out; after a sign-in with a provider that has an end-session endpoint, there too. */
function signOut() {
  chat.startOver();
  let provider = null;
  try {
    provider = JSON.parse(sessionStorage.getItem(SIGNOUT_KEY) || 'null');
  } catch {}
  showSignIn('You are signed out.', true);
  const to = provider?.endSession && new URL(provider.endSession);
  if (!to || (to.protocol !== 'https:' && to.protocol !== 'http:')) return;
  to.searchParams.set('client_id', provider.clientId);
  if (provider.idToken) to.searchParams.set('id_token_hint', provider.idToken);
  to.searchParams.set('post_logout_redirect_uri', provider.redirectUri);
  sessionStorage.setItem(SIGNED_OUT_KEY, provider.name);
  location.assign(to.href);
}

/** Shows the app for the token, once the server says whom it signs in. */
async function showApp() {
  const c = claims(token);
  if (c?.exp && c.exp * 1000 < Date.now()) return showSignIn('Your sign-in has expired. Sign in again.');
  const response = await api('/api/v1/auth/me').catch(() => null);
  if (!response) return showSignIn('The server could not be reached. Check the connection and try again.');
  if (!response.ok) {
    const error = await errorOf(response);
    return showSignIn(`The server refused the sign-in: ${error.message}`);
  }
  const me = await response.json();
  $('signin-view').hidden = true;
  $('app-view').hidden = false;
  $('who').hidden = false;
  $('menu').hidden = false;
  $('who-name').textContent = sessionStorage.getItem(NAME_KEY) || me.user_id;
  chat.token = token;
  chat.setAttribute('roles', me.roles.join(','));
  scheduleRefresh();
  refreshSessions();
  chat.focusInput();
}

async function signIn(e) {
  e.preventDefault();
  const username = $('username').value.trim();
  const password = $('password').value;
  if (!username || !password) {
    signInMessage('Enter your user name and password.');
    return;
  }
  const response = await fetch('/api/v1/auth/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  }).catch(() => null);
  if (!response) {
    signInMessage('The server could not be reached. Check the connection and try again.');
    return;
  }
  if (!response.ok) {
    const error = await errorOf(response);
    signInMessage(response.status === 401 ? 'The user name or the password is wrong.' : error.retryAfter ? `${error.message} Try again in ${error.retryAfter} s.` : error.message);
    return;
  }
  const body = await response.json();
  token = body.token;
  sessionStorage.setItem(TOKEN_KEY, token);
  $('password').value = '';
  await showApp();
}

/** Signs in with the one-time link `#signin=CODE` that `heliosdb-conversational-bi demo` prints. */
async function signInWithLink() {
  const m = /^#signin=([A-Za-z0-9_-]+)$/.exec(location.hash);
  if (!m) return false;
  history.replaceState(null, '', location.pathname);
  const response = await fetch('/api/v1/auth/link', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ code: m[1] }),
  }).catch(() => null);
  if (!response?.ok) {
    showSignIn('This sign-in link was already used or has expired. Run the demo command again for a new one.');
    return true;
  }
  token = (await response.json()).token;
  sessionStorage.setItem(TOKEN_KEY, token);
  await showApp();
  return true;
}

function when(iso) {
  const d = new Date(iso);
  const today = new Date();
  return d.toDateString() === today.toDateString()
    ? d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })
    : d.toLocaleDateString(undefined, { month: 'short', day: 'numeric', year: d.getFullYear() === today.getFullYear() ? undefined : 'numeric' });
}

async function refreshSessions() {
  const response = await api('/api/v1/sessions').catch(() => null);
  if (response?.status === 401) return showSignIn('Your sign-in has expired. Sign in again.');
  if (!response?.ok) return;
  const { sessions } = await response.json();
  const list = $('sessions');
  list.replaceChildren(...sessions.map(sessionItem));
  $('sessions-empty').hidden = sessions.length > 0;
  const current = sessions.find((s) => s.session_id === chat.sessionId);
  $('chat-title').textContent = current ? current.title : 'New conversation';
}

function sessionItem(s) {
  const current = s.session_id === chat.sessionId;
  const open = h(
    'button',
    { type: 'button', class: 'open', 'aria-current': current ? 'page' : undefined, onclick: () => openSession(s) },
    h('span', { class: 'title' }, s.title),
    h('time', { datetime: s.updated_at }, when(s.updated_at)),
  );
  const rename = h('button', { type: 'button', class: 'icon', 'aria-label': `Rename "${s.title}"`, title: 'Rename', onclick: () => renameSession(li, s) }, icon('pencil'));
  const remove = h('button', { type: 'button', class: 'icon', 'aria-label': `Delete "${s.title}"`, title: 'Delete', onclick: () => deleteSession(s) }, icon('trash'));
  const li = h('li', { 'data-session': s.session_id, class: current ? 'current' : undefined }, open, h('span', { class: 'actions' }, rename, remove));
  return li;
}

async function openSession(s) {
  $('chat-title').textContent = s.title;
  const response = await api(`/api/v1/sessions/${encodeURIComponent(s.session_id)}`);
  if (response.status === 401) return showSignIn('Your sign-in has expired. Sign in again.');
  if (!response.ok) {
    const error = await errorOf(response);
    $('chat-title').textContent = `Cannot open the conversation: ${error.message}`;
    return;
  }
  chat.showHistory(await response.json());
  closeMenu();
  await refreshSessions();
  chat.focusInput();
}

function renameSession(li, s) {
  const input = h('input', { value: s.title, 'aria-label': 'New title', maxlength: 120 });
  const error = h('p', { class: 'error-text', role: 'alert' });
  const form = h(
    'form',
    {
      class: 'rename',
      onsubmit: async (e) => {
        e.preventDefault();
        const response = await api(`/api/v1/sessions/${encodeURIComponent(s.session_id)}`, {
          method: 'PATCH',
          body: JSON.stringify({ title: input.value }),
        });
        if (!response.ok) {
          error.textContent = (await errorOf(response)).message;
          input.focus();
          return;
        }
        await refreshSessions();
        $('sessions').querySelector(`[data-session="${CSS.escape(s.session_id)}"] .open`)?.focus();
      },
      onkeydown: (e) => {
        if (e.key === 'Escape') refreshSessions();
      },
    },
    input,
    h('button', { type: 'submit' }, 'Save'),
    error,
  );
  li.replaceChildren(form);
  input.select();
}

async function deleteSession(s) {
  if (!confirm(`Delete the conversation "${s.title}"? This cannot be undone.`)) return;
  const response = await api(`/api/v1/sessions/${encodeURIComponent(s.session_id)}`, { method: 'DELETE' });
  if (!response.ok && response.status !== 404) return;
  if (s.session_id === chat.sessionId) chat.startOver();
  await refreshSessions();
  $('new-chat').focus();
}

function closeMenu() {
  document.body.classList.remove('menu-open');
  $('menu').setAttribute('aria-expanded', 'false');
}

$('signin').addEventListener('submit', signIn);
$('sign-out').addEventListener('click', signOut);
$('new-chat').addEventListener('click', () => {
  chat.startOver();
  closeMenu();
  refreshSessions();
});
$('menu').addEventListener('click', () => {
  const open = document.body.classList.toggle('menu-open');
  $('menu').setAttribute('aria-expanded', String(open));
  if (open) $('new-chat').focus();
});
document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape' && document.body.classList.contains('menu-open')) {
    closeMenu();
    $('menu').focus();
  }
});
// Each answer (the first of a conversation included) moves its conversation up the list.
chat.addEventListener('cbi-answer', refreshSessions);
chat.addEventListener('cbi-unauthorized', () => showSignIn('Your sign-in has expired. Sign in again.'));

// Back from the provider's end-session endpoint.
const signedOutAt = sessionStorage.getItem(SIGNED_OUT_KEY);
sessionStorage.removeItem(SIGNED_OUT_KEY);
if (!(await signInWithLink()) && !(await finishProviderSignIn())) {
  if (token) await showApp();
  else showSignIn(signedOutAt ? `You are signed out, at ${signedOutAt} too.` : '', true);
}
