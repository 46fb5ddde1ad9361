// The exact shape of answers, pinned: keys and their order, types, absent optional fields.
// An answer reaches JavaScript as JSON when JSON can carry every value, and field by field when
// it holds a bigint, a Buffer or a non-finite number; both must give the objects written here,
// which are what the field-by-field conversion always gave.

import assert from 'node:assert/strict'
import { describe, test } from 'node:test'

import { Engine } from '../index.mjs'
import { PG_URL, modelConfig, startFakeOpenAI, writes } from './helpers.mjs'

// An embedded engine has no rate limit unless configured, so no `rate_limit` stage.
const STAGES = ['cache', 'execute', 'generate', 'guard', 'insight', 'save', 'session', 'suggest', 'total', 'validate']

/**
 * Asserts that `actual` is `expected` (strictly: types, prototypes, -0, bigint, Buffer), with
 * the same keys in the same order at every level, each a writable, enumerable, configurable
 * data property. `sessionId` and `timings` vary between runs: they are checked for their form
 * and left out of the comparison, as are the suggested follow-ups.
 */
function assertAnswer(actual, expected) {
  assert.match(actual.sessionId, /^[0-9a-f-]{36}$/)
  assert.equal(Object.getPrototypeOf(actual.timings), Object.prototype)
  // `verified` is there when the database has a semantic model with verified queries (the
  // demo's has).
  assert.deepEqual(Object.keys(actual.timings).filter((k) => k !== 'verified').sort(), STAGES)
  for (const ms of Object.values(actual.timings)) assert.ok(Number.isFinite(ms) && ms >= 0, `timing ${ms}`)
  // Suggested follow-ups are the engine's to choose: checked for their form, left out.
  assert.ok(Array.isArray(actual.suggestions) && actual.suggestions.every((s) => typeof s === 'string'))
  const pinned = (a) => ({ ...a, sessionId: 'S', timings: {}, suggestions: [] })
  assert.deepStrictEqual(pinned(actual), pinned(expected))
  assertSameKeys(pinned(actual), pinned(expected), 'answer')
  assertPlainProperties(actual, 'answer')
}

function assertSameKeys(actual, expected, path) {
  if (Array.isArray(expected)) {
    expected.forEach((e, i) => assertSameKeys(actual[i], e, `${path}[${i}]`))
  } else if (expected !== null && typeof expected === 'object' && !Buffer.isBuffer(expected)) {
    assert.deepEqual(Object.keys(actual), Object.keys(expected), `the keys of ${path}, in order`)
    for (const k of Object.keys(expected)) assertSameKeys(actual[k], expected[k], `${path}.${k}`)
  }
}

function assertPlainProperties(value, path) {
  if (value === null || typeof value !== 'object' || Buffer.isBuffer(value)) return
  for (const key of Reflect.ownKeys(value)) {
    const d = Object.getOwnPropertyDescriptor(value, key)
    if (Array.isArray(value) && key === 'length') continue
    assert.deepEqual(
      [typeof key, 'value' in d, d.writable, d.enumerable, d.configurable],
      ['string', true, true, true, true],
      `${path}.${String(key)} is a plain data property`,
    )
    assertPlainProperties(value[key], `${path}.${String(key)}`)
  }
}

const TOP5_SQL =
  'SELECT Artist.Name, COUNT(*) AS count FROM Track JOIN Album ON Track.AlbumId = Album.AlbumId JOIN Artist ON Album.ArtistId = Artist.ArtistId GROUP BY Artist.ArtistId, Artist.Name ORDER BY COUNT(*) DESC LIMIT 5'

