// Feedback (`engine.feedback(...)`) and the answer fields that come with the semantic model
// (`kind`, `verified`, `suggestions`), on the built-in demo database with a `[feedback]` SQLite
// file in a temporary folder and the demo's semantic model. The store file is read apart from
// the engine with the sqlite3 command-line shell.

import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

import { Engine } from '../index.mjs'
import { rejection } from './helpers.mjs'

delete process.env.OPENAI_API_KEY

const MODEL = fileURLToPath(new URL('../../../models/chinook.yaml', import.meta.url))

/** An engine on the demo database whose feedback goes to a fresh file, and that file. */
function demo() {
  const store = join(mkdtempSync(join(tmpdir(), 'cbi-feedback-')), 'feedback.db')
  const engine = new Engine({
    config: {
      feedback: { path: store },
      semantic: { model: MODEL },
      production: { rate_limiting: { enabled: false } },
    },
  })
  return { engine, store }
}

/** The records of the store file as `session|turn|rating|question|sql` lines. */
function stored(store) {
  if (!existsSync(store)) return []
  const out = execFileSync(
    'sqlite3',
    [store, 'SELECT session_id, turn, rating, question, sql_text FROM cbi_feedback ORDER BY created_at'],
    { encoding: 'utf8' },
  )
  return out.split('\n').filter((l) => l !== '')
}

test('a rating is stored with the turn’s question and SQL', async () => {
  const { engine, store } = demo()
  const question = 'Which 5 artists have the most tracks?'
  const answer = await engine.ask(question, { user: { id: 'ann' } })
  const record = await engine.feedback({
    sessionId: answer.sessionId,
    turn: answer.turn,
    rating: 'up',
    comment: 'exactly right',
    user: { id: 'ann' },
  })
  assert.equal(typeof record.id, 'string')
  assert.ok(record.createdAt)
  const { id, createdAt, ...rest } = record
  assert.deepEqual(rest, {
    tenantId: 'default',
    userId: 'ann',
    sessionId: answer.sessionId,
    turn: 1,
    rating: 'up',
    question,
    sql: answer.sql,
    comment: 'exactly right',
    status: 'new',
  })
  assert.deepEqual(stored(store), [`${answer.sessionId}|1|up|${question}|${answer.sql}`])
})

test('a correction that writes is refused with the validator’s reason, and nothing is stored', async () => {
  const { engine, store } = demo()
  const answer = await engine.ask('How many customers are there?')
  const e = await rejection(
    engine.feedback({ sessionId: answer.sessionId, turn: answer.turn, rating: 'down', correctedSql: 'DELETE FROM Track' }),
  )
  assert.equal(e.code, 'SQL_REJECTED')
  assert.equal(e.rule, 'not_a_query')
  assert.match(e.message, /corrected_sql is refused/)
  assert.deepEqual(stored(store), [])
  const fixed = "SELECT COUNT(*) FROM Customer WHERE Country = 'USA'"
  const record = await engine.feedback({ sessionId: answer.sessionId, turn: 1, rating: 'down', correctedSql: fixed })
  assert.deepEqual([record.rating, record.correctedSql, record.userId], ['down', fixed, ''])
  assert.equal(stored(store).length, 1)
})

test('an unknown turn, a bad rating and a malformed call are refused naming what is wrong', async () => {
  const { engine, store } = demo()
  const answer = await engine.ask('How many genres are there?')
  let e = await rejection(engine.feedback({ sessionId: answer.sessionId, turn: 7, rating: 'up' }))
  assert.equal(e.code, 'INVALID_INPUT')
  assert.match(e.message, /has no turn 7/)
  assert.ok(e.message.includes(answer.sessionId))
  e = await rejection(engine.feedback({ sessionId: answer.sessionId, turn: 1, rating: 'sideways' }))
  assert.equal(e.code, 'INVALID_INPUT')
  assert.match(e.message, /`rating` must be 'up' or 'down'/)
  e = await rejection(engine.feedback({ turn: 1, rating: 'up' }))
  assert.equal(e.code, 'INVALID_INPUT')
  assert.match(e.message, /sessionId/)
  e = await rejection(engine.feedback('nope'))
  assert.equal(e.code, 'INVALID_INPUT')
  assert.deepEqual(stored(store), [])
})

test('another user cannot rate my session', async () => {
  const { engine, store } = demo()
  const mine = await engine.ask('How many albums are there?', { user: { id: 'ann' } })
  for (const user of [{ id: 'bob' }, undefined]) {
    const e = await rejection(engine.feedback({ sessionId: mine.sessionId, turn: mine.turn, rating: 'down', user }))
    assert.equal(e.code, 'INVALID_INPUT')
    assert.ok(e.message.includes(mine.sessionId), e.message)
  }
  assert.deepEqual(stored(store), [])
  const record = await engine.feedback({ sessionId: mine.sessionId, turn: mine.turn, rating: 'up', user: { id: 'ann' } })
  assert.equal(record.userId, 'ann')
})

test('a verified answer and a plain one', async () => {
  const { engine } = demo()
  const verified = await engine.ask('revenue in Canada by year')
  assert.deepEqual([verified.kind, verified.verified, verified.generator], ['answer', true, 'verified'])
  assert.ok(verified.rowCount > 0)
  const plain = await engine.ask('How many customers are there?')
  assert.deepEqual([plain.kind, plain.verified, plain.clarification], ['answer', false, undefined])
  assert.deepEqual(plain.rows, [[59]])
  assert.ok(Array.isArray(plain.suggestions))
  assert.ok(plain.suggestions.every((s) => typeof s === 'string'))
})
