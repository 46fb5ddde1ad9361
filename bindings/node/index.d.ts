/* Generated from the Rust sources by scripts/build.mjs (napi-rs); edit header.d.ts or src/, not this file. */
/* eslint-disable */

/**
 * One value of a result row: `null` for SQL NULL, `boolean`, `number` for integers within
 * `Number.MAX_SAFE_INTEGER` and for floats, `bigint` for larger integers, `string` for exact
 * decimals (NUMERIC/DECIMAL keep every digit), text, dates and timestamps (ISO-8601), and
 * `Buffer` for binary values.
 */
export type CellValue = null | boolean | number | bigint | string | Buffer

/** The stable codes of `ConversationalBIError.code`. */
export type ErrorCode =
  | 'CONFIG'
  | 'INVALID_INPUT'
  | 'SQL_REJECTED'
  | 'DATABASE_UNAVAILABLE'
  | 'EXECUTION'
  | 'TIMEOUT'
  | 'PROVIDER'
  | 'CANNOT_ANSWER'
  | 'RATE_LIMITED'
  | 'CIRCUIT_OPEN'
  | 'SERVICE_UNAVAILABLE'
  | 'INTERNAL'

/**
 * What every method throws or rejects with: an `Error` whose `code` is the engine's stable code.
 * Branch on `code`, never on `message`.
 */
export interface ConversationalBIError extends Error {
  code: ErrorCode
  /** Whether the same call may succeed later, unchanged. */
  retryable: boolean
  /** Seconds to wait before trying again (`RATE_LIMITED`, `CIRCUIT_OPEN`). */
  retryAfter?: number
  /** The refused statement (`SQL_REJECTED`). */
  sql?: string
  /** The validator rule that refused it, e.g. `not_a_query` (`SQL_REJECTED`). */
  rule?: string
  /** The configuration key at fault, e.g. `llm.provider` (`CONFIG`, when known). */
  key?: string
  /** The words of the question that were not understood (`CANNOT_ANSWER`). */
  unknownWords?: string[]
  /** The LLM provider that failed (`PROVIDER`). */
  provider?: string
  /** The provider's HTTP status (`PROVIDER`, when it answered). */
  status?: number
}


/** The value of a user attribute: what a row filter of `[access]` can compare with. */
export type UserAttributeValue = string | number | boolean | Array<string | number | boolean>

/**
 * Who asks (the `user` option of `ask`, `session`, `resetSession`, `listSessions`,
 * `renameSession` and `schema`); every key is optional.
 * An unusable value (not an object, `roles` not a list of strings, an attribute that is an
 * object, an unknown key) is an `INVALID_INPUT` error that says which key is wrong.
 */
export interface User {
  /** The user: the conversation is theirs, and no other user can read, continue or reset it. */
  id?: string
  /** The user's tenant (or `tenantId`; two different tenants are an error). */
  tenant?: string
  /** Roles of `[access.roles]`: their policies decide which tables, rows and columns show. */
  roles?: string[]
  /** What the roles' row filters read as `{user.<name>}`. */
  attributes?: Record<string, UserAttributeValue>
}

/**
 * Which binding artifact the generated loader actually loaded: `'native'` for
 * a native addon, otherwise the `platformArchABI` of the WASI flavor. Every
 * flavor napi-rs can build is listed, because `NAPI_RS_NATIVE_LIBRARY_PATH`
 * can point the loader at a WASI artifact this package does not build itself.
 */
export declare const __napiBindingTarget: 'native' | 'wasm32-wasi' | 'wasm32-wasip1'

declare global {
  interface __NapiRsAsyncGenerator<TOwner, T, TReturn, TNext> {
    next(...[value]: [] | [TNext]): globalThis.Promise<globalThis.IteratorResult<T, TReturn | undefined>>
    return(...[value]: [] | [TReturn]): globalThis.Promise<globalThis.IteratorResult<T, TReturn | undefined>>
    throw(exception?: unknown): globalThis.Promise<globalThis.IteratorResult<T, TReturn | undefined>>
    [globalThis.Symbol.asyncIterator](): this
  }
}

