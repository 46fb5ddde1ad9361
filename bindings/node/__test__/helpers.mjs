// Shared helpers of the Node.js tests: a loopback server that speaks the OpenAI
// chat-completions wire format, database URLs, configuration and rejection helpers.

import assert from 'node:assert/strict'
import { createServer } from 'node:http'

/** Chinook on PostgreSQL as the SELECT-only user (scripts/load-test-data.sh). */
export const PG_URL = process.env.CBI_TEST_PG_URL || 'postgres://cbi_ro:cbi_ro@127.0.0.1:5432/chinook'
/** Chinook on MariaDB as the SELECT-only user. */
export const MYSQL_URL = process.env.CBI_TEST_MYSQL_URL || 'mysql://cbi_ro:cbi_ro@127.0.0.1:3306/chinook'

/**
 * Starts a loopback OpenAI-compatible server. `reply(body)` gets the parsed request body and
 * returns either `{ content }` (a completion with that message content) or
 * `{ status, message }` (an OpenAI-style error). Requests that break the documented API
 * (wrong path or method, no JSON body, no model or messages) get a 400 and are recorded.
 */
export async function startFakeOpenAI(reply) {
  const requests = []
  const server = createServer((req, res) => {
    let raw = ''
    req.setEncoding('utf8')
    req.on('data', (chunk) => {
      raw += chunk
    })
    req.on('end', () => {
      let body = null
      try {
        body = JSON.parse(raw)
      } catch {
        body = null
      }
      requests.push({ method: req.method, url: req.url, headers: req.headers, body })
      const send = (status, payload) => {
        res.writeHead(status, { 'content-type': 'application/json', 'x-request-id': `req_${requests.length}` })
        res.end(JSON.stringify(payload))
      }
      const wellFormed =
        req.method === 'POST' &&
        req.url === '/v1/chat/completions' &&
        (req.headers['content-type'] || '').startsWith('application/json') &&
        body &&
        typeof body.model === 'string' &&
        Array.isArray(body.messages) &&
        body.messages.length > 0
      if (!wellFormed) {
        send(400, { error: { message: 'malformed chat-completions request', type: 'invalid_request_error' } })
        return
      }
      const r = reply(body)
      if (r.status) {
        send(r.status, { error: { message: r.message, type: 'api_error', code: null } })
        return
      }
      send(200, {
        id: `chatcmpl-${requests.length}`,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: body.model,
        choices: [{ index: 0, message: { role: 'assistant', content: r.content }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 100, completion_tokens: 20, total_tokens: 120 },
      })
    })
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.()
        server.close(resolve)
      }),
  }
}

/** A model reply that writes `sql`. */
export function writes(sql) {
  return () => ({ content: JSON.stringify({ sql, explanation: 'As asked.' }) })
}

/**
 * The inline configuration of an engine whose generator is the loopback model at `baseUrl`,
 * with no self-correction and no fallback, merged with `extra` (one level deep per section).
 */
export function modelConfig(baseUrl, extra = {}) {
  const config = {
    llm: { provider: 'openai', model: 'gpt-4o-mini', base_url: baseUrl, max_retries: 0, fallback: 'none' },
  }
  for (const [section, values] of Object.entries(extra)) {
    config[section] = { ...(config[section] || {}), ...values }
  }
  return config
}

/** The error `promise` rejects with; fails when it resolves. */
export async function rejection(promise) {
  try {
    const value = await promise
    assert.fail(`expected a rejection, got ${JSON.stringify(value)?.slice(0, 300)}`)
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e
    return e
  }
}
