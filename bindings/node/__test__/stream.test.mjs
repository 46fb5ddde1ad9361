// `engine.askStream`: the progress of an answer read with `for await`, on the built-in demo
// database and on PostgreSQL and MariaDB; errors, leaving the loop early, and the statement
// that leaving the loop cancels.

import assert from 'node:assert/strict'
import { dirname, join } from 'node:path'
import { describe, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'

import { AskStream, Engine } from '../index.mjs'
import { MYSQL_URL, PG_URL, modelConfig, startFakeOpenAI } from './helpers.mjs'

const CHINOOK_SQLITE = join(dirname(fileURLToPath(import.meta.url)), '../../../examples/chinook/chinook.sqlite')

/** Every event of `question`. */
async function collect(engine, question, options) {
  const events = []
  for await (const event of engine.askStream(question, options)) events.push(event)
  return events
}

/** The error the loop over `question`'s events throws, and the events before it. */
async function failure(engine, question, options) {
  const events = []
  try {
    for await (const event of engine.askStream(question, options)) events.push(event)
  } catch (err) {
    return { err, events }
  }
  assert.fail(`expected the loop to throw; events: ${JSON.stringify(events).slice(0, 300)}`)
}

function lastAnswer(events) {
  const last = events.at(-1)
  assert.equal(last?.event, 'answer', JSON.stringify(events.map((e) => e.event)))
  return last.answer
}

for (const [name, databaseUrl] of [
  ['the demo database', undefined],
  ['PostgreSQL', PG_URL],
  ['MariaDB', MYSQL_URL],
]) {
  describe(`askStream on ${name}`, () => {
    const engine = new Engine({ databaseUrl })

    test('stages, then the SQL, then the rows, then the answer that ask gives', async () => {
      const question = 'How many tracks are there per genre?'
      const events = await collect(engine, question)
      const order = events.map((e) => e.event)
      assert.equal(order[0], 'stage')
      assert.equal(order.at(-1), 'answer')
      for (const kind of ['sql', 'rows', 'answer']) assert.equal(order.filter((k) => k === kind).length, 1, kind)
      const stage = (s) => events.findIndex((e) => e.event === 'stage' && e.stage === s)
      const [sql, rows] = [order.indexOf('sql'), order.indexOf('rows')]
      assert.ok(stage('guard') === 0 && stage('guard') < stage('generate'), JSON.stringify(order))
      assert.ok(stage('generate') < sql && sql < rows && rows < stage('save'), JSON.stringify(order))
      for (const e of events) assert.equal(Object.getPrototypeOf(e), Object.prototype)
      assert.deepEqual(Object.keys(events[0]), ['event', 'stage'])

      // The SQL and rows streamed are those of the answer; every stage streamed is timed.
      const answer = lastAnswer(events)
      assert.equal(events[sql].sql, answer.sql)
      assert.deepEqual(events[rows].rows, answer.rows)
      assert.deepEqual(events[rows].columns, answer.columns)
      assert.equal(events[rows].truncated, answer.truncated)
      assert.ok(answer.rows.length > 1)
      for (const e of events) if (e.event === 'stage') assert.equal(typeof answer.timings[e.stage], 'number', e.stage)

      // The same answer as `ask` gives (on an engine of its own: no cached answer), in the
      // same shape.
      const asked = await new Engine({ databaseUrl }).ask(question)
      assert.deepEqual(
        [answer.sql, answer.rows, answer.columns, answer.explanation, answer.turn],
        [asked.sql, asked.rows, asked.columns, asked.explanation, asked.turn],
      )
      assert.deepEqual(Object.keys(answer).sort(), Object.keys(asked).sort())
    })
  })
}

describe('askStream in a conversation', () => {
  const engine = new Engine()

  test('a follow-up continues the conversation', async () => {
    const first = lastAnswer(await collect(engine, 'Which 5 artists have the most tracks?'))
    assert.deepEqual(first.rows[0], ['Iron Maiden', 213])
    const second = lastAnswer(await collect(engine, 'top 3 instead', { sessionId: first.sessionId }))
    assert.equal(second.sessionId, first.sessionId)
    assert.equal(second.turn, 2)
    assert.deepEqual(second.rows, first.rows.slice(0, 3))
    const state = await engine.session(first.sessionId)
    assert.deepEqual(
      state.turns.map((t) => t.question),
      ['Which 5 artists have the most tracks?', 'top 3 instead'],
    )
  })
})

describe('askStream errors', () => {
  const engine = new Engine()

  test('a question that fails throws from the loop after its stages', async () => {
    const { err, events } = await failure(engine, 'How many frobnicated wombats are there?')
    assert.ok(err instanceof Error)
    assert.equal(err.code, 'CANNOT_ANSWER')
    assert.equal(err.retryable, false)
    assert.match(err.message, /frobnicated/)
    // The same error `ask` rejects with, with its per-kind fields.
    assert.ok(err.unknownWords.includes('frobnicated'), JSON.stringify(err.unknownWords))
    assert.ok(events.length > 0 && events.every((e) => e.event === 'stage'), JSON.stringify(events))
    assert.equal(events[0].stage, 'guard')
  })

  test('bad input throws the error ask rejects with, before any event', async () => {
    for (const [question, options] of [
      ['   ', undefined],
      [42, undefined],
      ['How many artists are there?', { user: { roles: 'sales_rep' } }],
      ['How many artists are there?', 'not options'],
    ]) {
      const { err, events } = await failure(engine, question, options)
      assert.equal(err.code, 'INVALID_INPUT', err.message)
      assert.equal(typeof err.retryable, 'boolean')
      const asked = await engine.ask(question, options).catch((e) => e)
      assert.equal(asked.code, err.code)
      if (question !== '   ') assert.deepEqual(events, [])
    }
  })

  test('an unreachable database throws its error from the first event', async () => {
    const down = new Engine({
      databaseUrl: 'postgres://nobody:secret@127.0.0.1:1/none',
      config: { database: { connection_timeout_secs: 2 } },
    })
    const { err, events } = await failure(down, 'How many artists are there?')
    assert.equal(err.code, 'DATABASE_UNAVAILABLE')
    assert.equal(err.retryable, true)
    assert.doesNotMatch(err.message, /secret/)
    assert.deepEqual(events, [])
  })

  test('a stream ends after its error', async () => {
    const stream = engine.askStream('How many frobnicated wombats are there?')
    const it = stream[Symbol.asyncIterator]()
    let err
    for (;;) {
      try {
        const { done } = await it.next()
        if (done) break
      } catch (e) {
        err = e
        break
      }
    }
    assert.equal(err?.code, 'CANNOT_ANSWER')
    assert.deepEqual(await it.next(), { value: undefined, done: true })
  })
})

describe('leaving the loop early', () => {
  const engine = new Engine()

  test('breaking out then asking again works', async () => {
    for await (const event of engine.askStream('Total sales by country')) {
      assert.deepEqual(event, { event: 'stage', stage: 'guard' })
      break
    }
    assert.deepEqual((await engine.ask('How many artists are there?')).rows, [[275]])
    const again = await collect(engine, 'How many artists are there?')
    assert.deepEqual(lastAnswer(again).rows, [[275]])
  })

  test('return() and close() end the iteration', async () => {
    const stream = engine.askStream('Total sales by country')
    assert.ok(stream instanceof AskStream)
    const it = stream[Symbol.asyncIterator]()
    assert.equal((await it.next()).value.event, 'stage')
    assert.deepEqual(await it.return(), { value: undefined, done: true })
    assert.deepEqual(await it.next(), { value: undefined, done: true })

    const closed = engine.askStream('Total sales by country')
    closed.close()
    closed.close()
    assert.deepEqual(await collect({ askStream: () => closed }), [])

    // An exception thrown in the loop's body closes the stream too.
    await assert.rejects(async () => {
      for await (const event of engine.askStream('Total sales by country')) {
        throw new Error(`stop at ${event.event}`)
      }
    }, /stop at stage/)
    assert.deepEqual((await engine.ask('How many albums are there?')).rows, [[347]])
  })

  test('many streams at once each get their answer', async () => {
    const questions = ['How many artists are there?', 'How many albums are there?', 'How many genres are there?']
    const answers = await Promise.all([...questions, ...questions].map(async (q) => lastAnswer(await collect(engine, q))))
    assert.deepEqual(
      answers.map((a) => a.rows),
      [[[275]], [[347]], [[25]], [[275]], [[347]], [[25]]],
    )
  })

  test('the class cannot be built by hand', () => {
    assert.throws(() => new AskStream())
  })
})

/** A statement that would run for days on Chinook (the quadruples of tracks of one genre). */
function slowSql(track, genre) {
  return (
    `SELECT count(*) FROM ${track} a JOIN ${track} b ON b.${genre} = a.${genre} ` +
    `JOIN ${track} c ON c.${genre} = b.${genre} JOIN ${track} d ON d.${genre} = c.${genre}`
  )
}

describe('leaving the loop cancels the running statement', () => {
  for (const [name, databaseUrl, slow, quick] of [
    ['SQLite', `sqlite://${CHINOOK_SQLITE}`, slowSql('Track', 'GenreId'), 'SELECT count(*) FROM Genre'],
    ['PostgreSQL', PG_URL, slowSql('track', 'genre_id'), 'SELECT count(*) FROM genre'],
  ]) {
    test(name, async (t) => {
      // One connection, a statement that would run for days and a timeout far away: the next
      // question gets the connection only if leaving the loop stopped the statement.
      const model = await startFakeOpenAI((body) => {
        const question = body.messages.filter((m) => m.role === 'user').at(-1).content
        return { content: JSON.stringify({ sql: question.includes('slow') ? slow : quick, explanation: 'x' }) }
      })
      t.after(() => model.close())
      const engine = new Engine({
        databaseUrl,
        config: modelConfig(model.baseUrl, {
          database: { statement_timeout_ms: 300000, pool_size: 1, max_idle_connections: 1, connection_timeout_secs: 20 },
        }),
      })
      const started = Date.now()
      for await (const event of engine.askStream('the slow one')) {
        if (event.event === 'stage' && event.stage === 'generate') {
          await sleep(1000) // the model has answered; the statement runs
          break
        }
      }
      const answer = await engine.ask('the quick one')
      assert.deepEqual(answer.rows, [[25]])
      assert.ok(Date.now() - started < 15000, 'the statement was not cancelled')
    })
  }
})
