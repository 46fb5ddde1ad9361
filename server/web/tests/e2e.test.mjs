// End-to-end tests of the web app in a real headless Chromium (Debian's `chromium`, driven by
// playwright-core), against the real server binary (`heliosdb-conversational-bi demo` on the
// built-in Chinook database). Run by `server/web/test.sh`, which `scripts/test.sh` calls.
//
// Screenshots of the main screens at desktop and phone widths are written to
// `test-results/screenshots/`; the measured budgets to `test-results/budgets.json`.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import Ajv from 'ajv';
import { startProvider } from './oidc-provider.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const webDir = join(here, '..');
const results = join(webDir, 'test-results');
const shots = join(results, 'screenshots');
mkdirSync(shots, { recursive: true });

const BIN =
  process.env.CBI_BIN ||
  join(process.env.CARGO_TARGET_DIR || join(process.env.HOME, '.cache/heliosdb-cbi-target'), 'debug/heliosdb-conversational-bi');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const PASSWORD = 'correct horse battery staple';
const DESKTOP = { width: 1280, height: 860 };
const PHONE = { width: 390, height: 844 };

let server;
let origin;
let link;
let browser;
let embedServer;
let embedOrigin;
let idp;
const budgets = {};

function hash(password) {
  return execFileSync(BIN, ['hash-password'], { input: `${password}\n` }).toString().trim();
}

async function startServer() {
  // The page that embeds the component lives on another origin, which CORS must allow.
  embedServer = createServer((req, res) => {
    const token = decodeURIComponent(new URL(req.url, 'http://x').searchParams.get('token') || '');
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Embedded chat</title>
<script type="module" src="${origin}/embed.js"></script></head>
<body><main><h1>Sales dashboard</h1>
<conversational-bi-chat server="${origin}" token="${token}" style="height: 600px"></conversational-bi-chat>
</main></body></html>`);
  });
  await new Promise((r) => embedServer.listen(0, '127.0.0.1', r));
  embedOrigin = `http://127.0.0.1:${embedServer.address().port}`;

  // The company's identity provider: Carol signs in there. Her access token carries her roles
  // where Keycloak puts them and no tenant claim, so the claim mapping below must apply.
  idp = await startProvider({
    clientId: 'cbi-web',
    audience: 'account',
    users: {
      carol: { sub: 'f3c1a7e2-carol', name: 'Carol Jones', realm_access: { roles: ['analyst'] } },
    },
  });

  const dir = mkdtempSync(join(tmpdir(), 'cbi-web-'));
  const users = [
    ['ann', ['analyst'], 'default'],
    ['bob', ['analyst'], 'default'],
    ['boss', ['admin'], 'default'],
    // A tenant with a quota of one question, for the rate-limit countdown.
    ['tina', ['analyst'], 'tiny'],
  ];
  const passwordHash = hash(PASSWORD);
  const config = [
    '[server]',
    `cors_allowed_origins = ["${embedOrigin}"]`,
    '[production.rate_limiting]',
    'queries_per_minute = 1000',
    'burst_allowance = 200',
    '[production.rate_limiting.tenants.tiny]',
    'queries_per_minute = 1',
    'burst_allowance = 1',
    ...users.flatMap(([name, roles, tenant]) => [
      '[[auth.users]]',
      `username = "${name}"`,
      `password_hash = "${passwordHash}"`,
      `tenant_id = "${tenant}"`,
      `roles = ${JSON.stringify(roles)}`,
    ]),
    '[[auth.issuers]]',
    `issuer = "${idp.issuer}"`,
    'audience = "conversational-bi"',
    `jwks_url = "${idp.issuer}/jwks"`,
    'client_id = "cbi-web"',
    'name = "Acme SSO"',
    'scopes = ["openid", "profile", "email"]',
    'authorize_params = { audience = "conversational-bi" }',
    // No leeway: the test of the renewal sees the first token refused once it expired.
    'leeway_secs = 0',
    '[auth.issuers.claims]',
    'roles = "realm_access.roles"',
    'default_tenant = "default"',
  ].join('\n');
  writeFileSync(join(dir, 'config.toml'), config);
  server = spawn(BIN, ['--config', join(dir, 'config.toml'), 'demo', '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, RUST_LOG: 'warn' },
  });
  let out = '';
  server.stderr.on('data', (d) => process.stderr.write(d));
  link = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the demo printed no link: ${out}`)), 60_000);
    server.stdout.on('data', (d) => {
      out += d;
      const m = /(http:\/\/127\.0\.0\.1:\d+)\/#signin=[0-9a-f]+/.exec(out);
      if (m) {
        clearTimeout(timer);
        origin = m[1];
        idp.redirectUris.push(`${origin}/`);
        idp.allowedOrigins.push(origin);
        resolve(m[0]);
      }
    });
    server.on('exit', (code) => reject(new Error(`the demo exited with ${code}: ${out}`)));
  });
}

async function login(username) {
  const r = await fetch(`${origin}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: PASSWORD }),
  });
  assert.equal(r.status, 200);
  return (await r.json()).token;
}