/**
 * The events of one question (`engine.askStream(...)`), read with `for await`:
 *
 * ```js
 * for await (const event of engine.askStream('How many tracks are there per genre?')) {
 *   if (event.event === 'stage') console.log('...', event.stage)
 *   else if (event.event === 'answer') console.log(event.answer.rows)
 * }
 * ```
 *
 * A question that fails makes the loop throw the error `ask` would reject with (`code`,
 * `retryable`, `retryAfter`). Leaving the loop early (`break`, `return`, an exception), or
 * `close()`, cancels the work that remains, the statement running on the database included.
 *
 * This type implements JavaScript's async iterable protocol.
 * It can be used with `for await...of` loops.
 *
 * @see https://developer.mozilla.org/en-US/docs/Web/JavaScript/Reference/Iteration_protocols#the_async_iterator_and_async_iterable_protocols
 */
export declare class AskStream {
  /**
   * Cancels the work that remains (the statement running on the database included); the
   * iteration ends. Closing a finished stream does nothing.
   */
  close(): void
  [globalThis.Symbol.asyncIterator](): globalThis.__NapiRsAsyncGenerator<AskStream, AskEvent, void, undefined>
}

/**
 * The engine: ask questions in plain words, refine them over many turns, get safe read-only SQL,
 * an explanation and the result.
 */
export declare class Engine {
  /**
   * Checks the options and the configuration, throwing a `CONFIG` error at once when they
   * are wrong. The database is connected by the first call (or by `connect()`).
   */
  constructor(options?: EngineOptions | undefined | null)
  /**
   * An engine configured by the TOML file at `path`; `options.databaseUrl` still overrides
   * the file's database.
   */
  static fromConfig(path: string, options?: EngineOptions | undefined | null): Engine
  /**
   * Connects to the database now rather than at the first call; rejects with the
   * connection's error (e.g. `DATABASE_UNAVAILABLE`), and the next call tries again.
   * Optional: every other method connects by itself.
   */
  connect(): Promise<void>
  /**
   * Answers one question. Pass the `sessionId` of an earlier answer to ask a follow-up
   * ("top 3 instead", "only 2024"). With `removeScope` (the `id` of one of the last answer's
   * `scope` items) and an empty question, asks for the conversation's last answer without
   * that part, as a new turn: `ask('', { sessionId, removeScope: 'limit' })`.
   */
  ask(question: string, options?: AskOptions): Promise<Answer>
  /**
   * Answers one question as `ask` does (same arguments), yielding its progress while it
   * works: `{ event: 'stage', stage }` as each stage begins, then `{ event: 'sql', sql }` and
   * `{ event: 'rows', columns, rows, truncated }`, then `{ event: 'answer', answer }` (the
   * answer `ask` resolves with) last. Read it with `for await`; a question that fails makes
   * the loop throw the error `ask` would reject with. Returns at once: the question starts
   * at the first event read. Leaving the loop early cancels the work that remains, the
   * statement running on the database included.
   */
  askStream(question: string, options?: AskOptions): AskStream
  /**
   * The state of a conversation of the user (`options.user`, else the default user): its
   * turns, oldest first (empty when it does not exist or is another user's).
   */
  session(sessionId: string, options?: TenantOptions): Promise<SessionState>
  /**
   * Forgets a conversation of the user; the next question with its id starts afresh (another
   * user's conversation under the same id is left alone).
   */
  resetSession(sessionId: string, options?: TenantOptions): Promise<void>
  /**
   * The live conversations of the user (`options.user`, else the default user), most
   * recently given a turn first, at most `options.limit` (1 to 200, default 50): their ids,
   * titles, times and turn counts, for a sidebar. Another user's conversations are never
   * listed, nor reset or expired ones. A limit outside 1 to 200 rejects with
   * `INVALID_INPUT`.
   */
  listSessions(options?: ListSessionsOptions): Promise<SessionSummary[]>
  /**
   * Gives a conversation of the user a title, which `listSessions` shows instead of its
   * first question, and resolves with the conversation as lists show it; with `null` when
   * the user has no such conversation (it never existed, expired, was reset, or is another
   * user's: that one is left alone). A title that is empty, over 120 characters or not on
   * one line rejects with `INVALID_INPUT`. Renaming does not move the conversation up the
   * list.
   */
  renameSession(sessionId: string, title: string, options?: TenantOptions): Promise<SessionSummary | null>
  /**
   * Rates one turn of a conversation of the user: `'up'` when the answer was right,
   * `'down'` when it was wrong (with `correctedSql`, the SQL that answers the question, and
   * a `comment`). Resolves with the stored record, which carries the turn's question and
   * SQL. Rejects with `INVALID_INPUT` for a session the user does not have or a turn it does
   * not have, and with `SQL_REJECTED` (the validator's reason) for a correction that writes
   * or reads what the user may not; nothing is stored then. Needs `[feedback]` (by default
   * an SQLite file, created at the first feedback).
   */
  feedback(feedback: FeedbackOptions): Promise<Feedback>
  /**
   * The schema the engine sees: tables, columns, keys; tables outside `allowed_tables` and
   * columns in `denied_columns` are left out. With `options.user`, the schema that user may
   * see: the tables their roles grant, without the columns those roles deny, in the database
   * of their tenant (a user without any configured role rejects with `INVALID_INPUT`).
   */
  schema(options?: SchemaOptions): Promise<Schema>
  /**
   * Checks the database and reports the configured generator, and the database of each
   * `[tenants.<id>]` (`tenants`, empty without tenants).
   */
  health(): Promise<Health>
}

