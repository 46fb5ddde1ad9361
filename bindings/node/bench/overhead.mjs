#!/usr/bin/env node
// Per-question overhead of the Node.js binding over the Rust engine.
//
//   node bench/overhead.mjs [ASKS]        (npm run bench)
//
// Each ask is timed from JavaScript (call → resolved Promise); the engine reports the time it
// spent itself in `timings.total`. The difference is what the binding adds: argument
// conversion, the hop to the tokio runtime and back to the JavaScript thread, building the
// answer object and resolving the Promise. The question runs on the built-in SQLite demo
// database with the offline generator (in process, no network), so nothing but the engine and
// the binding is measured. Asks run one at a time, a new session every 10 asks.

import { Engine } from '../index.mjs'

const asks = Number(process.argv[2] || 5000)
const question = 'How many genres are there?'
const engine = new Engine({ config: { production: { rate_limiting: { enabled: false } } } })
await engine.connect()

async function sample(n, offset) {
  const overhead = []
  const wall = []
  const inside = []
  for (let i = 0; i < n; i++) {
    const sessionId = `bench-${Math.floor((offset + i) / 10)}`
    const t0 = process.hrtime.bigint()
    const a = await engine.ask(question, { sessionId })
    const us = Number(process.hrtime.bigint() - t0) / 1000
    const engineUs = a.timings.total * 1000
    wall.push(us)
    inside.push(engineUs)
    overhead.push(us - engineUs)
  }
  return { overhead, wall, inside }
}

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.round((s.length - 1) * p))]
}
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length

await sample(500, 1_000_000)
const { overhead, wall, inside } = await sample(asks, 0)
const fmt = (x) => `${x.toFixed(1)} µs`
console.log(`asks: ${asks} (one at a time; "${question}" on the SQLite demo database, offline generator)`)
console.log(`ask from JavaScript  p50 ${fmt(pct(wall, 0.5))}  p99 ${fmt(pct(wall, 0.99))}  mean ${fmt(mean(wall))}`)
console.log(`inside the engine    p50 ${fmt(pct(inside, 0.5))}  p99 ${fmt(pct(inside, 0.99))}  mean ${fmt(mean(inside))}`)
console.log(
  `binding overhead     p50 ${fmt(pct(overhead, 0.5))}  p99 ${fmt(pct(overhead, 0.99))}  mean ${fmt(mean(overhead))}  (target ≤ 100 µs)`,
)