const TOP5 = {
  sql: TOP5_SQL,
  explanation:
    'Computes the number of tracks for each artist (shown by name), sorted by the number of tracks (largest first), keeping the first 5.',
  columns: [
    { name: 'Name', type: 'TEXT' },
    { name: 'count', type: 'INTEGER' },
  ],
  rows: [
    ['Iron Maiden', 213],
    ['U2', 135],
    ['Led Zeppelin', 114],
    ['Metallica', 112],
    ['Deep Purple', 92],
  ],
  rowCount: 5,
  truncated: false,
  cacheHit: false,
  generator: 'rule',
  degraded: false,
  attempts: [{ sql: TOP5_SQL }],
  timings: {},
  sessionId: 'S',
  turn: 1,
  warnings: [],
  kind: 'answer',
  verified: false,
  suggestions: [],
  scope: [
    { id: 'group:0', kind: 'group', label: 'by artist' },
    { id: 'order', kind: 'order', label: 'sorted by the number of tracks, largest first' },
    { id: 'limit', kind: 'limit', label: 'top 5' },
  ],
  chart: { kind: 'bar', x: 'Name', y: 'count' },
}

const VEGA_LITE_SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json'

/**
 * Asserts that the answer's chart has a Vega-Lite specification with its schema, a mark and one
 * data value per row, and returns `expected` with that specification as its chart's `vegaLite`
 * (the engine's own unit tests pin the specification itself).
 */
function withChartSpec(expected, actual) {
  const spec = actual.chart.vegaLite
  assert.equal(spec.$schema, VEGA_LITE_SCHEMA)
  assert.equal(typeof spec.mark.type, 'string')
  assert.equal(spec.mark.tooltip, true)
  assert.equal(spec.data.values.length, actual.rows.length, 'one data value per row')
  return { ...expected, chart: { ...expected.chart, vegaLite: spec } }
}

/** An answer of the loopback model: its SQL as run, one successful attempt, no chart. */
function modelAnswer(sql, columns, rows, extra = {}) {
  return {
    sql: `${sql} LIMIT 1000`,
    explanation: 'As asked.',
    columns: columns.map(([name, type]) => ({ name, type })),
    rows,
    rowCount: rows.length,
    truncated: false,
    cacheHit: false,
    generator: 'openai:gpt-4o-mini',
    degraded: false,
    attempts: [{ sql }],
    timings: {},
    sessionId: 'S',
    turn: 1,
    warnings: [],
    kind: 'answer',
    verified: false,
    suggestions: [],
    scope: [],
    ...extra,
  }
}

/** Asks `question` of an engine whose loopback model writes `sql` (or replies as `reply`). */
async function askModel(t, sqlOrReply, { question = 'show me the values', config = {}, databaseUrl } = {}) {
  const model = await startFakeOpenAI(typeof sqlOrReply === 'string' ? writes(sqlOrReply) : sqlOrReply)
  t.after(() => model.close())
  const engine = new Engine({ databaseUrl, config: modelConfig(model.baseUrl, config) })
  return engine.ask(question)
}

/** A model reply that writes `first`, then `then` for every later request. */
function firstThen(first, then) {
  let calls = 0
  return () => writes(calls++ === 0 ? first : then)()
}

