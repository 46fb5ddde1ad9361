// `listSessions` and `renameSession`: a user lists and renames only their own conversations, most
// recent first; bad limits and titles reject with `INVALID_INPUT`, and renaming a conversation
// the user does not have resolves with `null` and changes nothing. On the built-in demo database
// with the offline generator.

import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, test } from 'node:test'

import { Engine } from '../index.mjs'
import { rejection } from './helpers.mjs'

/** A user of their own (the engine is shared by the tests of this file). */
const someone = (name) => ({ id: `${name}-${randomUUID()}` })

const ids = (sessions) => sessions.map((s) => s.sessionId)

describe('sessions', () => {
  const engine = new Engine()

  test('a user lists their own conversations, most recent first', async () => {
    const ana = someone('ana')
    const bob = someone('bob')
    assert.deepEqual(await engine.listSessions({ user: ana }), [])
    const first = await engine.ask('How many artists are there?', { user: ana })
    const theirs = await engine.ask('How many albums are there?', { user: bob })
    const second = await engine.ask('Top 5 genres by number of tracks', { user: ana })
    await engine.ask('top 3 instead', { sessionId: second.sessionId, user: ana })

    const listed = await engine.listSessions({ user: ana })
    assert.deepEqual(ids(listed), [second.sessionId, first.sessionId])
    assert.ok(!ids(listed).includes(theirs.sessionId))
    const [newest, oldest] = listed
    assert.deepEqual(Object.keys(newest), ['sessionId', 'title', 'createdAt', 'updatedAt', 'turnCount'])
    assert.deepEqual([newest.title, newest.turnCount], ['Top 5 genres by number of tracks', 2])
    assert.deepEqual([oldest.title, oldest.turnCount], ['How many artists are there?', 1])
    assert.ok(!Number.isNaN(Date.parse(newest.createdAt)) && newest.updatedAt >= newest.createdAt)
    assert.deepEqual(ids(await engine.listSessions({ user: bob })), [theirs.sessionId])

    // A follow-up moves a conversation up the list; the limit keeps the most recent.
    await engine.ask('How many genres are there?', { sessionId: first.sessionId, user: ana })
    assert.deepEqual(ids(await engine.listSessions({ user: ana })), [first.sessionId, second.sessionId])
    assert.deepEqual(ids(await engine.listSessions({ limit: 1, user: ana })), [first.sessionId])
    assert.deepEqual(ids(await engine.listSessions({ limit: 200, user: ana })), [first.sessionId, second.sessionId])

    // Neither the default user nor another tenant sees them.
    const mine = ids(await engine.listSessions())
    assert.ok(!mine.includes(first.sessionId) && !mine.includes(second.sessionId))
    assert.deepEqual(await engine.listSessions({ tenantId: 'acme', user: ana }), [])
    // A reset conversation is not listed.
    await engine.resetSession(first.sessionId, { user: ana })
    assert.deepEqual(ids(await engine.listSessions({ user: ana })), [second.sessionId])
  })

  test('the tenant comes from the user or tenantId', async () => {
    const ana = someone('ana')
    const a = await engine.ask('How many artists are there?', { tenantId: 'acme', user: ana })
    assert.deepEqual(ids(await engine.listSessions({ tenantId: 'acme', user: ana })), [a.sessionId])
    assert.deepEqual(ids(await engine.listSessions({ user: { ...ana, tenant: 'acme' } })), [a.sessionId])
    assert.deepEqual(await engine.listSessions({ user: ana }), [])
    const err = await rejection(engine.listSessions({ tenantId: 'globex', user: { ...ana, tenant: 'acme' } }))
    assert.equal(err.code, 'INVALID_INPUT')
    const renamed = await engine.renameSession(a.sessionId, 'Artists', { user: { ...ana, tenant: 'acme' } })
    assert.equal(renamed.title, 'Artists')
  })

  test('rename sets the title the list shows', async () => {
    const ana = someone('ana')
    const first = await engine.ask('How many artists are there?', { user: ana })
    const second = await engine.ask('How many albums are there?', { user: ana })
    const renamed = await engine.renameSession(first.sessionId, '  Artist count  ', { user: ana })
    assert.deepEqual(
      [renamed.sessionId, renamed.title, renamed.turnCount],
      [first.sessionId, 'Artist count', 1],
    )
    const listed = await engine.listSessions({ user: ana })
    // Renaming does not move the conversation up the list.
    assert.deepEqual(
      listed.map((s) => [s.sessionId, s.title]),
      [
        [second.sessionId, 'How many albums are there?'],
        [first.sessionId, 'Artist count'],
      ],
    )
    assert.deepStrictEqual(listed[1], renamed)
    const longest = 'é'.repeat(120)
    assert.equal((await engine.renameSession(first.sessionId, longest, { user: ana })).title, longest)
  })

  for (const [name, title, says] of [
    ['a newline', 'two\nlines', 'U+000A'],
    ['121 characters', 'x'.repeat(121), '121 characters long'],
    ['blank', '   ', 'the title is empty'],
    ['a tab', 'tab\there', 'U+0009'],
    ['not a string', 42, '`title` must be a string'],
  ]) {
    test(`a bad title is refused: ${name}`, async () => {
      const ana = someone('ana')
      const a = await engine.ask('How many artists are there?', { user: ana })
      const err = await rejection(engine.renameSession(a.sessionId, title, { user: ana }))
      assert.ok(err instanceof Error)
      assert.deepEqual([err.code, err.retryable], ['INVALID_INPUT', false], err.message)
      assert.ok(err.message.includes(says), err.message)
      assert.deepEqual(
        (await engine.listSessions({ user: ana })).map((s) => s.title),
        ['How many artists are there?'],
      )
    })
  }

  test("renaming another user's conversation resolves with null and leaves it alone", async () => {
    const ana = someone('ana')
    const bob = someone('bob')
    const his = await engine.ask('How many albums are there?', { user: bob })
    assert.equal(await engine.renameSession(his.sessionId, 'Mine now', { user: ana }), null)
    assert.equal(await engine.renameSession(his.sessionId, 'Mine now'), null, "nor the default user's")
    assert.equal(await engine.renameSession(`none-${randomUUID()}`, 'Nothing', { user: ana }), null)
    assert.deepEqual(
      (await engine.listSessions({ user: bob })).map((s) => [s.sessionId, s.title]),
      [[his.sessionId, 'How many albums are there?']],
    )
    assert.deepEqual(await engine.listSessions({ user: ana }), [])
  })

  for (const limit of [0, 201, -1, 1.5, Number.NaN, Infinity, 2 ** 53, '10']) {
    test(`a limit outside 1 to 200 is refused: ${String(limit)}`, async () => {
      const err = await rejection(engine.listSessions({ limit }))
      assert.equal(err.code, 'INVALID_INPUT', err.message)
      assert.match(err.message, typeof limit === 'string' ? /`options`/ : /is not a whole number from 1 to 200/)
      assert.ok(err.message.length < 300, err.message)
    })
  }

  test('options that are not an object are refused', async () => {
    const err = await rejection(engine.listSessions(50))
    assert.equal(err.code, 'INVALID_INPUT', err.message)
  })
})
