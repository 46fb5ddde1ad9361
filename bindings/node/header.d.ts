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
