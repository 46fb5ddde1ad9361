// Server CPU per answer: the same question asked N times over `POST /api/v1/query` and over
// `POST /api/v1/query/stream`, alternating in rounds, against `heliosdb-conversational-bi demo`.
// Reads the server's user+system CPU time from /proc before and after each round.
//
//   node scripts/cpu-budget.mjs [N] [question]
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const N = Number(process.argv[2] || 200);
const QUESTION = process.argv[3] || 'Top 8 genres by number of tracks';
const BIN = process.env.CBI_BIN || join(process.env.CARGO_TARGET_DIR || join(process.env.HOME, '.cache/heliosdb-cbi-target'), 'debug/heliosdb-conversational-bi');
const TICK = Number(execFileSync('getconf', ['CLK_TCK']).toString());

const dir = mkdtempSync(join(tmpdir(), 'cbi-cpu-'));
const hash = execFileSync(BIN, ['hash-password'], { input: 'budget password\n' }).toString().trim();
writeFileSync(
  join(dir, 'c.toml'),
  `[production.rate_limiting]\nqueries_per_minute = 100000\nburst_allowance = 100000\n[[auth.users]]\nusername = "u"\npassword_hash = "${hash}"\ntenant_id = "default"\nroles = ["analyst"]\n`,
);
const server = spawn(BIN, ['--config', join(dir, 'c.toml'), 'demo', '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
const origin = await new Promise((resolve) => {
  let out = '';
  server.stdout.on('data', (d) => {
    out += d;
    const m = /(http:\/\/127\.0\.0\.1:\d+)\//.exec(out);
    if (m) resolve(m[1]);
  });
});
const cpu = () => {
  const f = readFileSync(`/proc/${server.pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(f[11]) + Number(f[12])) / TICK) * 1000;
};
const { token } = await (await fetch(`${origin}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'u', password: 'budget password' }) })).json();
const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
const body = JSON.stringify({ query: QUESTION });
const plain = async () => {
  const r = await fetch(`${origin}/api/v1/query`, { method: 'POST', headers, body });
  if (!r.ok) throw new Error(await r.text());
  lastPlain = await r.json();
};
let lastPlain;
const streamed = async () => {
  const r = await fetch(`${origin}/api/v1/query/stream`, { method: 'POST', headers, body });
  const text = await r.text();
  if (!text.includes('event: answer')) throw new Error(text);
};
await plain();
await streamed();
const totals = { plain: 0, stream: 0 };
const rounds = 5;
for (let round = 0; round < rounds; round++) {
  for (const [name, f] of [['plain', plain], ['stream', streamed]]) {
    const c0 = cpu();
    for (let i = 0; i < N / rounds; i++) await f();
    totals[name] += cpu() - c0;
  }
}
server.kill('SIGTERM');
const per = (t) => (t / N).toFixed(3);
console.log(`question: ${QUESTION}; ${N} answers each; cache_hit: ${lastPlain.cache_hit}; binary: ${BIN}`);
console.log(`server CPU per answer: /api/v1/query ${per(totals.plain)} ms, /api/v1/query/stream ${per(totals.stream)} ms (${((totals.stream / totals.plain - 1) * 100).toFixed(0)}%)`);
