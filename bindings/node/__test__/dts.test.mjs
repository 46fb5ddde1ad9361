// index.d.ts, index.js and index.mjs are generated from the Rust sources and committed; these
// tests fail when they drift from the sources or from what the addon really exports and returns.

import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

import { Engine } from '../index.mjs'

const pkgDir = fileURLToPath(new URL('..', import.meta.url))
const dts = readFileSync(new URL('../index.d.ts', import.meta.url), 'utf8')

/** The members of `declare class NAME` or the fields of `interface NAME` in index.d.ts. */
function declared(kind, name) {
  const start = dts.indexOf(`${kind} ${name} {`)
  assert.ok(start >= 0, `${kind} ${name} is declared in index.d.ts`)
  const body = dts.slice(start, dts.indexOf('\n}', start))
  const members = new Map()
  for (const m of body.matchAll(/^ {2}(static )?(\w+)(\?)?[(:]/gm)) {
    members.set(m[2], { isStatic: Boolean(m[1]), optional: Boolean(m[3]) })
  }
  return members
}

test('the committed entry points and index.d.ts match the Rust sources', () => {
  const run = spawnSync(process.execPath, ['scripts/build.mjs', '--check'], { cwd: pkgDir, encoding: 'utf8' })
  assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`)
})

test('the Engine class declared in index.d.ts is the one the addon exports', () => {
  const members = declared('declare class', 'Engine')
  const methods = [...members].filter(([n, m]) => !m.isStatic && n !== 'constructor').map(([n]) => n)
  const statics = [...members].filter(([, m]) => m.isStatic).map(([n]) => n)
  assert.deepEqual(
    Object.getOwnPropertyNames(Engine.prototype)
      .filter((n) => n !== 'constructor')
      .sort(),
    methods.sort(),
  )
  for (const s of statics) assert.equal(typeof Engine[s], 'function', `Engine.${s}`)
  assert.deepEqual(statics, ['fromConfig'])
})

test('an answer has exactly the fields of the Answer interface', async () => {
  const fields = declared('export interface', 'Answer')
  const answer = await new Engine().ask('How many genres are there?')
  const required = [...fields].filter(([, f]) => !f.optional).map(([n]) => n)
  for (const name of required) assert.ok(name in answer, `${name} is declared required`)
  for (const name of Object.keys(answer)) assert.ok(fields.has(name), `${name} is not declared in Answer`)
  for (const [iface, value] of [
    ['Column', answer.columns[0]],
    ['Attempt', answer.attempts[0]],
  ]) {
    for (const name of Object.keys(value)) assert.ok(declared('export interface', iface).has(name), `${iface}.${name}`)
  }
})

test('a health report has exactly the fields of the Health and TenantHealth interfaces', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cbi-node-'))
  const engine = new Engine({ config: { tenants: { acme: { database_url: `sqlite://${join(dir, 'acme.sqlite')}` } } } })
  const health = await engine.health()
  for (const [iface, value] of [
    ['Health', health],
    ['TenantHealth', health.tenants[0]],
  ]) {
    const fields = declared('export interface', iface)
    for (const [name, f] of fields) if (!f.optional) assert.ok(name in value, `${iface}.${name} is declared required`)
    for (const name of Object.keys(value)) assert.ok(fields.has(name), `${name} is not declared in ${iface}`)
  }
})