/** The engine's reply to one question. */
export interface Answer {
  /** The SQL that ran (validated, comments stripped, row cap applied). */
  sql: string
  /** What the SQL does, in plain words. */
  explanation: string
  /** Result columns. */
  columns: Array<Column>
  /** Result rows, one array of values per row (see `CellValue`). */
  rows: CellValue[][]
  /** Number of rows returned. */
  rowCount: number
  /** Whether the row cap cut the result. */
  truncated: boolean
  /** Whether the SQL came from the semantic cache. */
  cacheHit: boolean
  /** Similarity to the cached question, on a cache hit. */
  similarity?: number
  /** Which generator wrote the SQL (`rule`, `openai:gpt-4o-mini`, ...). */
  generator: string
  /** Whether a fallback answered because the configured generator was unavailable. */
  degraded: boolean
  /** Every try, in order; the last one succeeded. */
  attempts: Array<Attempt>
  /** Milliseconds per stage (`guard`, `session`, `generate`, `validate`, `execute`, `total`, ...). */
  timings: Record<string, number>
  /** The conversation this answer belongs to: pass it as `sessionId` to ask a follow-up. */
  sessionId: string
  /** The 1-based number of this turn in the conversation. */
  turn: number
  /** A chart that suits the result. */
  chart?: Chart
  /** Things the user should know (e.g. the result was cut at the row cap). */
  warnings: Array<string>
  /**
   * `answer`, or `clarification` when the engine asks which reading was meant (then nothing
   * ran and `clarification` holds the question and its options).
   */
  kind: 'answer' | 'clarification'
  /** Whether a verified query (a question someone checked) answered. */
  verified: boolean
  /** Two or three follow-ups to ask next. */
  suggestions: Array<string>
  /**
   * The parts of the query in force after this answer (its conditions, groupings, sort and
   * limit), each removable as the next turn with `ask('', { sessionId, removeScope: id })`;
   * empty when the generator keeps no structured form of the SQL (a model).
   */
  scope: Array<ScopeItem>
  /** The question back, when `kind` is `clarification`. */
  clarification?: Clarification
}