/** A new page that records the component's answers and stage changes. */
async function newPage(viewport = DESKTOP, options = {}) {
  const context = await browser.newContext({ viewport, acceptDownloads: true, ...options });
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) page.errors.push(m.text());
  });
  await page.addInitScript(() => {
    window.__answers = [];
    window.__events = [];
    document.addEventListener('cbi-answer', (e) => {
      window.__answers.push(e.detail.answer);
      window.__events.push(['answer', performance.now()]);
    });
    // Stage changes inside the component's shadow root, in order.
    const watch = () => {
      const chat = document.querySelector('conversational-bi-chat');
      if (!chat?.shadowRoot) return setTimeout(watch, 20);
      new MutationObserver((records) => {
        for (const r of records) {
          if (r.attributeName === 'data-stage') window.__events.push(['stage', performance.now(), r.target.dataset.stage]);
        }
      }).observe(chat.shadowRoot, { subtree: true, attributes: true, attributeFilter: ['data-stage'] });
    };
    document.addEventListener('DOMContentLoaded', watch);
  });
  return page;
}

async function signIn(page, username) {
  await page.goto(origin);
  await page.getByLabel('User name').fill(username);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByLabel('Your question').waitFor();
}

/** Asks in the chat and waits for the n-th answer (1-based) of the page. */
async function ask(page, question) {
  const before = await page.evaluate(() => window.__answers.length);
  await page.getByLabel('Your question').fill(question);
  await page.getByLabel('Your question').press('Enter');
  await page.waitForFunction((n) => window.__answers.length > n, before, { timeout: 30_000 });
  return page.evaluate(() => window.__answers.at(-1));
}

const lastAnswer = (page) => page.locator('conversational-bi-chat .answer').last();

