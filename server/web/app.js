// The page served at `/`: sign-in, the caller's conversations and the chat.
import { errorOf, h, icon } from './chat.js';

const TOKEN_KEY = 'cbi.token';
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

function showSignIn(message = '') {
  token = '';
  sessionStorage.removeItem(TOKEN_KEY);
  $('app-view').hidden = true;
  $('who').hidden = true;
  $('menu').hidden = true;
  $('signin-view').hidden = false;
  $('signin-error').textContent = message;
  $('username').focus();
}

function showApp() {
  const c = claims(token);
  if (!c || (c.exp && c.exp * 1000 < Date.now())) return showSignIn(c ? 'Your sign-in has expired. Sign in again.' : '');
  $('signin-view').hidden = true;
  $('app-view').hidden = false;
  $('who').hidden = false;
  $('menu').hidden = false;
  $('who-name').textContent = c.sub;
  chat.token = token;
  chat.setAttribute('roles', (c.roles || []).join(','));
  refreshSessions();
  chat.focusInput();
}

async function signIn(e) {
  e.preventDefault();
  const username = $('username').value.trim();
  const password = $('password').value;
  if (!username || !password) {
    $('signin-error').textContent = 'Enter your user name and password.';
    return;
  }
  const response = await fetch('/api/v1/auth/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  }).catch(() => null);
  if (!response) {
    $('signin-error').textContent = 'The server could not be reached. Check the connection and try again.';
    return;
  }
  if (!response.ok) {
    const error = await errorOf(response);
    $('signin-error').textContent =
      response.status === 401 ? 'The user name or the password is wrong.' : error.retryAfter ? `${error.message} Try again in ${error.retryAfter} s.` : error.message;
    return;
  }
  const body = await response.json();
  token = body.token;
  sessionStorage.setItem(TOKEN_KEY, token);
  $('password').value = '';
  showApp();
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
  showApp();
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
$('sign-out').addEventListener('click', () => {
  chat.startOver();
  showSignIn('You are signed out.');
});
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

if (!(await signInWithLink())) {
  if (token) showApp();
  else showSignIn();
}
