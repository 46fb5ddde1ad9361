#!/usr/bin/env node
// Asks a question and a follow-up from Node.js.
//
//   cd examples/node && npm ci && node ask.mjs ["question"] ["follow-up"]
//
// With no options the engine answers on its built-in demo database (Chinook) with the offline
// generator: no database server, no API key, no network. Point it at your own database with
// `new Engine({ databaseUrl: 'postgres://...' })`, or at a configuration file with
// `Engine.fromConfig('conversational-bi.toml')`.

import { Engine } from '@heliosdb/conversational-bi'

const [question = 'Which 5 artists have the most tracks?', followUp = 'top 3 instead'] = process.argv.slice(2)

/** Prints an answer: the SQL, what it does, and the rows as a table. */
function show(label, answer) {
  console.log(`\n${label} (turn ${answer.turn}, ${answer.timings.total.toFixed(1)} ms, ${answer.generator})`)
  console.log(`  SQL:  ${answer.sql}`)
  console.log(`  What: ${answer.explanation}`)
  console.table(
    answer.rows.map((row) => Object.fromEntries(answer.columns.map((c, i) => [c.name, row[i]]))),
  )
}

const engine = new Engine()

try {
  const first = await engine.ask(question)
  show(`> ${question}`, first)
  // A follow-up continues the conversation of the first answer.
  const second = await engine.ask(followUp, { sessionId: first.sessionId })
  show(`> ${followUp}`, second)
} catch (err) {
  // Every error has a stable `code`; branch on it, not on the message.
  if (err.code === 'CANNOT_ANSWER') {
    console.error(`The offline generator did not understand: ${err.unknownWords.join(', ')}`)
  } else if (err.code === 'RATE_LIMITED') {
    console.error(`Too many questions: try again in ${err.retryAfter} s`)
  } else {
    console.error(`${err.code}: ${err.message}`)
  }
  process.exitCode = 1
}
