// An answer's scope (the parts of its query a front end shows as removable chips) and the
// `removeScope` option of `ask` and `askStream`: removing a part asks again, as a new turn of the
// same conversation, and an id that names no part rejects with `INVALID_INPUT` with nothing run.
// On the built-in demo database with the offline generator.

import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, test } from 'node:test'

import { Engine } from '../index.mjs'
import { rejection } from './helpers.mjs'

const TOP5_GENRES = [
  ['Rock', 1297],
  ['Latin', 579],
  ['Metal', 374],
  ['Alternative & Punk', 332],
  ['Jazz', 130],
]

/** What a plain-word label never holds: SQL keywords, qualified or quoted names, operators. */
const NOT_PLAIN = /\b(SELECT|GROUP BY|ORDER BY|LIMIT|COUNT|DESC|ASC)\b|[A-Za-z]\.[A-Za-z]|[()*;=<>"'`]/

const QUESTION = 'Top 5 genres by number of tracks'

/** Every event of a stream, read with `for await`. */
async function collect(stream) {
  const events = []
  for await (const event of stream) events.push(event)
  return events
}

describe('scope', () => {
  const engine = new Engine()

  test('an answer lists its scope in plain words', async () => {
    const top = await engine.ask(QUESTION)
    assert.deepEqual(top.rows, TOP5_GENRES)
    assert.deepStrictEqual(top.scope, [
      { id: 'group:0', kind: 'group', label: 'by genre' },
      { id: 'order', kind: 'order', label: 'sorted by the number of tracks, largest first' },
      { id: 'limit', kind: 'limit', label: 'top 5' },
    ])
    for (const item of top.scope) {
      assert.equal(Object.getPrototypeOf(item), Object.prototype)
      assert.ok(item.label && item.label.trim() === item.label, item.label)
      assert.doesNotMatch(item.label, NOT_PLAIN)
    }
    // An answer without removable parts has an empty scope, never a missing one.
    assert.deepStrictEqual((await engine.ask('How many genres are there?')).scope, [])
  })

  test('removing the limit asks again in the same conversation', async () => {
    const top = await engine.ask(QUESTION)
    const every = await engine.ask('', { sessionId: top.sessionId, removeScope: 'limit' })
    assert.deepEqual([every.sessionId, every.turn], [top.sessionId, 2])
    assert.equal(every.rowCount, 25)
    assert.ok(every.rows.length > 5)
    assert.deepEqual(every.rows.slice(0, 5), top.rows, 'still sorted, largest first')
    assert.ok(!every.sql.includes('LIMIT 5'), every.sql)
    assert.equal(every.cacheHit, false)
    assert.deepEqual(
      every.scope.map((i) => i.id),
      ['group:0', 'order'],
    )
    const state = await engine.session(top.sessionId)
    assert.deepEqual(
      state.turns.map((t) => t.question),
      [QUESTION, 'without "top 5"'],
    )
    // A follow-up continues from the answer without the limit.
    const top3 = await engine.ask('top 3 instead', { sessionId: top.sessionId })
    assert.deepEqual([top3.turn, top3.rows], [3, TOP5_GENRES.slice(0, 3)])
    // Removing the sort takes its limit along.
    const unsorted = await engine.ask('', { sessionId: top.sessionId, removeScope: 'order' })
    assert.deepEqual(
      [unsorted.turn, unsorted.rowCount, unsorted.scope.map((i) => i.id)],
      [4, 25, ['group:0']],
    )
  })

  for (const [name, id, says] of [
    ['an SQL injection', "'; DROP TABLE x; --", "is not a scope item's id"],
    ['10 kB', 'x'.repeat(10 * 1024), 'removeScope is 10240 bytes long'],
    ['an empty id', '', "is not a scope item's id"],
    ['a filter the answer has not', 'filter:0', 'names no part of the last answer, whose parts are group:0, order, limit'],
    ['a second grouping', 'group:1', 'names no part of the last answer'],
  ]) {
    test(`an id that names no part is INVALID_INPUT and nothing runs: ${name}`, async () => {
      const top = await engine.ask(QUESTION)
      const err = await rejection(engine.ask('', { sessionId: top.sessionId, removeScope: id }))
      assert.ok(err instanceof Error)
      assert.deepEqual([err.code, err.retryable], ['INVALID_INPUT', false], err.message)
      // The engine's message names the option as the HTTP API does (`remove_scope`).
      assert.ok(err.message.replace('remove_scope', 'removeScope').includes(says), err.message)
      assert.ok(err.message.length < 1000, 'a hostile id is not echoed back whole')
      const state = await engine.session(top.sessionId)
      assert.deepEqual([state.turnCount, state.turns.at(-1).sql], [1, top.sql])
    })
  }

  test('a removal needs a conversation with an answer, and no question', async () => {
    const top = await engine.ask(QUESTION)
    // Each call starts when its turn comes: a rejection nobody awaits yet is an unhandled one.
    for (const [call, says] of [
      [() => engine.ask('', { removeScope: 'limit' }), "pass that conversation's session_id too"],
      [() => engine.ask('top 3', { sessionId: top.sessionId, removeScope: 'limit' }), 'send either a question or remove_scope, not both'],
      [() => engine.ask('', { sessionId: `none-${randomUUID()}`, removeScope: 'limit' }), 'this conversation has none'],
      // Another user's conversation has no answer of theirs to remove a part from.
      [() => engine.ask('', { sessionId: top.sessionId, user: { id: 'mallory' }, removeScope: 'limit' }), 'this conversation has none'],
      [() => engine.ask('', { sessionId: top.sessionId, removeScope: 5 }), '`options`'],
    ]) {
      const err = await rejection(call())
      assert.equal(err.code, 'INVALID_INPUT', err.message)
      assert.ok(err.message.includes(says), err.message)
    }
    assert.equal((await engine.session(top.sessionId)).turnCount, 1)
  })

  test('askStream removes a part too', async () => {
    const top = await engine.ask(QUESTION)
    const events = await collect(engine.askStream('', { sessionId: top.sessionId, removeScope: 'limit' }))
    const last = events.at(-1)
    assert.equal(last.event, 'answer')
    assert.deepEqual([last.answer.turn, last.answer.rowCount], [2, 25])
    const rows = events.filter((e) => e.event === 'rows')
    assert.equal(rows.length, 1)
    assert.deepEqual(rows[0].rows, last.answer.rows)

    const err = await rejection(collect(engine.askStream('', { sessionId: top.sessionId, removeScope: "'; DROP TABLE x; --" })))
    assert.equal(err.code, 'INVALID_INPUT', err.message)
    assert.equal((await engine.session(top.sessionId)).turnCount, 2)
  })
})