async function axe(page, label) {
  // Evaluated through the DevTools protocol, which the page's Content-Security-Policy does not
  // govern (a script tag would be refused, as it should be).
  await page.evaluate(readFileSync(join(webDir, 'node_modules/axe-core/axe.min.js'), 'utf8'));
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  const serious = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(
    serious.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join('; ')})`),
    [],
    `accessibility violations on ${label}`,
  );
  return result.violations.length;
}

before(async () => {
  await startServer();
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
});

after(async () => {
  writeFileSync(join(results, 'budgets.json'), JSON.stringify(budgets, null, 2));
  await browser?.close();
  server?.kill('SIGTERM');
  embedServer?.close();
  await idp?.close();
});

describe('the web app', () => {
  test('the one-time link signs in once, then refuses', async () => {
    const page = await newPage();
    await page.goto(link);
    await page.getByLabel('Your question').waitFor();
    assert.equal(await page.locator('#who-name').textContent(), 'demo');
    assert.equal(new URL(page.url()).hash, '', 'the code leaves the address bar');
    const again = await newPage();
    await again.goto(link);
    await again.getByText('This sign-in link was already used or has expired').waitFor();
    await again.context().close();
    await page.context().close();
  });

  test('a wrong password is said plainly', async () => {
    const page = await newPage();
    await page.goto(origin);
    await page.getByLabel('User name').fill('ann');
    await page.getByLabel('Password').fill('wrong password');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByText('The user name or the password is wrong.').waitFor();
    await page.screenshot({ path: join(shots, 'signin-desktop.png') });
    await page.setViewportSize(PHONE);
    await page.screenshot({ path: join(shots, 'signin-phone.png') });
    await axe(page, 'the sign-in page');
    await page.context().close();
  });

  test('sign in with the identity provider: authorization code with PKCE, then ask as that user', async () => {
    const page = await newPage();
    await page.goto(origin);
    await page.getByRole('button', { name: 'Sign in with Acme SSO' }).click();
    await page.waitForURL((u) => u.href.startsWith(`${idp.issuer}/authorize`));
    const request = idp.authorizeRequests.at(-1);
    assert.equal(request.response_type, 'code');
    assert.equal(request.client_id, 'cbi-web');
    assert.equal(request.redirect_uri, `${origin}/`);
    assert.equal(request.scope, 'openid profile email');
    assert.equal(request.audience, 'conversational-bi', 'authorize_params reach the provider');
    assert.equal(request.code_challenge_method, 'S256');
    assert.equal(request.response_mode, 'fragment', 'the code comes back where no server log sees it');
    assert.match(request.state, /^[A-Za-z0-9_-]{22}$/);
    assert.match(request.nonce, /^[A-Za-z0-9_-]{22}$/);

    await page.getByRole('button', { name: 'Continue as Carol Jones' }).click();
    await page.getByLabel('Your question').waitFor();
    assert.equal(await page.locator('#who-name').textContent(), 'Carol Jones');
    assert.equal(new URL(page.url()).hash, '', 'the code leaves the address bar');
    assert.equal(new URL(page.url()).search, '');
    const exchange = idp.tokenRequests.at(-1);
    assert.equal(exchange.status, 200, 'the provider checked the PKCE verifier against the challenge');
    assert.equal(exchange.form.redirect_uri, `${origin}/`);
    // The server maps her token's claims: her roles come from realm_access.roles.
    assert.equal(await page.locator('conversational-bi-chat').getAttribute('roles'), 'analyst');

    const answer = await ask(page, 'How many artists are there?');
    assert.equal(answer.rows[0][0], 275);
    const token = await page.evaluate(() => sessionStorage.getItem('cbi.token'));
    const sessions = await fetch(`${origin}/api/v1/sessions`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.json());
    assert.equal(sessions.sessions.length, 1, 'the conversation is hers');

    // The same answer replayed (a code from the history, a link someone sent) signs nobody in,
    // and the page does not even try the code.
    const tokenRequests = idp.tokenRequests.length;
    const replay = await newPage();
    await replay.goto(`${origin}/#code=${encodeURIComponent(exchange.form.code)}&state=${request.state}&iss=${encodeURIComponent(idp.issuer)}`);
    await replay.getByText('This sign-in answer does not belong to a sign-in started in this tab').waitFor();
    assert.equal(new URL(replay.url()).hash, '');
    assert.equal(idp.tokenRequests.length, tokenRequests);
    assert.deepEqual([...page.errors, ...replay.errors], []);
    await replay.context().close();

    // Another tab of the same browser: the provider remembers her, so the sign-in asks nothing.
    const tab = await page.context().newPage();
    await tab.goto(origin);
    await tab.getByRole('button', { name: 'Sign in with Acme SSO' }).click();
    await tab.getByLabel('Your question').waitFor();
    assert.equal(await tab.locator('#who-name').textContent(), 'Carol Jones');

    // Signing out ends her session at the provider too (RP-initiated logout) ...
    await tab.getByRole('button', { name: 'Sign out' }).click();
    await tab.getByText('You are signed out, at Acme SSO too.').waitFor();
    await tab.screenshot({ path: join(shots, 'signed-out-desktop.png') });
    const logout = idp.logoutRequests.at(-1);
    assert.equal(logout.client_id, 'cbi-web');
    assert.equal(logout.post_logout_redirect_uri, `${origin}/`);
    assert.equal(JSON.parse(Buffer.from(logout.id_token_hint.split('.')[1], 'base64url')).sub, 'f3c1a7e2-carol');
    assert.equal(await tab.evaluate(() => sessionStorage.getItem('cbi.token')), null);
    // ... so the next sign-in asks who is there.
    await tab.getByRole('button', { name: 'Sign in with Acme SSO' }).click();
    await tab.getByRole('button', { name: 'Continue as Carol Jones' }).waitFor();
    await page.context().close();
  });

  test("the provider's access token is renewed before it expires", async () => {
    idp.accessTokenSecs = 4;
    const page = await newPage();
    try {
      await page.goto(origin);
      await page.getByRole('button', { name: 'Sign in with Acme SSO' }).click();
      await page.getByRole('button', { name: 'Continue as Carol Jones' }).click();
      await page.getByLabel('Your question').waitFor();
    } finally {
      idp.accessTokenSecs = 600;
    }
    const first = await page.evaluate(() => sessionStorage.getItem('cbi.token'));
    // Half its life left: the page renews it with the refresh token (rotated by the provider).
    await page.waitForFunction((t) => sessionStorage.getItem('cbi.token') !== t, first, { timeout: 10_000 });
    const renewal = idp.tokenRequests.at(-1);
    assert.equal(renewal.form.grant_type, 'refresh_token');
    assert.equal(renewal.status, 200);
    // Once the first token has expired, the server refuses it; the page asks with the new one.
    const exp = JSON.parse(Buffer.from(first.split('.')[1], 'base64url')).exp;
    await new Promise((r) => setTimeout(r, Math.max(0, exp * 1000 - Date.now()) + 1100));
    const expired = await fetch(`${origin}/api/v1/auth/me`, { headers: { authorization: `Bearer ${first}` } });
    assert.equal(expired.status, 401);
    const answer = await ask(page, 'How many artists are there?');
    assert.equal(answer.rows[0][0], 275);
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });

  test('a cancelled, mixed-up or refused sign-in with the provider says why and signs nobody in', async () => {
    const page = await newPage();
    const start = async () => {
      await page.goto(origin);
      await page.getByRole('button', { name: 'Sign in with Acme SSO' }).click();
      await page.waitForURL((u) => u.href.startsWith(`${idp.issuer}/authorize`));
      return new URL(page.url()).searchParams.get('state');
    };
    await start();
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.getByText('The sign-in with Acme SSO was cancelled or refused.').waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.getItem('cbi.token')), null);

    // An answer with this tab's state but another issuer (a mix-up attack) is refused; in the
    // query, as providers without the fragment mode answer.
    const tokenRequests = idp.tokenRequests.length;
    const state = await start();
    await page.goto(`${origin}/?code=stolen&state=${state}&iss=${encodeURIComponent('https://evil.example')}`);
    await page.getByText('The sign-in answer came from another provider than Acme SSO').waitFor();
    assert.equal(idp.tokenRequests.length, tokenRequests, 'no code was traded');

    // A token the server does not accept (another audience) ends on the sign-in page with the reason.
    idp.audienceOverride = 'another-app';
    try {
      await start();
      await page.getByRole('button', { name: 'Continue as Carol Jones' }).click();
      await page.getByText('The server refused the sign-in: the token is meant for another audience').waitFor();
      await page.screenshot({ path: join(shots, 'signin-refused-desktop.png') });
    } finally {
      idp.audienceOverride = null;
    }
    assert.equal(await page.evaluate(() => sessionStorage.getItem('cbi.token')), null);
    assert.ok(await page.getByRole('button', { name: 'Sign in with Acme SSO' }).isVisible());
    await page.context().close();
  });

  test('a server whose only sign-in is the identity provider offers only that', async () => {
    // `serve` as a company runs it: no JWT_SECRET, no users, the provider's tokens only.
    const dir = mkdtempSync(join(tmpdir(), 'cbi-web-idp-'));
    writeFileSync(
      join(dir, 'config.toml'),
      [
        '[server]',
        'host = "127.0.0.1"',
        'port = 0',
        '[metrics]',
        'enabled = false',
        '[logging]',
        'format = "json"',
        'output = "stdout"',
        '[[auth.issuers]]',
        `issuer = "${idp.issuer}"`,
        'audience = "account"',
        `jwks_url = "${idp.issuer}/jwks"`,
        'client_id = "cbi-web"',
        '[auth.issuers.claims]',
        'roles = "realm_access.roles"',
        'default_tenant = "default"',
      ].join('\n'),
    );
    const env = { ...process.env };
    delete env.JWT_SECRET;
    const serve = spawn(BIN, ['--config', join(dir, 'config.toml'), 'serve'], { stdio: ['ignore', 'pipe', 'pipe'], env });
    try {
      const serveOrigin = await new Promise((resolve, reject) => {
        let out = '';
        const timer = setTimeout(() => reject(new Error(`serve did not listen: ${out}`)), 60_000);
        serve.stdout.on('data', (d) => {
          out += d;
          const m = /"message":"listening".*?"api_addr":"([^"]+)"|"api_addr":"([^"]+)".*?"message":"listening"/.exec(out);
          if (m) {
            clearTimeout(timer);
            resolve(`http://${m[1] || m[2]}`);
          }
        });
        serve.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${out}`)));
      });
      idp.redirectUris.push(`${serveOrigin}/`);
      idp.allowedOrigins.push(serveOrigin);
      const page = await newPage();
      await page.goto(serveOrigin);
      const button = page.getByRole('button', { name: 'Sign in with 127.0.0.1' });
      await button.waitFor();
      assert.equal(await page.getByLabel('User name').isVisible(), false, 'no password fields without users');
      assert.equal(await page.getByRole('button', { name: 'Sign in', exact: true }).isVisible(), false);
      await page.screenshot({ path: join(shots, 'signin-provider-only-desktop.png') });
      await axe(page, 'the sign-in page with a provider only');
      // Keyboard only: the button is reachable and works.
      await button.focus();
      await page.keyboard.press('Enter');
      await page.waitForURL((u) => u.href.startsWith(`${idp.issuer}/authorize`));
      await page.getByRole('button', { name: 'Continue as Carol Jones' }).click();
      await page.getByLabel('Your question').waitFor();
      assert.equal(await page.locator('#who-name').textContent(), 'Carol Jones');
      const answer = await ask(page, 'How many albums are there?');
      assert.equal(answer.rows[0][0], 347);
      assert.deepEqual(page.errors, []);
      await page.context().close();
    } finally {
      serve.kill('SIGTERM');
    }
  });

  test('ask: streams a stage before the answer; table, CSV and chart match the answer', async () => {
    const page = await newPage();
    await signIn(page, 'ann');
    const answer = await ask(page, 'Top 8 genres by number of tracks');
    const events = await page.evaluate(() => window.__events);
    const firstStage = events.findIndex((e) => e[0] === 'stage');
    const answered = events.findIndex((e) => e[0] === 'answer');
    assert.ok(firstStage >= 0 && firstStage < answered, `a stage shows before the answer: ${JSON.stringify(events)}`);
    assert.equal(answer.rows.length, 8);

    const card = lastAnswer(page);
    assert.equal(await card.locator('.explanation').textContent(), answer.explanation);
    // The table shows the answer's rows (the first page holds 10).
    const cells = await card.locator('.result tbody tr').evaluateAll((rows) => rows.map((r) => [...r.cells].map((c) => c.textContent)));
    assert.deepEqual(
      cells,
      answer.rows.map((r) => r.map((v) => (typeof v === 'number' ? v.toLocaleString('en-US') : String(v)))),
    );
    // The CSV download holds the whole result.
    const [download] = await Promise.all([page.waitForEvent('download'), card.getByRole('button', { name: 'Download CSV' }).click()]);
    const csv = readFileSync(await download.path(), 'utf8').trim().split('\r\n');
    assert.equal(csv[0], answer.columns.map((c) => c.name).join(','));
    assert.deepEqual(csv.slice(1), answer.rows.map((r) => r.join(',')));

    // The chart: the engine's Vega-Lite spec, valid against the Vega-Lite schema, one mark per row.
    const spec = answer.chart?.vega_lite;
    assert.ok(spec, 'the answer carries a Vega-Lite spec');
    const schema = JSON.parse(readFileSync(join(webDir, 'node_modules/vega-lite/build/vega-lite-schema.json'), 'utf8'));
    const validate = new Ajv({ strict: false, allErrors: true, validateFormats: false }).compile(schema);
    assert.ok(validate(spec), JSON.stringify(validate.errors?.slice(0, 5)));
    await card.locator('.chart-host svg').waitFor();
    assert.equal(await card.locator('.chart-host svg .mark-rect path').count(), answer.rows.length);
    // Switching the chart type redraws it.
    await card.getByRole('radio', { name: 'Line' }).click();
    await card.locator('.chart-host svg .mark-line').waitFor();
    assert.equal(await card.getByRole('radio', { name: 'Line' }).getAttribute('aria-checked'), 'true');

    // Sorting by a column header.
    const firstCell = () => card.locator('.result tbody tr td').first().textContent();
    await card.locator('th button').first().click();
    assert.equal(await card.locator('th').first().getAttribute('aria-sort'), 'ascending');
    const sortedNames = answer.rows.map((r) => String(r[0])).sort((a, b) => a.localeCompare(b));
    assert.equal(await firstCell(), sortedNames[0]);

    // The SQL, collapsed, then shown.
    const sql = card.locator('details.sql');
    assert.equal(await sql.getAttribute('open'), null);
    await sql.locator('summary').click();
    assert.equal(await sql.locator('code').textContent(), answer.sql);
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });

  test('follow-ups continue the conversation; suggestions are buttons; the list shows it', async () => {
    const page = await newPage();
    await signIn(page, 'ann');
    const first = await ask(page, 'Total sales by country');
    const second = await ask(page, 'top 5 instead');
    assert.equal(second.session_id, first.session_id);
    assert.equal(second.turn, first.turn + 1);
    assert.equal(second.rows.length, 5);
    if (second.suggestions.length) {
      const suggestion = second.suggestions[0];
      await lastAnswer(page).getByRole('button', { name: suggestion, exact: true }).click();
      await page.waitForFunction(() => window.__answers.length === 3, null, { timeout: 30_000 });
      const third = await page.evaluate(() => window.__answers[2]);
      assert.equal(third.session_id, first.session_id);
    }
    // The conversation is listed, under its first question.
    const item = page.locator(`#sessions li[data-session="${first.session_id}"]`);
    await item.waitFor();
    assert.match(await item.locator('.title').textContent(), /Total sales by country/);
    await page.screenshot({ path: join(shots, 'followups-desktop.png') });
    await page.setViewportSize(PHONE);
    await page.screenshot({ path: join(shots, 'followups-phone.png') });
    await page.setViewportSize(DESKTOP);
    await axe(page, 'the chat with answers');
    await page.context().close();
  });

  test('the scope in force shows as chips; removing one refines the query as a new turn', async () => {
    const page = await newPage();
    await signIn(page, 'ann');
    const first = await ask(page, 'Top 8 genres by number of tracks');
    const scope = page.locator('conversational-bi-chat .scope');
    await scope.waitFor();
    const chips = await scope.locator('.chip').evaluateAll((els) => els.map((e) => [e.dataset.scope, e.firstChild.textContent]));
    assert.deepEqual(chips, first.scope.map((s) => [s.id, s.label]));
    await lastAnswer(page).locator('.chart-host svg .mark-rect path').nth(7).waitFor();
    await page.screenshot({ path: join(shots, 'chat-desktop.png') });
    await page.setViewportSize(PHONE);
    await page.screenshot({ path: join(shots, 'chat-phone.png') });
    await page.setViewportSize(DESKTOP);
    const limit = first.scope.find((s) => s.kind === 'limit');
    assert.equal(limit?.label, 'top 8');
    await scope.getByRole('button', { name: `Remove "${limit.label}"` }).click();
    await page.waitForFunction(() => window.__answers.length === 2, null, { timeout: 30_000 });
    const second = await page.evaluate(() => window.__answers[1]);
    assert.equal(second.session_id, first.session_id);
    assert.equal(second.turn, first.turn + 1);
    assert.ok(second.rows.length > 8, `all genres: ${second.rows.length}`);
    assert.ok(!second.scope.some((s) => s.kind === 'limit'));
    assert.equal(await scope.locator('.chip[data-scope="limit"]').count(), 0);
    // "Start over" clears the chips and the thread.
    await scope.getByRole('button', { name: 'Start over' }).click();
    assert.equal(await scope.isHidden(), true);
    assert.equal(await page.locator('conversational-bi-chat .answer').count(), 0);
    await page.context().close();
  });

  test('conversations: open, rename, delete; another user can neither list nor open mine', async () => {
    const page = await newPage();
    await signIn(page, 'ann');
    const answer = await ask(page, 'How many customers are there?');
    const id = answer.session_id;
    const item = page.locator(`#sessions li[data-session="${id}"]`);
    await item.waitFor();
    await item.getByRole('button', { name: /^Rename/ }).click();
    await page.getByLabel('New title').fill('Customer count');
    await page.getByLabel('New title').press('Enter');
    await page.locator(`#sessions li[data-session="${id}"] .title`, { hasText: 'Customer count' }).waitFor();

    // Start over, then reopen it from the list.
    await page.getByRole('button', { name: 'New conversation' }).click();
    assert.equal(await page.locator('conversational-bi-chat .answer').count(), 0);
    await page.locator(`#sessions li[data-session="${id}"] .open`).click();
    await page.locator('conversational-bi-chat .question', { hasText: 'How many customers are there?' }).waitFor();
    await page.locator('#chat-title', { hasText: 'Customer count' }).waitFor();

    // Bob: not in his list, not found when asked for by id.
    const bob = await login('bob');
    const list = await (await fetch(`${origin}/api/v1/sessions`, { headers: { authorization: `Bearer ${bob}` } })).json();
    assert.ok(!list.sessions.some((s) => s.session_id === id));
    const open = await fetch(`${origin}/api/v1/sessions/${id}`, { headers: { authorization: `Bearer ${bob}` } });
    assert.equal(open.status, 404);
    const bobPage = await newPage();
    await signIn(bobPage, 'bob');
    await bobPage.locator('#sessions-empty, #sessions li').first().waitFor();
    assert.equal(await bobPage.locator(`#sessions li[data-session="${id}"]`).count(), 0);
    await bobPage.context().close();

    // Delete it (after the confirmation).
    page.once('dialog', (d) => d.accept());
    await item.getByRole('button', { name: /^Delete/ }).click();
    await item.waitFor({ state: 'detached' });
    const mine = await (await fetch(`${origin}/api/v1/sessions/${id}`, { headers: { authorization: `Bearer ${await login('ann')}` } })).status;
    assert.equal(mine, 404);
    await page.context().close();
  });

  test('feedback with a comment reaches the server', async () => {
    const page = await newPage();
    await signIn(page, 'ann');
    const answer = await ask(page, 'Number of albums by artist');
    const card = lastAnswer(page);
    await card.getByRole('button', { name: 'Wrong answer' }).click();
    const comment = `only artists with more than one album, please ${Date.now()}`;
    await card.getByLabel('Comment (optional)').fill(comment);
    await card.getByRole('button', { name: 'Send feedback' }).click();
    await card.getByText('Thank you: your feedback is saved.').waitFor();
    const boss = await login('boss');
    const records = await (await fetch(`${origin}/api/v1/admin/feedback?limit=100`, { headers: { authorization: `Bearer ${boss}` } })).json();
    const mine = records.find((r) => r.comment === comment);
    assert.ok(mine, 'the feedback is stored');
    assert.equal(mine.rating, 'down');
    assert.equal(mine.session_id, answer.session_id);
    assert.equal(mine.turn, answer.turn);
    await page.context().close();
  });

  test('an analyst edits the SQL: a refusal shows the validator reason, a good edit runs', async () => {
    const page = await newPage();
    await signIn(page, 'ann');
    await ask(page, 'Top 3 genres by number of tracks');
    const card = lastAnswer(page);
    await card.locator('details.sql summary').click();
    await card.getByRole('button', { name: 'Edit and run' }).click();
    const editor = card.getByLabel('SQL to run');
    await editor.fill('DELETE FROM Track');
    await card.getByRole('button', { name: 'Run SQL' }).click();
    const alert = card.locator('.sql-result [role=alert]');
    await alert.waitFor();
    assert.match(await alert.textContent(), /The SQL was refused\./);
    assert.match(await alert.textContent(), /DELETE|read-only|SELECT/i);
    await editor.fill('SELECT Name FROM Genre ORDER BY Name LIMIT 4');
    await card.getByRole('button', { name: 'Run SQL' }).click();
    await card.locator('.sql-result tbody tr').nth(3).waitFor();
    assert.equal(await card.locator('.sql-result tbody tr').count(), 4);
    await page.context().close();
  });

  test('a question the engine cannot answer reads like help', async () => {
    const page = await newPage();
    await signIn(page, 'ann');
    await page.getByLabel('Your question').fill('What is the meaning of life?');
    await page.getByLabel('Your question').press('Enter');
    const help = page.locator('conversational-bi-chat .answer.error [role=alert]');
    await help.waitFor();
    assert.match(await help.textContent(), /could not answer that from this database/);
    await page.context().close();
  });

  test('over the rate limit, the card counts down to when asking works again', async () => {
    const page = await newPage();
    await signIn(page, 'tina');
    await ask(page, 'How many customers are there?');
    await page.getByLabel('Your question').fill('How many artists are there?');
    await page.getByLabel('Your question').press('Enter');
    const help = page.locator('conversational-bi-chat .answer.error [role=alert]');
    await help.waitFor();
    assert.match(await help.textContent(), /Too many questions at once/);
    const left = Number(await help.locator('.countdown').textContent());
    assert.ok(left >= 1, `seconds left: ${left}`);
    await page.waitForFunction(
      (n) => Number(document.querySelector('conversational-bi-chat').shadowRoot.querySelector('.countdown').textContent) < n,
      left,
      { timeout: 5_000 },
    );
    assert.equal(await help.getByRole('button', { name: 'Ask again' }).isDisabled(), true);
    await page.context().close();
  });

  test('keyboard only: sign in, ask, open the SQL, rate', async () => {
    const page = await newPage();
    await page.goto(origin);
    await page.locator('#username').waitFor();
    // The first Tab reaches the skip link, then the form's fields in order.
    await page.locator('#username').focus();
    await page.keyboard.type('ann');
    await page.keyboard.press('Tab');
    await page.keyboard.type(PASSWORD);
    await page.keyboard.press('Enter');
    await page.getByLabel('Your question').waitFor();
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'chat', 'the question box has the focus');
    await page.keyboard.type('Top 5 artists by number of albums');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => window.__answers.length === 1, null, { timeout: 30_000 });
    // Tab until the SQL summary has the focus, then open it with Enter.
    let found = false;
    for (let i = 0; i < 60 && !found; i++) {
      await page.keyboard.press('Tab');
      found = await page.evaluate(() => document.querySelector('conversational-bi-chat').shadowRoot.activeElement?.tagName === 'SUMMARY');
    }
    assert.ok(found, 'the SQL can be reached with Tab');
    await page.keyboard.press('Enter');
    assert.notEqual(await lastAnswer(page).locator('details.sql').getAttribute('open'), null);
    let thumb = false;
    for (let i = 0; i < 30 && !thumb; i++) {
      await page.keyboard.press('Tab');
      thumb = await page.evaluate(() => document.querySelector('conversational-bi-chat').shadowRoot.activeElement?.dataset.rating === 'up');
    }
    assert.ok(thumb, 'the rating buttons can be reached with Tab');
    await page.keyboard.press('Space');
    assert.equal(await lastAnswer(page).locator('.thumb[data-rating="up"]').getAttribute('aria-pressed'), 'true');
    await page.context().close();
  });

  test('the phone layout: the list of conversations opens from the menu', async () => {
    const page = await newPage(PHONE);
    await signIn(page, 'ann');
    await ask(page, 'Top 5 customers by total invoices');
    const menu = page.getByRole('button', { name: 'Conversations' });
    await menu.click();
    assert.equal(await menu.getAttribute('aria-expanded'), 'true');
    await page.locator('#sidebar').getByRole('button', { name: 'New conversation' }).waitFor({ state: 'visible' });
    // The sidebar slides in; the picture is taken once it is in place.
    await page.waitForFunction(() => document.getElementById('sidebar').getBoundingClientRect().left >= 0);
    await page.waitForTimeout(250);
    await page.screenshot({ path: join(shots, 'conversations-phone.png') });
    await axe(page, 'the phone layout with the menu open');
    await page.keyboard.press('Escape');
    assert.equal(await menu.getAttribute('aria-expanded'), 'false');
    await page.context().close();
  });

  test('the web component works on another site with a token', async () => {
    const token = await login('ann');
    const page = await newPage();
    await page.goto(`${embedOrigin}/?token=${encodeURIComponent(token)}`);
    await page.getByLabel('Your question').fill('Top 3 genres by number of tracks');
    await page.getByLabel('Your question').press('Enter');
    await page.waitForFunction(() => window.__answers.length === 1, null, { timeout: 30_000 });
    await lastAnswer(page).locator('.chart-host svg :is(.mark-rect, .mark-arc, .mark-symbol) path').nth(2).waitFor();
    await page.screenshot({ path: join(shots, 'embedded-desktop.png') });
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });

  test('budgets: bytes on first and second load, time to interactive', async () => {
    const context = await browser.newContext({ viewport: DESKTOP });
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    let bytes = 0;
    cdp.on('Network.loadingFinished', (e) => (bytes += e.encodedDataLength));
    const measure = async () => {
      bytes = 0;
      const t0 = Date.now();
      await page.goto(origin);
      await page.getByLabel('User name').waitFor();
      const tti = Date.now() - t0;
      await page.waitForLoadState('networkidle');
      return { tti_ms: tti, transferred_bytes: bytes };
    };
    budgets.first_load = await measure();
    budgets.second_load = await measure();
    // The chart libraries load with the first chart.
    bytes = 0;
    await page.getByLabel('User name').fill('ann');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByLabel('Your question').fill('Top 8 genres by number of tracks');
    await page.getByLabel('Your question').press('Enter');
    await page.locator('conversational-bi-chat .chart-host svg').waitFor({ timeout: 30_000 });
    await page.waitForLoadState('networkidle');
    budgets.first_chart_bytes = bytes;
    console.log('budgets', JSON.stringify(budgets));
    // The second load is served from the browser's cache: only the page is revalidated.
    assert.ok(budgets.second_load.transferred_bytes < budgets.first_load.transferred_bytes / 2, JSON.stringify(budgets));
    await context.close();
  });
});
