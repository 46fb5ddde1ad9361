// Asking questions through the Node.js binding: answers, follow-ups, sessions, schema, health,
// configuration sources, typed values and real PostgreSQL / MariaDB databases.

import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'

import * as esm from '@heliosdb/conversational-bi'
import { Engine } from '../index.mjs'
import { MYSQL_URL, PG_URL, modelConfig, startFakeOpenAI, writes } from './helpers.mjs'

const TOP5 = [
  ['Iron Maiden', 213],
  ['U2', 135],
  ['Led Zeppelin', 114],
  ['Metallica', 112],
  ['Deep Purple', 92],
]

describe('the demo database with the offline generator', () => {
  const engine = new Engine()

  test('an answer is a plain object with the documented camelCase fields', async () => {
    const a = await engine.ask('Which 5 artists have the most tracks?')
    assert.equal(Object.getPrototypeOf(a), Object.prototype)
    assert.match(a.sql, /^SELECT .*LIMIT 5$/)
    assert.ok(a.explanation.length > 0)
    assert.deepEqual(
      a.columns.map((c) => c.name),
      ['Name', 'count'],
    )
    assert.deepEqual(
      a.columns.map((c) => c.type),
      ['TEXT', 'INTEGER'],
    )
    assert.deepEqual(a.rows, TOP5)
    assert.equal(a.rowCount, 5)
    assert.equal(a.truncated, false)
    assert.equal(a.generator, 'rule')
    assert.equal(a.degraded, false)
    assert.equal(a.turn, 1)
    assert.match(a.sessionId, /^[0-9a-f-]{36}$/)
    assert.equal(a.attempts.length, 1)
    assert.equal(a.attempts[0].error, undefined)
    for (const stage of ['guard', 'session', 'generate', 'validate', 'execute', 'total']) {
      assert.equal(typeof a.timings[stage], 'number', `timings.${stage}`)
    }
    assert.ok(Array.isArray(a.warnings))
    for (const snake of ['row_count', 'session_id', 'cache_hit']) assert.ok(!(snake in a), snake)
  })

  test('a follow-up refines the previous question of its session', async () => {
    const first = await engine.ask('Which 5 artists have the most tracks?')
    const second = await engine.ask('top 3 instead', { sessionId: first.sessionId })
    assert.equal(second.sessionId, first.sessionId)
    assert.equal(second.turn, 2)
    assert.match(second.sql, /LIMIT 3$/)
    assert.deepEqual(second.rows, TOP5.slice(0, 3))

    const state = await engine.session(first.sessionId)
    assert.equal(state.tenantId, 'default')
    assert.equal(state.sessionId, first.sessionId)
    assert.equal(state.turnCount, 2)
    assert.deepEqual(
      state.turns.map((t) => [t.turn, t.question, t.rowCount]),
      [
        [1, 'Which 5 artists have the most tracks?', 5],
        [2, 'top 3 instead', 3],
      ],
    )
    assert.equal(state.turns[1].sql, second.sql)

    await engine.resetSession(first.sessionId)
    const fresh = await engine.session(first.sessionId)
    assert.deepEqual([fresh.turns.length, fresh.turnCount], [0, 0])
    const restart = await engine.ask('How many genres are there?', { sessionId: first.sessionId })
    assert.equal(restart.turn, 1)
    assert.deepEqual(restart.rows, [[25]])
  })

  test('sessions belong to their tenant', async () => {
    const sessionId = 'shared-id'
    const acme = await engine.ask('Which 5 artists have the most tracks?', { sessionId, tenantId: 'acme' })
    const other = await engine.ask('How many genres are there?', { sessionId, tenantId: 'globex' })
    assert.equal(acme.turn, 1)
    assert.equal(other.turn, 1, "another tenant's session with the same id is a different session")
    const acmeState = await engine.session(sessionId, { tenantId: 'acme' })
    assert.deepEqual(
      acmeState.turns.map((t) => t.question),
      ['Which 5 artists have the most tracks?'],
    )
    assert.equal((await engine.session(sessionId)).turns.length, 0, 'the default tenant sees nothing')
    await engine.resetSession(sessionId, { tenantId: 'globex' })
    assert.equal((await engine.session(sessionId, { tenantId: 'globex' })).turns.length, 0)
    assert.equal((await engine.session(sessionId, { tenantId: 'acme' })).turns.length, 1)
  })

  test('schema lists the tables, columns and keys the engine sees', async () => {
    const schema = await engine.schema()
    assert.equal(schema.dialect, 'sqlite')
    assert.equal(schema.tables.length, 11)
    assert.match(schema.fingerprint, /^\w+$/)
    const track = schema.tables.find((t) => t.name === 'Track')
    assert.equal(track.kind, 'table')
    assert.deepEqual(track.primaryKey, ['TrackId'])
    assert.deepEqual(
      track.foreignKeys.map((f) => f.referencedTable).sort(),
      ['Album', 'Genre', 'MediaType'],
    )
    const name = track.columns.find((c) => c.name === 'Name')
    assert.deepEqual([name.nullable, typeof name.dataType], [false, 'string'])
  })

  test('health reports the database and the generator', async () => {
    const h = await engine.health()
    assert.deepEqual([h.status, h.database, h.generator], ['ok', true, 'rule'])
    assert.match(h.version, /^\d+\.\d+\.\d+/)
    assert.equal(h.databaseError, undefined)
    assert.deepEqual(h.tenants, [], 'no [tenants.<id>] configured')
  })

  test('connect resolves once the engine is ready', async () => {
    assert.equal(await engine.connect(), undefined)
  })
})

