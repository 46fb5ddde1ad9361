// Many questions in flight at once: answers stay correct, conversations stay in order, and the
// event loop keeps running while the engine works on other threads.

import assert from 'node:assert/strict'
import { test } from 'node:test'

import { Engine } from '../index.mjs'

// No quota: this test is about the binding, not the rate limiter.
const engine = new Engine({ config: { production: { rate_limiting: { enabled: false } } } })

const QUESTIONS = [
  ['How many genres are there?', [[25]]],
  ['How many artists are there?', [[275]]],
  ['How many media types are there?', [[5]]],
  ['How many employees are there?', [[8]]],
]

test('200 independent questions in flight at once', async () => {
  await engine.connect()
  let ticks = 0
  const timer = setInterval(() => ticks++, 1)
  const asks = Array.from({ length: 200 }, (_, i) => {
    const [question, rows] = QUESTIONS[i % QUESTIONS.length]
    return engine.ask(question, { tenantId: `tenant-${i % 7}` }).then((a) => ({ a, rows, question }))
  })
  const results = await Promise.all(asks)
  clearInterval(timer)
  for (const { a, rows, question } of results) assert.deepEqual(a.rows, rows, question)
  assert.equal(new Set(results.map((r) => r.a.sessionId)).size, 200, 'each new question starts its own session')
  // A binding that blocked the JavaScript thread would answer all 200 before a timer could fire.
  assert.ok(ticks > 0, 'the event loop ran while the questions were answered')
})

test('30 conversations of 4 turns each, all at once', async () => {
  const conversation = async (n) => {
    const sessionId = `conversation-${n}`
    const tenantId = n % 2 === 0 ? 'even' : 'odd'
    const turns = []
    turns.push(await engine.ask('Which 5 artists have the most tracks?', { sessionId, tenantId }))
    turns.push(await engine.ask('top 3 instead', { sessionId, tenantId }))
    turns.push(await engine.ask('How many genres are there?', { sessionId, tenantId }))
    turns.push(await engine.ask('List the genres', { sessionId, tenantId }))
    return { sessionId, tenantId, turns }
  }
  const all = await Promise.all(Array.from({ length: 30 }, (_, n) => conversation(n)))
  for (const { sessionId, tenantId, turns } of all) {
    assert.deepEqual(
      turns.map((a) => a.turn),
      [1, 2, 3, 4],
    )
    assert.equal(turns[1].rowCount, 3)
    assert.deepEqual(turns[1].rows[0], ['Iron Maiden', 213])
    assert.deepEqual(turns[2].rows, [[25]])
    assert.equal(turns[3].rowCount, 25)
    const state = await engine.session(sessionId, { tenantId })
    assert.deepEqual(
      state.turns.map((t) => t.question),
      ['Which 5 artists have the most tracks?', 'top 3 instead', 'How many genres are there?', 'List the genres'],
    )
  }
})

test('several engines answer side by side', async () => {
  const engines = Array.from({ length: 5 }, () => new Engine())
  const answers = await Promise.all(engines.map((e) => e.ask('How many genres are there?')))
  for (const a of answers) assert.deepEqual(a.rows, [[25]])
  assert.deepEqual((await engine.ask('How many genres are there?')).rows, [[25]])
})