/**
 * One event of a question, in the order the engine reaches them:
 *
 * - `{ event: 'stage', stage }` as each stage of the pipeline begins (`guard`, `session`,
 *   `generate`, `save`, ..., as named in `Answer.timings`);
 * - `{ event: 'sql', sql }`: the statement, as the validator passed it and the database ran it;
 * - `{ event: 'rows', columns, rows, truncated }`: the result (at most `[database] max_rows`
 *   rows; values as in `Answer.rows`), and whether the row cap cut it;
 * - `{ event: 'answer', answer }`: the whole answer, as `ask` resolves with it; the last event.
 */
export type AskEvent =
  | { event: 'stage'; stage: string }
  | { event: 'sql'; sql: string }
  | { event: 'rows'; columns: Array<Column>; rows: CellValue[][]; truncated: boolean }
  | { event: 'answer'; answer: Answer }

/** Options of one question. */
export interface AskOptions {
  /**
   * The conversation to continue (the `sessionId` of an earlier answer); a new one is started
   * when absent.
   */
  sessionId?: string
  /** The tenant asking; the user's `tenant`, else `default`, when absent. */
  tenantId?: string
  /**
   * Who asks: the conversation is theirs (no other user can continue it), and the roles of
   * `[access]` decide which rows and columns the answer shows. The engine's default user
   * when absent.
   */
  user?: User
  /**
   * Instead of a question, the conversation's last answer without one of its parts: the `id`
   * of one of that answer's `scope` items (`filter:0`, `group:1`, `order`, `limit`, ...).
   * Needs `sessionId` and an empty question; the answer is a new turn of the conversation.
   * An id that names no part of the last answer rejects with `INVALID_INPUT`, and nothing
   * runs.
   */
  removeScope?: string
}

/** One try of the generator. */
export interface Attempt {
  /** The SQL as the generator wrote it. */
  sql: string
  /** Why this try failed; absent for the try that succeeded. */
  error?: string
}

/** A chart that suits the result. */
export interface Chart {
  /** `bar`, `line`, `pie`, `scatter` or `stacked_bar`. */
  kind: string
  /**
   * The category or time column the chart is drawn along (the first measure of a scatter
   * plot).
   */
  x: string
  /** The measure (the second measure of a scatter plot). */
  y: string
  /**
   * The chart's complete Vega-Lite v6 specification, the rows inline (`data.values`): pass
   * it to `vegaEmbed`.
   */
  vegaLite: Record<string, any>
}

/** A question back to the asker, with the readings to choose from. */
export interface Clarification {
  /** What the engine asks. */
  question: string
  /** The readings. */
  options: Array<ClarificationOption>
}

/** One reading of an ambiguous question. */
export interface ClarificationOption {
  /** The reply that picks it (send it as the next question). */
  label: string
  /** What it means. */
  detail: string
}

/** A result column. */
export interface Column {
  /** The column's label in the result. */
  name: string
  /** The database's type name for it (e.g. `INTEGER`, `numeric`). */
  type: string
}

/**
 * How to build an engine. Every field is optional: `new Engine()` answers on the built-in demo
 * database with the offline generator.
 */
export interface EngineOptions {
  /**
   * The database to query (`sqlite:///path.db`, `postgres://...`, `mysql://...`); overrides
   * `[database] url` and `DATABASE_URL`.
   */
  databaseUrl?: string
  /** A configuration file (the runbook's TOML); the environment overrides it as documented. */
  configPath?: string
  /**
   * The configuration inline: TOML text, or an object with the file's sections and keys as
   * written in the file (snake_case), e.g. `{ llm: { provider: 'rule' }, database: { max_rows: 100 } }`.
   * Exclusive with `configPath`.
   */
  config?: string | Record<string, unknown>
}