describe('answers that JSON carries', () => {
  test('Chinook: a ranking with a chart, then the same question from the semantic cache', async () => {
    const engine = new Engine()
    const first = await engine.ask('Which 5 artists have the most tracks?')
    assertAnswer(first, withChartSpec(TOP5, first))
    const spec = first.chart.vegaLite
    assert.deepEqual(
      spec.data.values,
      TOP5.rows.map(([Name, count]) => ({ Name, count })),
    )
    assert.deepEqual([spec.mark.type, spec.encoding.y.field, spec.encoding.x.field], ['bar', 'count', 'Name'])
    assert.ok(!('similarity' in first), 'no similarity without a cache hit')
    assert.ok(!('error' in first.attempts[0]), 'no error on the attempt that succeeded')

    const cached = await engine.ask('Which 5 artists have the most tracks?')
    // similarity comes after the fields that are always there, before chart.
    const { chart, ...rest } = withChartSpec(TOP5, cached)
    assertAnswer(cached, { ...rest, cacheHit: true, similarity: 1, chart })
    assert.deepStrictEqual(cached.chart.vegaLite, spec)
  })

  test('Chinook: a count has no chart; a cut result has its warning', async () => {
    const engine = new Engine({ config: { database: { max_rows: 2 } } })
    const count = await engine.ask('How many genres are there?')
    assertAnswer(count, {
      sql: 'SELECT COUNT(*) AS count FROM Genre LIMIT 2',
      explanation: 'Computes the number of genres.',
      columns: [{ name: 'count', type: 'INTEGER' }],
      rows: [[25]],
      rowCount: 1,
      truncated: false,
      cacheHit: false,
      generator: 'rule',
      degraded: false,
      attempts: [{ sql: 'SELECT COUNT(*) AS count FROM Genre' }],
      timings: {},
      sessionId: 'S',
      turn: 1,
      warnings: [],
      kind: 'answer',
      verified: false,
      suggestions: [],
      scope: [],
    })
    assert.ok(!('chart' in count) && !('similarity' in count))

    const genres = await engine.ask('List the genres', { sessionId: count.sessionId })
    assertAnswer(genres, {
      sql: 'SELECT Name FROM Genre LIMIT 2',
      explanation: 'Lists the genre name of genres.',
      columns: [{ name: 'Name', type: 'TEXT' }],
      rows: [['Rock'], ['Jazz']],
      rowCount: 2,
      truncated: true,
      cacheHit: false,
      generator: 'rule',
      degraded: false,
      attempts: [{ sql: 'SELECT Name FROM Genre' }],
      timings: {},
      sessionId: 'S',
      turn: 2,
      warnings: ['the result was cut at 2 rows ([database] max_rows); ask for fewer rows or a summary'],
      kind: 'answer',
      verified: false,
      suggestions: [],
      scope: [],
    })
  })

  test('SQLite: numbers (-0 and the extremes included), null, text that needs escaping', async (t) => {
    const sql =
      "SELECT 1 AS a, 9007199254740991 AS safe, -9007199254740991 AS nsafe, 2.0 AS f, -0.0 AS z, 0.1 AS g, 1e300 AS h, 5e-324 AS tiny, NULL AS n, 'é😀\"\\\u0001\n\t<' AS t, '' AS e"
    const a = await askModel(t, sql)
    assertAnswer(
      a,
      modelAnswer(
        sql,
        [
          ['a', 'INTEGER'],
          ['safe', 'INTEGER'],
          ['nsafe', 'INTEGER'],
          ['f', 'REAL'],
          ['z', 'REAL'],
          ['g', 'REAL'],
          ['h', 'REAL'],
          ['tiny', 'REAL'],
          ['n', 'NULL'],
          ['t', 'TEXT'],
          ['e', 'TEXT'],
        ],
        [[1, 9007199254740991, -9007199254740991, 2, -0, 0.1, 1e300, 5e-324, null, 'é😀"\\\u0001\n\t<', '']],
      ),
    )
  })

  test('a failed attempt keeps its error, the successful one has none', async (t) => {
    const bad = 'SELECT Nope FROM Genre'
    const good = 'SELECT COUNT(*) AS n FROM Genre'
    const a = await askModel(t, firstThen(bad, good), {
      config: { llm: { max_retries: 1 } },
    })
    assert.equal(a.attempts.length, 2)
    assert.match(a.attempts[0].error, /Nope/)
    assertAnswer(
      a,
      modelAnswer(good, [['n', 'INTEGER']], [[25]], {
        attempts: [{ sql: bad, error: a.attempts[0].error }, { sql: good }],
      }),
    )
    assert.ok(!('error' in a.attempts[1]))
  })

  test('PostgreSQL: boolean, exact decimals as strings, dates, null', async (t) => {
    const sql =
      "SELECT true AS yes, CAST(1.50 AS NUMERIC(10, 2)) AS d, CAST('2024-01-02' AS DATE) AS day, CAST(NULL AS INTEGER) AS n, CAST(2.5 AS FLOAT8) AS f, 9007199254740991 AS safe"
    const a = await askModel(t, sql, { databaseUrl: PG_URL })
    assertAnswer(
      a,
      modelAnswer(
        sql,
        [
          ['yes', 'BOOL'],
          ['d', 'NUMERIC'],
          ['day', 'DATE'],
          ['n', 'INT4'],
          ['f', 'FLOAT8'],
          ['safe', 'INT8'],
        ],
        [[true, '1.50', '2024-01-02', null, 2.5, 9007199254740991]],
      ),
    )
  })
})

