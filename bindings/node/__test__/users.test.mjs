// Who asks: the `user` option of `ask`, `session`, `resetSession` and `schema`. Conversations
// belong to their user, a bad `user` is an `INVALID_INPUT` error that says what is wrong, and the
// roles of `[access]` decide which rows and columns an answer and a schema show.

import assert from 'node:assert/strict'
import { copyFileSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'

import { Engine } from '../index.mjs'
import { modelConfig, rejection, startFakeOpenAI, writes } from './helpers.mjs'

delete process.env.OPENAI_API_KEY

const TOP5 = [
  ['Iron Maiden', 213],
  ['U2', 135],
  ['Led Zeppelin', 114],
  ['Metallica', 112],
  ['Deep Purple', 92],
]

/** The `sales_rep` role of the README's "Data permissions" example. */
const ACCESS = {
  roles: {
    sales_rep: {
      row_filters: { Customer: 'SupportRepId = {user.employee_id}' },
      columns: { 'Customer.Email': 'hash', 'Customer.Phone': 'null' },
    },
  },
}

/**
 * The roles of the schema tests: a sales rep sees the customers they support and not the
 * employees' birth dates; HR sees every table whole.
 */
const SCHEMA_ACCESS = {
  roles: {
    sales_rep: {
      row_filters: { Customer: 'SupportRepId = {user.employee_id}' },
      columns: { 'Employee.BirthDate': 'deny' },
    },
    hr: {},
  },
}

const CHINOOK_SQLITE = new URL('../../../examples/chinook/chinook.sqlite', import.meta.url).pathname

/** The names of the columns of `table` in `schema`. */
const columnsOf = (schema, table) => schema.tables.find((t) => t.name === table).columns.map((c) => c.name)

const rep = (employeeId) => ({ id: `rep-${employeeId}`, roles: ['sales_rep'], attributes: { employee_id: employeeId } })

describe('users', () => {
  const engine = new Engine()

  test('a conversation belongs to its user', async () => {
    const bob = await engine.ask('Which 5 artists have the most tracks?', { user: { id: 'bob' } })
    const { sessionId } = bob
    // Alice holds Bob's session id, but his conversation is not hers: she has nothing to refine.
    // Her question stays in her own conversation, unanswered.
    const err = await rejection(engine.ask('top 3 instead', { sessionId, user: { id: 'alice' } }))
    assert.equal(err.code, 'CANNOT_ANSWER', err.message)
    const alice = await engine.ask('How many genres are there?', { sessionId, user: { id: 'alice' } })
    assert.deepEqual([alice.sessionId, alice.turn, alice.rows], [sessionId, 2, [[25]]])
    // Bob's conversation goes on where he left it.
    const again = await engine.ask('top 3 instead', { sessionId, user: { id: 'bob' } })
    assert.deepEqual([again.turn, again.rows], [2, TOP5.slice(0, 3)])

    const state = await engine.session(sessionId, { user: { id: 'bob' } })
    assert.deepEqual([state.tenantId, state.userId, state.turnCount], ['default', 'bob', 2])
    assert.deepEqual(
      (await engine.session(sessionId, { user: { id: 'alice' } })).turns.map((t) => [t.question, t.sql === '']),
      [['top 3 instead', true], ['How many genres are there?', false]],
    )
    const mine = await engine.session(sessionId)
    assert.deepEqual([mine.turns.length, mine.userId], [0, undefined], "nor is it the default user's")

    // Alice forgetting her conversation leaves Bob's alone.
    await engine.resetSession(sessionId, { user: { id: 'alice' } })
    assert.equal((await engine.session(sessionId, { user: { id: 'alice' } })).turns.length, 0)
    assert.equal((await engine.session(sessionId, { user: { id: 'bob' } })).turnCount, 2)
  })

  test('the tenant comes from the user or from tenantId', async () => {
    const a = await engine.ask('How many artists are there?', { user: { id: 'ana', tenant: 'acme' } })
    const { sessionId } = a
    const b = await engine.ask('How many albums are there?', { sessionId, tenantId: 'acme', user: { id: 'ana' } })
    const c = await engine.ask('How many genres are there?', {
      sessionId,
      tenantId: 'acme',
      user: { id: 'ana', tenant: 'acme' },
    })
    assert.deepEqual([a.turn, b.turn, c.turn], [1, 2, 3])
    const state = await engine.session(sessionId, { user: { id: 'ana', tenant: 'acme' } })
    assert.deepEqual([state.tenantId, state.userId, state.turnCount], ['acme', 'ana', 3])
    assert.equal((await engine.session(sessionId, { tenantId: 'acme', user: { id: 'ana' } })).turnCount, 3)
    assert.equal((await engine.session(sessionId, { user: { id: 'ana' } })).turns.length, 0)

    const conflict = { tenantId: 'globex', user: { id: 'ana', tenant: 'acme' } }
    for (const call of [
      () => engine.ask('How many artists are there?', conflict),
      () => engine.session(sessionId, conflict),
      () => engine.resetSession(sessionId, conflict),
    ]) {
      const err = await rejection(call())
      assert.equal(err.code, 'INVALID_INPUT')
      assert.match(err.message, /tenant `acme` differs from `tenantId` `globex`/)
    }
    assert.equal((await engine.session(sessionId, { tenantId: 'acme', user: { id: 'ana' } })).turnCount, 3)
  })

  const BAD = [
    ['a string', 'jane', /user: expected an object/],
    ['an array', ['jane'], /user: expected an object/],
    ['an id that is a number', { id: 7 }, /`id` must be a string/],
    ['roles that are not a list', { roles: 'sales_rep' }, /`roles` must be a list of strings/],
    ['a role that is not a string', { roles: ['sales_rep', 3] }, /`roles` must be a list of strings/],
    ['attributes that are a list', { attributes: ['employee_id', 3] }, /`attributes` must be an object/],
    [
      'an attribute that is an object',
      { attributes: { region: { name: 'EU' } } },
      /attribute `region` must be a string, a number, a boolean or a list of them/,
    ],
    ['an unknown key', { name: 'Jane' }, /unknown key `name`/],
  ]
  for (const [what, user, message] of BAD) {
    test(`a user that is ${what} is INVALID_INPUT`, async () => {
      for (const call of [
        () => engine.ask('How many artists are there?', { user }),
        () => engine.session('some-session', { user }),
        () => engine.resetSession('some-session', { user }),
        () => engine.schema({ user }),
      ]) {
        const err = await rejection(call())
        assert.equal(err.code, 'INVALID_INPUT', err.message)
        assert.equal(err.retryable, false)
        assert.match(err.message, message)
      }
    })
  }

  test('null and undefined users are the default user', async () => {
    for (const user of [null, undefined]) {
      const a = await engine.ask('How many genres are there?', { user })
      assert.equal((await engine.session(a.sessionId)).turnCount, 1)
    }
  })
})

describe('data permissions', () => {
  test('a sales rep sees only their customers', async () => {
    const engine = new Engine({ config: { access: ACCESS } })
    const counts = {}
    for (const employee of [3, 4, 5]) {
      counts[employee] = (await engine.ask('How many customers are there?', { user: rep(employee) })).rows
    }
    assert.deepEqual(counts, { 3: [[21]], 4: [[20]], 5: [[18]] })
    const jane = await engine.ask('how many customers are there', {
      user: { id: 'jane', roles: ['sales_rep'], attributes: { employee_id: 3 } },
    })
    assert.deepEqual(jane.rows, [[21]])
    // With roles configured, a user without a known role reads nothing, and is told so.
    for (const user of [undefined, { id: 'nobody' }, { id: 'intern', roles: ['intern'] }]) {
      const err = await rejection(engine.ask('How many customers are there?', { user }))
      assert.equal(err.code, 'INVALID_INPUT', err.message)
      assert.match(err.message, /role/)
    }
  })

  test('a sales rep sees hashed emails and no phones', async (t) => {
    const model = await startFakeOpenAI(writes('SELECT CustomerId, Email, Phone FROM Customer ORDER BY CustomerId'))
    t.after(() => model.close())
    const engine = new Engine({ config: { ...modelConfig(model.baseUrl), access: ACCESS } })
    const jane = await engine.ask('The contacts of my customers', { user: rep(3) })
    assert.equal(jane.rowCount, 21)
    const emails = jane.rows.map((r) => r[1])
    for (const e of emails) assert.ok(typeof e === 'string' && e.length > 0 && !e.includes('@'), e)
    assert.equal(new Set(emails).size, 21, 'a keyed hash keeps distinct emails distinct')
    assert.ok(jane.rows.every((r) => r[2] === null))
    const again = await engine.ask('The contacts of my customers, again', { user: rep(3) })
    assert.deepEqual(again.rows, jane.rows, 'the same email hashes alike in every answer')
  })

  test("a user's schema leaves out the columns their roles deny", async () => {
    const engine = new Engine({ config: { access: SCHEMA_ACCESS } })
    const hr = await engine.schema({ user: { id: 'hannah', roles: ['hr'] } })
    assert.ok(columnsOf(hr, 'Employee').includes('BirthDate'))
    const mine = await engine.schema({ user: rep(3) })
    assert.deepEqual(
      columnsOf(mine, 'Employee'),
      columnsOf(hr, 'Employee').filter((c) => c !== 'BirthDate'),
    )
    // Only the denied column is left out: every table and the other columns are there.
    assert.deepEqual(
      mine.tables.map((t) => t.name),
      hr.tables.map((t) => t.name),
    )
    assert.deepEqual(columnsOf(mine, 'Customer'), columnsOf(hr, 'Customer'))
    // Without a user (or with a null one), the engine's own schema, as before users existed.
    for (const options of [undefined, {}, { user: null }, { user: undefined }]) {
      assert.ok(columnsOf(await engine.schema(options), 'Employee').includes('BirthDate'))
    }
    // With roles configured, a user without a known role may see no table, and is told so.
    for (const user of [{ id: 'nobody' }, { id: 'intern', roles: ['intern'] }]) {
      const err = await rejection(engine.schema({ user }))
      assert.equal(err.code, 'INVALID_INPUT', err.message)
      assert.equal(err.retryable, false)
      assert.match(err.message, /role/)
    }
    const err = await rejection(engine.schema('hr'))
    assert.equal(err.code, 'INVALID_INPUT', err.message)
  })

  test("a user's schema is that of their tenant's database; health lists the tenants", async () => {
    const acme = join(mkdtempSync(join(tmpdir(), 'cbi-node-')), 'acme.sqlite')
    copyFileSync(CHINOOK_SQLITE, acme)
    const engine = new Engine({
      config: { access: SCHEMA_ACCESS, tenants: { acme: { database_url: `sqlite://${acme}` } } },
    })
    // Nobody has asked for acme yet: its pool is not open, and not pinged.
    assert.deepEqual((await engine.health()).tenants, [{ tenantId: 'acme', open: false, dialect: 'sqlite' }])
    const hr = await engine.schema({ user: { id: 'hannah', tenant: 'acme', roles: ['hr'] } })
    assert.deepEqual([hr.database, columnsOf(hr, 'Employee').includes('BirthDate')], ['acme', true])
    const mine = await engine.schema({ user: { ...rep(3), tenant: 'acme' } })
    assert.deepEqual([mine.database, columnsOf(mine, 'Employee').includes('BirthDate')], ['acme', false])
    assert.match((await engine.schema({ user: rep(3) })).database, /^chinook/, "the default tenant's")
    const health = await engine.health()
    assert.equal(health.status, 'ok')
    assert.deepEqual(health.tenants, [{ tenantId: 'acme', open: true, database: true, dialect: 'sqlite' }])
  })
})