/** A stored feedback record: a user's rating of one turn of their conversation. */
export interface Feedback {
  /** Its id (a UUID). */
  id: string
  /** The tenant of the conversation. */
  tenantId: string
  /** The user who gave it (empty for the engine's default user). */
  userId: string
  /** The conversation. */
  sessionId: string
  /** The turn rated. */
  turn: number
  /** `'up'` or `'down'`. */
  rating: 'up' | 'down'
  /** The turn's question (read from the conversation). */
  question: string
  /** The turn's SQL: the answer rated. */
  sql: string
  /** The user's corrected SQL, validated under their data permissions. */
  correctedSql?: string
  /** The user's comment. */
  comment?: string
  /** `'new'`, then `'promoted'` or `'dismissed'` once an admin acted on it. */
  status: 'new' | 'promoted' | 'dismissed'
  /** When it was given (RFC 3339, UTC). */
  createdAt: string
}

/** What a user says about one turn of one of their conversations (`engine.feedback(...)`). */
export interface FeedbackOptions {
  /** The conversation (the `sessionId` of the answer rated); one of the user's own. */
  sessionId: string
  /** The turn rated (the `turn` of the answer, 1-based). */
  turn: number
  /** `'up'` (the answer was right) or `'down'` (it was wrong). */
  rating: 'up' | 'down'
  /**
   * The SQL that answers the question, when the answer was wrong; it must pass the
   * validator under the user's data permissions (`SQL_REJECTED` otherwise).
   */
  correctedSql?: string
  /** Free text (at most `[feedback] max_comment_chars` characters). */
  comment?: string
  /** The tenant; the user's `tenant`, else `default`, when absent. */
  tenantId?: string
  /** Who rates: the conversation must be theirs. The engine's default user when absent. */
  user?: User
}

/** A foreign key: `columns` reference `referencedColumns` of `referencedTable`. */
export interface ForeignKey {
  /** Columns of the owning table. */
  columns: Array<string>
  /** Schema of the referenced table (PostgreSQL only). */
  referencedSchema?: string
  /** The referenced table. */
  referencedTable: string
  /** Columns of the referenced table, matching `columns` one to one. */
  referencedColumns: Array<string>
}

/** The engine's health. */
export interface Health {
  /** `ok` when every check passed, `degraded` otherwise. */
  status: string
  /** The engine's version. */
  version: string
  /** Whether the database answered. */
  database: boolean
  /** The database's error, when it did not. */
  databaseError?: string
  /** The generator that answers: `rule`, or the provider and model (e.g. `openai:gpt-4o`). */
  generator: string
  /**
   * The database of each `[tenants.<id>]`, in the order of their ids (empty without
   * tenants); a tenant whose database is down makes the status `degraded`.
   */
  tenants: Array<TenantHealth>
}

/** Options of `listSessions`: how many conversations, and whose. */
export interface ListSessionsOptions {
  /**
   * At most this many conversations, the most recent: a whole number from 1 to 200 (default
   * 50).
   */
  limit?: number
  /** The tenant; the user's `tenant`, else `default`, when absent. */
  tenantId?: string
  /**
   * The user whose conversations are listed (only `id` and `tenant` matter here); the
   * engine's default user when absent.
   */
  user?: User
}

/** The schema the engine sees. */
export interface Schema {
  /** `sqlite`, `postgres` or `mysql`. */
  dialect: string
  /** The database's name. */
  database: string
  /** Tables and views, sorted by schema then name. */
  tables: Array<SchemaTable>
  /** A short hash that changes whenever the schema changes. */
  fingerprint: string
}

/** A column of a table or view. */
export interface SchemaColumn {
  /** The column's name, exactly as the database spells it. */
  name: string
  /** The declared SQL type. */
  dataType: string
  /** Whether the column accepts NULL. */
  nullable: boolean
  /** The column's comment, where the database has one. */
  comment?: string
}

/** Options of `schema`. */
export interface SchemaOptions {
  /**
   * Whose schema: the tables their roles grant, without the columns those roles deny, in the
   * database of their tenant. The engine's own schema when absent.
   */
  user?: User
}