describe('answers that JSON cannot carry, converted field by field', () => {
  test('SQLite: bigint beyond 2^53 and Buffer beside plain values', async (t) => {
    const sql =
      "SELECT 9007199254740993 AS big, -9007199254740993 AS neg, 9007199254740991 AS safe, 12.5 AS f, -0.0 AS z, NULL AS n, X'CAFE' AS b, X'' AS empty, 'x' AS t"
    const a = await askModel(t, sql)
    assertAnswer(
      a,
      modelAnswer(
        sql,
        [
          ['big', 'INTEGER'],
          ['neg', 'INTEGER'],
          ['safe', 'INTEGER'],
          ['f', 'REAL'],
          ['z', 'REAL'],
          ['n', 'NULL'],
          ['b', 'BLOB'],
          ['empty', 'BLOB'],
          ['t', 'TEXT'],
        ],
        [[9007199254740993n, -9007199254740993n, 9007199254740991, 12.5, -0, null, Buffer.from([0xca, 0xfe]), Buffer.alloc(0), 'x']],
      ),
    )
  })

  test('a chart beside a bigint: its Vega-Lite data holds numbers, one value per row', async (t) => {
    const sql = "SELECT 'a' AS k, 9007199254740993 AS big UNION ALL SELECT 'b', 2"
    const a = await askModel(t, sql)
    assert.equal(typeof a.rows[0][1], 'bigint', 'converted field by field')
    const { chart } = withChartSpec({ chart: { kind: 'bar', x: 'k', y: 'big' } }, a)
    assert.deepStrictEqual(a.chart, chart)
    assert.deepStrictEqual(a.chart.vegaLite.data.values, [
      { big: 9007199254740992, k: 'a' },
      { big: 2, k: 'b' },
    ])
    assertPlainProperties(a.chart, 'chart')
  })

  test('SQLite: infinite numbers stay numbers', async (t) => {
    const sql = 'SELECT 1e308 * 10 AS inf, -1e308 * 10 AS ninf, 1 AS one'
    const a = await askModel(t, sql)
    assertAnswer(
      a,
      modelAnswer(
        sql,
        [
          ['inf', 'REAL'],
          ['ninf', 'REAL'],
          ['one', 'INTEGER'],
        ],
        [[Infinity, -Infinity, 1]],
      ),
    )
  })

  test('a failed attempt keeps its error there too', async (t) => {
    const bad = 'SELECT Nope FROM Genre'
    const good = "SELECT X'00' AS b"
    const a = await askModel(t, firstThen(bad, good), {
      config: { llm: { max_retries: 1 } },
    })
    assert.match(a.attempts[0].error, /Nope/)
    assertAnswer(
      a,
      modelAnswer(good, [['b', 'BLOB']], [[Buffer.from([0])]], {
        attempts: [{ sql: bad, error: a.attempts[0].error }, { sql: good }],
      }),
    )
    assert.ok(!('error' in a.attempts[1]) && !('chart' in a) && !('similarity' in a))
  })

  test('PostgreSQL: a bigint beside exact decimals and dates', async (t) => {
    const sql = "SELECT CAST(1.50 AS NUMERIC(10, 2)) AS d, CAST('2024-01-02' AS DATE) AS day, 9007199254740993 AS big"
    const a = await askModel(t, sql, { databaseUrl: PG_URL })
    assertAnswer(
      a,
      modelAnswer(
        sql,
        [
          ['d', 'NUMERIC'],
          ['day', 'DATE'],
          ['big', 'INT8'],
        ],
        [['1.50', '2024-01-02', 9007199254740993n]],
      ),
    )
  })
})
