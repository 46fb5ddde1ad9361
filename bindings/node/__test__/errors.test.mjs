// Every error code the engine reports reaches JavaScript as an `Error` with that `code`, from
// Promise-returning (async) methods as well as from the constructor, with `retryAfter`, `sql`
// and the other fields where they apply.

import assert from 'node:assert/strict'
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, test } from 'node:test'

import { Engine } from '../index.mjs'
import { modelConfig, rejection, startFakeOpenAI, writes } from './helpers.mjs'

delete process.env.OPENAI_API_KEY

const CHINOOK_SQLITE = join(dirname(fileURLToPath(import.meta.url)), '../../../examples/chinook/chinook.sqlite')

/** Asserts the common shape of every error of the binding. */
function assertCoded(err, code) {
  assert.ok(err instanceof Error, `an Error instance, got ${err}`)
  assert.equal(err.code, code, err.message)
  assert.equal(typeof err.message, 'string')
  assert.ok(err.message.length > 0)
  assert.equal(typeof err.retryable, 'boolean')
}

/** Starts a loopback model for one test and closes it afterwards. */
async function model(t, reply) {
  const m = await startFakeOpenAI(reply)
  t.after(() => m.close())
  return m
}

describe('error codes', () => {
  const engine = new Engine()

  test('the code survives an async function', async () => {
    async function askInside() {
      const answer = await engine.ask('   ')
      return answer.sql
    }
    const err = await rejection(askInside())
    assertCoded(err, 'INVALID_INPUT')
    assert.equal(err.retryable, false)
    // Caught and rethrown through further async frames, it keeps its fields.
    const again = await rejection(
      (async () => {
        try {
          await askInside()
        } catch (e) {
          await new Promise((resolve) => setImmediate(resolve))
          throw e
        }
      })(),
    )
    assert.deepEqual([again.code, again.retryable, again.message], [err.code, err.retryable, err.message])
    await assert.rejects(engine.ask(''), { code: 'INVALID_INPUT', name: 'Error' })
  })

  test('INVALID_INPUT: empty, too long, not a string, bad options', async () => {
    const empty = await rejection(engine.ask(''))
    assertCoded(empty, 'INVALID_INPUT')
    assert.match(empty.message, /empty/)

    const short = new Engine({ config: { production: { security: { max_query_length: 20 } } } })
    const long = await rejection(short.ask('How many tracks are there in every genre of the store?'))
    assertCoded(long, 'INVALID_INPUT')
    assert.match(long.message, /max_query_length/)

    assertCoded(await rejection(engine.ask(42)), 'INVALID_INPUT')
    assertCoded(await rejection(engine.ask()), 'INVALID_INPUT')
    const badOptions = await rejection(engine.ask('How many genres are there?', { sessionId: 5 }))
    assertCoded(badOptions, 'INVALID_INPUT')
    assert.match(badOptions.message, /sessionId/)
    assertCoded(await rejection(engine.ask('How many genres are there?', 'acme')), 'INVALID_INPUT')
    assertCoded(await rejection(engine.session(7)), 'INVALID_INPUT')
    assertCoded(await rejection(engine.resetSession(null)), 'INVALID_INPUT')
  })

  test('CANNOT_ANSWER: the words that were not understood', async () => {
    const err = await rejection(engine.ask('frobnicate the wibbles'))
    assertCoded(err, 'CANNOT_ANSWER')
    assert.deepEqual(err.unknownWords, ['frobnicate', 'wibbles'])
    assert.equal(err.retryable, false)
  })

  test('CONFIG from the constructor, thrown at once', () => {
    assert.throws(
      () => new Engine({ config: { llm: { providr: 'rule' } } }),
      (err) => {
        assertCoded(err, 'CONFIG')
        assert.equal(err.key, 'llm.providr')
        assert.match(err.message, /unknown field `providr`/)
        return true
      },
    )
    assert.throws(() => new Engine({ config: { database: { max_rows: 'many' } } }), { code: 'CONFIG', key: 'database.max_rows' })
    assert.throws(() => new Engine({ config: 'not = [valid toml' }), { code: 'CONFIG' })
    assert.throws(() => new Engine({ config: 5 }), { code: 'CONFIG' })
    assert.throws(() => new Engine({ configPath: '/x.toml', config: {} }), { code: 'CONFIG' })
    assert.throws(() => Engine.fromConfig('/nonexistent/conversational-bi.toml'), (err) => {
      assertCoded(err, 'CONFIG')
      assert.match(err.message, /cannot read configuration file/)
      return true
    })
    const dir = mkdtempSync(join(tmpdir(), 'cbi-node-'))
    const path = join(dir, 'bad.toml')
    writeFileSync(path, '[server]\nport = 8080\nprot = 1\n')
    assert.throws(() => Engine.fromConfig(path), (err) => {
      assertCoded(err, 'CONFIG')
      assert.equal(err.key, 'server.prot')
      assert.match(err.message, /bad\.toml:3/)
      return true
    })
  })

  test('CONFIG from the constructor: a provider without its key (checked without connecting)', () => {
    assert.throws(
      () => new Engine({ config: { llm: { provider: 'openai', base_url: 'https://api.openai.com/v1' } } }),
      (err) => {
        assertCoded(err, 'CONFIG')
        assert.match(err.message, /OPENAI_API_KEY/)
        return true
      },
    )
  })

  test('CONFIG from an async method: a SQLite file that is not there yet, found once it is', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cbi-node-'))
    const path = join(dir, 'late.sqlite')
    const e = new Engine({ databaseUrl: `sqlite://${path}` })
    const err = await rejection(e.ask('How many genres are there?'))
    assertCoded(err, 'CONFIG')
    assert.match(err.message, /does not exist/)
    assertCoded(await rejection(e.connect()), 'CONFIG')
    copyFileSync(CHINOOK_SQLITE, path)
    const answer = await e.ask('How many genres are there?')
    assert.deepEqual(answer.rows, [[25]])
  })

  test('DATABASE_UNAVAILABLE: retryable, without the password, tried again by the next call', async () => {
    const e = new Engine({
      databaseUrl: 'postgres://cbi_ro:s3cret-pw@127.0.0.1:1/chinook',
      config: { database: { connection_timeout_secs: 1 } },
    })
    const err = await rejection(e.ask('How many genres are there?'))
    assertCoded(err, 'DATABASE_UNAVAILABLE')
    assert.equal(err.retryable, true)
    assert.ok(!err.message.includes('s3cret-pw'), err.message)
    assertCoded(await rejection(e.connect()), 'DATABASE_UNAVAILABLE')
    assertCoded(await rejection(e.health()), 'DATABASE_UNAVAILABLE')
  })

  test('SQL_REJECTED: the refused statement and the rule', async (t) => {
    const m = await model(t, writes('DELETE FROM Track'))
    const e = new Engine({ config: modelConfig(m.baseUrl) })
    const err = await rejection(e.ask('remove every track'))
    assertCoded(err, 'SQL_REJECTED')
    assert.equal(err.sql, 'DELETE FROM Track')
    assert.equal(typeof err.rule, 'string')
    assert.ok(err.rule.length > 0)
    assert.equal(err.retryable, false)
    assert.equal(m.requests.length, 1)
  })

  test('EXECUTION: the database refused the statement', async (t) => {
    const m = await model(t, writes('SELECT abs(-9223372036854775807 - 1) AS v'))
    const e = new Engine({ config: modelConfig(m.baseUrl) })
    const err = await rejection(e.ask('the absolute value of the smallest integer'))
    assertCoded(err, 'EXECUTION')
    assert.match(err.message, /integer overflow/)
    assert.equal(err.sql, undefined)
  })

  test('TIMEOUT: the statement timeout cancels a long query', async (t) => {
    const m = await model(
      t,
      writes('WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000000) SELECT count(*) FROM c'),
    )
    const e = new Engine({ config: modelConfig(m.baseUrl, { database: { statement_timeout_ms: 200 } }) })
    const err = await rejection(e.ask('count to a billion'))
    assertCoded(err, 'TIMEOUT')
    assert.match(err.message, /200 ms/)
    assert.equal(err.retryable, false)
  })

  test('PROVIDER: the provider refused the request', async (t) => {
    const m = await model(t, () => ({ status: 401, message: 'Incorrect API key provided' }))
    const e = new Engine({ config: modelConfig(m.baseUrl) })
    const err = await rejection(e.ask('How many genres are there?'))
    assertCoded(err, 'PROVIDER')
    assert.equal(err.provider, 'openai')
    assert.equal(err.status, 401)
    assert.equal(err.retryable, false)
    assert.match(err.message, /Incorrect API key provided/)
  })

  test('RATE_LIMITED: a tiny quota, with retryAfter in seconds', async (t) => {
    const e = new Engine({
      config: { production: { rate_limiting: { enabled: true, queries_per_minute: 1, burst_allowance: 1 } } },
    })
    const outcomes = []
    for (let i = 0; i < 4; i++) {
      outcomes.push(await e.ask('How many genres are there?', { tenantId: 'tiny' }).catch((err) => err))
    }
    const limited = outcomes.find((o) => o instanceof Error)
    assert.ok(limited, 'one of 4 asks within a second must exceed a quota of 1 per minute')
    assertCoded(limited, 'RATE_LIMITED')
    assert.equal(limited.retryable, true)
    assert.equal(typeof limited.retryAfter, 'number')
    assert.ok(limited.retryAfter > 0 && limited.retryAfter <= 60, `retryAfter ${limited.retryAfter}`)
  })

  test('CIRCUIT_OPEN: an always-failing provider with no fallback', async (t) => {
    const m = await model(t, () => ({ status: 500, message: 'The server had an error' }))
    const e = new Engine({
      config: modelConfig(m.baseUrl, {
        production: { circuit_breaker: { enabled: true, failure_threshold: 2, reset_timeout_secs: 60 } },
      }),
    })
    const errors = []
    for (let i = 0; i < 6; i++) errors.push(await rejection(e.ask('How many genres are there?')))
    const open = errors.find((err) => err.code === 'CIRCUIT_OPEN')
    assert.ok(open, `codes: ${errors.map((err) => err.code)}`)
    assertCoded(open, 'CIRCUIT_OPEN')
    assert.equal(open.retryable, true)
    assert.ok(open.retryAfter > 0 && open.retryAfter <= 60, `retryAfter ${open.retryAfter}`)
    const seen = m.requests.length
    await rejection(e.ask('How many genres are there?'))
    assert.equal(m.requests.length, seen, 'an open breaker sends nothing to the provider')
  })

  test('SERVICE_UNAVAILABLE: the session store is unreachable', async (t) => {
    const e = new Engine({ config: { session: { store: 'redis' }, redis: { url: 'redis://127.0.0.1:1/' } } })
    const err = await rejection(e.ask('How many genres are there?'))
    assertCoded(err, 'SERVICE_UNAVAILABLE')
    assert.equal(err.retryable, true)
  })
})