/** A table or view. */
export interface SchemaTable {
  /** The schema (namespace) for PostgreSQL; absent for SQLite and MySQL. */
  schema?: string
  /** The table's name, exactly as the database spells it. */
  name: string
  /** `table` or `view`. */
  kind: string
  /** Columns in declaration order. */
  columns: Array<SchemaColumn>
  /** Primary-key column names, in key order. */
  primaryKey: Array<string>
  /** Foreign keys from this table to others. */
  foreignKeys: Array<ForeignKey>
  /** The table's comment, where the database has one. */
  comment?: string
}

/**
 * One removable part of the query an answer ran: what a front end shows as a chip under the
 * answer. Pass its `id` as `removeScope` to ask for the answer without it.
 */
export interface ScopeItem {
  /**
   * Names the part within its answer: `filter:0`, `having:0`, `group:1` (by position),
   * `order` or `limit`.
   */
  id: string
  /**
   * `filter` (a condition on rows), `having` (a condition on a computed value), `group`,
   * `order` or `limit`.
   */
  kind: 'filter' | 'having' | 'group' | 'order' | 'limit'
  /**
   * The part in plain words, as the explanation words it (`genre name is Rock`,
   * `by invoice billing country`, `top 5`).
   */
  label: string
}

/** The state of one conversation. */
export interface SessionState {
  /** The owning tenant. */
  tenantId: string
  /** The owning user; absent for the engine's default user. */
  userId?: string
  /** The session id. */
  sessionId: string
  /** The most recent turns, oldest first. */
  turns: Array<Turn>
  /** Turns answered over the whole life of the session, including those no longer kept. */
  turnCount: number
}

/**
 * What a list of conversations (a sidebar) shows of one of them (`listSessions`,
 * `renameSession`).
 */
export interface SessionSummary {
  /**
   * The session id: pass it as `sessionId` to continue, read, rename or reset the
   * conversation.
   */
  sessionId: string
  /**
   * The title given with `renameSession`, else the conversation's first question (at most
   * 80 characters of it).
   */
  title: string
  /** When its first turn was answered (RFC 3339, UTC). */
  createdAt: string
  /** When its last turn was answered (RFC 3339, UTC); lists are ordered by it, newest first. */
  updatedAt: string
  /** Turns answered over the whole life of the conversation. */
  turnCount: number
}

/**
 * The health of one `[tenants.<id>]` database. A tenant's pool opens at its first question,
 * so a tenant nobody has asked for yet is not open and is not pinged.
 */
export interface TenantHealth {
  /** The tenant, as in `[tenants.<id>]`. */
  tenantId: string
  /** Whether the tenant's pool is open now. */
  open: boolean
  /** Whether the database answered; absent when the pool is not open (it is not pinged). */
  database?: boolean
  /** What failed: the ping of an open pool, or the last connection attempt when it failed. */
  error?: string
  /** `sqlite`, `postgres` or `mysql`: the connected database's, else the URL's. */
  dialect?: string
}

/** Options that pick a conversation's owner: a tenant and a user. */
export interface TenantOptions {
  /** The tenant; the user's `tenant`, else `default`, when absent. */
  tenantId?: string
  /**
   * The user whose conversation it is (only `id` and `tenant` matter here); the engine's
   * default user when absent.
   */
  user?: User
}

/** One answered question of a conversation. */
export interface Turn {
  /** 1-based turn number within the session. */
  turn: number
  /** The question as asked (after the input guard). */
  question: string
  /** The SQL that answered it. */
  sql: string
  /** What the SQL does. */
  explanation: string
  /** Names of the result's columns. */
  columns: Array<string>
  /** Rows returned. */
  rowCount: number
  /** The generator that wrote the SQL. */
  generator: string
  /** When the turn was answered (RFC 3339). */
  at: string
}