describe('configuration sources', () => {
  test('Engine.fromConfig reads a TOML file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cbi-node-'))
    const path = join(dir, 'conversational-bi.toml')
    writeFileSync(path, '[database]\nmax_rows = 2\n')
    const engine = Engine.fromConfig(path)
    const a = await engine.ask('List the genres')
    assert.equal(a.rowCount, 2)
    assert.equal(a.truncated, true)
    assert.equal(a.warnings.length, 1)
    assert.match(a.warnings[0], /max_rows/)
  })

  test('inline configuration as an object or as TOML text', async () => {
    const fromObject = new Engine({ config: { database: { max_rows: 3 } } })
    assert.equal((await fromObject.ask('List the genres')).rowCount, 3)
    const fromToml = new Engine({ config: '[database]\nmax_rows = 4\n' })
    assert.equal((await fromToml.ask('List the genres')).rowCount, 4)
  })

  test('the runbook example configuration parses as is; the environment supplies the key', async (t) => {
    process.env.OPENAI_API_KEY = 'sk-test-never-sent'
    t.after(() => delete process.env.OPENAI_API_KEY)
    const engine = Engine.fromConfig(new URL('../../../examples/conversational-bi.toml', import.meta.url).pathname, {
      databaseUrl: 'sqlite://' + new URL('../../../examples/chinook/chinook.sqlite', import.meta.url).pathname,
    })
    const h = await engine.health()
    assert.deepEqual([h.database, h.generator], [true, 'openai:gpt-4'])
  })
})

describe('typed values', () => {
  test('SQLite: bigint beyond 2^53, number, null, Buffer, string', async (t) => {
    const model = await startFakeOpenAI(
      writes(
        "SELECT 9007199254740993 AS big, -9007199254740993 AS neg, 9007199254740991 AS safe, 12.5 AS f, NULL AS n, X'CAFE' AS b, 'x' AS t",
      ),
    )
    t.after(() => model.close())
    const engine = new Engine({ config: modelConfig(model.baseUrl) })
    const a = await engine.ask('show me the values')
    const [big, neg, safe, f, n, b, text] = a.rows[0]
    assert.equal(big, 9007199254740993n)
    assert.equal(neg, -9007199254740993n)
    assert.equal(safe, 9007199254740991)
    assert.equal(f, 12.5)
    assert.equal(n, null)
    assert.ok(Buffer.isBuffer(b))
    assert.deepEqual([...b], [0xca, 0xfe])
    assert.equal(text, 'x')
    assert.equal(a.generator, 'openai:gpt-4o-mini')
    assert.equal(model.requests.length, 1)
  })

  test('PostgreSQL: boolean, exact decimal as string, date as ISO string', async (t) => {
    const model = await startFakeOpenAI(
      writes("SELECT true AS yes, CAST(1.50 AS numeric(10,2)) AS d, CAST('2024-01-02' AS date) AS day, 9007199254740993 AS big"),
    )
    t.after(() => model.close())
    const engine = new Engine({ databaseUrl: PG_URL, config: modelConfig(model.baseUrl) })
    const a = await engine.ask('show me the values')
    assert.deepEqual(a.rows, [[true, '1.50', '2024-01-02', 9007199254740993n]])
    assert.deepEqual(
      a.columns.map((c) => c.type),
      ['BOOL', 'NUMERIC', 'DATE', 'INT8'],
    )
  })
})

describe('real database servers', () => {
  for (const [name, url] of [
    ['PostgreSQL', PG_URL],
    ['MariaDB', MYSQL_URL],
  ]) {
    test(`${name}: a question and a follow-up`, async () => {
      const engine = new Engine({ databaseUrl: url })
      const first = await engine.ask('Which 5 artists have the most tracks?')
      // Deep Purple and Lost tie at 92 tracks: either may come fifth.
      assert.deepEqual(first.rows.slice(0, 4), TOP5.slice(0, 4))
      assert.equal(first.rows[4][1], 92)
      const second = await engine.ask('top 3 instead', { sessionId: first.sessionId })
      assert.deepEqual(second.rows, TOP5.slice(0, 3))
      const total = await engine.ask('What is the total of all invoices?')
      assert.deepEqual(total.rows, [['2328.60']], 'exact decimals arrive as strings')
      assert.equal((await engine.schema()).dialect, name === 'PostgreSQL' ? 'postgres' : 'mysql')
    })
  }
})

describe('entry points', () => {
  test('CommonJS and ES module entry points give the same class', () => {
    const require = createRequire(import.meta.url)
    const cjs = require('@heliosdb/conversational-bi')
    assert.equal(cjs.Engine, Engine)
    assert.equal(esm.Engine, Engine)
    assert.equal(esm.default.Engine, Engine)
    assert.equal(require('../index.js').Engine, Engine)
  })
})

describe('an embedded engine', () => {
  test('answers 200 questions in a row: no rate limit unless configured', async () => {
    const engine = new Engine()
    for (let i = 0; i < 200; i++) {
      const answer = await engine.ask('How many artists are there?')
      assert.deepEqual(answer.rows, [[275]], `question ${i + 1}`)
    }
  })
})
