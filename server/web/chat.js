// <conversational-bi-chat>: the chat of HeliosDB Conversational BI as a web component.
//
//   <script type="module" src="https://bi.example.com/embed.js"></script>
//   <conversational-bi-chat server="https://bi.example.com" token="..."></conversational-bi-chat>
//
// Attributes: `server` (the API's origin; default: the page's), `token` (a bearer token; also
// settable as the `token` property), `session-id` (the conversation to continue), `roles`
// (comma-separated; `analyst` or `admin` shows the SQL editor — the server checks roles either
// way).
// Events (bubbling, composed): `cbi-session` {sessionId} when a conversation starts or
// changes, `cbi-answer` {answer}, `cbi-unauthorized` when the token is refused.
//
// Everything that comes from the server (answers, database values, column names, messages) is
// put into the page as text, never as HTML.

const ASSETS = new URL('.', import.meta.url);

const STAGES = {
  rate_limit: 'Checking limits',
  guard: 'Checking the question',
  session: 'Reading the conversation',
  verified: 'Looking for a verified answer',
  cache: 'Looking in the cache',
  generate: 'Writing SQL',
  sql: 'Running the query',
  rows: 'Reading the result',
  insight: 'Explaining the result',
  save: 'Saving the turn',
  suggest: 'Suggesting follow-ups',
};

const PAGE_SIZE = 10;

/** Creates an element: h('button', {class: 'x', onclick: f}, 'text', child). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const ICONS = {
  up: 'M7 22H4a2 2 0 0 1-2-2v-7a2 2 0 0 1 2-2h3m7-2V5a3 3 0 0 0-3-3l-4 9v11h11.28a2 2 0 0 0 2-1.7l1.38-9a2 2 0 0 0-2-2.3z',
  down: 'M17 2h3a2 2 0 0 1 2 2v7a2 2 0 0 1-2 2h-3m-7 2v4a3 3 0 0 0 3 3l4-9V2H5.72a2 2 0 0 0-2 1.7l-1.38 9a2 2 0 0 0 2 2.3z',
  trash: 'M3 6h18M8 6V4a2 2 0 0 1 2-2h4a2 2 0 0 1 2 2v2m3 0v14a2 2 0 0 1-2 2H7a2 2 0 0 1-2-2V6',
  pencil: 'M17 3a2.8 2.8 0 0 1 4 4L7.5 20.5 2 22l1.5-5.5z',
};

/** An icon (decorative: the button around it carries the label). */
export function icon(name) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  for (const [k, v] of Object.entries({ viewBox: '0 0 24 24', width: '18', height: '18', fill: 'none', stroke: 'currentColor', 'stroke-width': '2', 'stroke-linecap': 'round', 'stroke-linejoin': 'round', 'aria-hidden': 'true', focusable: 'false' })) {
    svg.setAttribute(k, v);
  }
  const path = document.createElementNS(ns, 'path');
  path.setAttribute('d', ICONS[name]);
  svg.append(path);
  return svg;
}

/** A value as a person reads it in a table cell. */
export function cellText(v) {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isInteger(v) ? v.toLocaleString() : v.toLocaleString(undefined, { maximumFractionDigits: 4 });
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** The raw value as written to CSV and the clipboard. */
function rawText(v) {
  if (v === null || v === undefined) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/**
 * One CSV field (RFC 4180). A text that a spreadsheet would run as a formula (= + - @, tab,
 * carriage return) gets a leading apostrophe; numbers are written as they are.
 */
export function csvField(v) {
  let s = rawText(v);
  if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

export function toCsv(columns, rows) {
  const lines = [columns.map((c) => csvField(c.name)).join(',')];
  for (const r of rows) lines.push(r.map(csvField).join(','));
  return lines.join('\r\n') + '\r\n';
}

function compare(a, b) {
  if (a === b) return 0;
  if (a === null || a === undefined) return 1;
  if (b === null || b === undefined) return -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b), undefined, { numeric: true });
}

/** Parses a `text/event-stream` body: yields {event, data} for each event. */
async function* serverSentEvents(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value.replaceAll('\r\n', '\n');
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let event = 'message';
        const data = [];
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) continue;
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          const val = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'event') event = val;
          else if (field === 'data') data.push(val);
        }
        if (data.length) yield { event, data: JSON.parse(data.join('\n')) };
      }
    }
  } finally {
    reader.releaseLock();
  }
}

let vegaReady;
/** Loads Vega, Vega-Lite, Vega-Embed and the CSP-safe expression interpreter once. */
function loadVega() {
  vegaReady ??= (async () => {
    for (const name of ['vega.min.js', 'vega-lite.min.js', 'vega-interpreter.js', 'vega-embed.min.js']) {
      await new Promise((resolve, reject) => {
        const s = document.createElement('script');
        s.src = new URL(`vendor/${name}`, ASSETS).href;
        s.onload = resolve;
        s.onerror = () => reject(new Error(`cannot load ${name}`));
        document.head.append(s);
      });
    }
    return window.vegaEmbed;
  })();
  return vegaReady;
}

/** The chart types a person can switch between for a spec. */
function chartChoices(spec) {
  const enc = spec.encoding || {};
  const type = typeof spec.mark === 'string' ? spec.mark : spec.mark?.type;
  if (type === 'arc') return ['arc', 'bar'];
  if (enc.x && enc.y) return ['bar', 'line', 'point'];
  return [type];
}

const CHART_NAMES = { bar: 'Bars', line: 'Line', point: 'Points', arc: 'Pie' };

/** The spec drawn as `type`: bar, line and point swap the mark; a pie becomes bars. */
export function withChartType(spec, type) {
  const s = structuredClone(spec);
  const current = typeof s.mark === 'string' ? s.mark : s.mark?.type;
  if (current === type) return s;
  const mark = { ...(typeof s.mark === 'object' ? s.mark : {}), type, tooltip: true };
  if (type !== 'line') delete mark.point;
  if (type === 'line') mark.point = true;
  if (current === 'arc' && type === 'bar') {
    const { theta, color, ...rest } = s.encoding;
    s.encoding = {
      ...rest,
      x: { ...color, legend: undefined, scale: undefined, sort: '-y' },
      y: { ...theta, stack: undefined },
    };
    delete s.encoding.x.legend;
    delete s.encoding.x.scale;
    delete s.encoding.y.stack;
    delete s.view;
  }
  s.mark = mark;
  return s;
}

const STYLE_URL = new URL('chat.css', ASSETS).href;

export class ConversationalBiChat extends HTMLElement {
  static observedAttributes = ['server', 'token', 'session-id', 'roles'];

  #root;
  #thread;
  #input;
  #status;
  #sendButton;
  #scope;
  #busy = false;
  #token = '';
  #sessionId = '';
  #abort = null;

  constructor() {
    super();
    this.#root = this.attachShadow({ mode: 'open' });
  }

  get token() {
    return this.#token;
  }
  set token(v) {
    this.#token = v || '';
  }
  get sessionId() {
    return this.#sessionId;
  }
  set sessionId(v) {
    this.#sessionId = v || '';
  }
  get server() {
    return (this.getAttribute('server') || location.origin).replace(/\/+$/, '');
  }
  get roles() {
    return (this.getAttribute('roles') || '').split(',').map((r) => r.trim()).filter(Boolean);
  }

  attributeChangedCallback(name, _old, value) {
    if (name === 'token') this.#token = value || '';
    if (name === 'session-id') this.#sessionId = value || '';
  }

  connectedCallback() {
    if (this.#thread) return;
    this.#status = h('div', { class: 'visually-hidden', role: 'status', 'aria-live': 'polite' });
    this.#thread = h('ol', { class: 'thread', 'aria-label': 'Conversation' });
    this.#input = h('textarea', {
      id: 'question',
      rows: 1,
      placeholder: 'Ask a question about your data, e.g. "Top 5 genres by number of tracks"',
      'aria-label': 'Your question',
      maxlength: 2000,
      onkeydown: (e) => {
        if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
          e.preventDefault();
          this.#submit();
        }
      },
    });
    this.#sendButton = h('button', { type: 'submit', class: 'primary' }, 'Ask');
    const form = h(
      'form',
      {
        class: 'ask',
        onsubmit: (e) => {
          e.preventDefault();
          this.#submit();
        },
      },
      this.#input,
      this.#sendButton,
    );
    const empty = h(
      'div',
      { class: 'empty', part: 'empty' },
      h('p', {}, 'Ask a question in plain words. Refine it with follow-ups such as "only 2024", "top 5 instead" or "by month".'),
    );
    this.#scope = h('div', { class: 'scope', role: 'group', 'aria-label': 'In force', hidden: true });
    this.#root.append(
      h('link', { rel: 'stylesheet', href: STYLE_URL }),
      h('section', { class: 'chat', part: 'chat' }, empty, this.#thread, this.#scope, form, this.#status),
    );
  }

  /** Clears the thread: the next question starts a new conversation. */
  startOver() {
    this.#abort?.abort();
    this.#sessionId = '';
    this.#thread.replaceChildren();
    this.#showScope([]);
    this.#announce('Started a new conversation.');
    this.#input.focus();
  }

  /** Shows the turns of a stored conversation (questions, SQL and explanations). */
  showHistory(session) {
    this.#abort?.abort();
    this.#sessionId = session.session_id;
    this.#thread.replaceChildren();
    this.#showScope([]);
    for (const turn of session.turns || []) {
      this.#thread.append(h('li', { class: 'question' }, h('p', {}, turn.question)));
      const card = h('li', { class: 'answer past' });
      card.append(h('p', { class: 'explanation' }, turn.explanation || ''));
      if (turn.sql) card.append(this.#sqlBlock(turn.sql, null));
      card.append(
        h('p', { class: 'meta' }, `${turn.row_count} row${turn.row_count === 1 ? '' : 's'} · ${new Date(turn.at).toLocaleString()}`),
        h('button', { type: 'button', class: 'link', onclick: () => this.ask(turn.question) }, 'Ask again'),
      );
      this.#thread.append(card);
    }
  }

  focusInput() {
    this.#input.focus();
  }

  #announce(text) {
    this.#status.textContent = '';
    // A fresh text node so that screen readers announce a repeated message too.
    requestAnimationFrame(() => (this.#status.textContent = text));
  }

  #submit() {
    const q = this.#input.value.trim();
    if (!q || this.#busy) return;
    this.#input.value = '';
    this.ask(q);
  }

  #emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }

  #headers() {
    const headers = { 'content-type': 'application/json', accept: 'text/event-stream' };
    if (this.#token) headers.authorization = `Bearer ${this.#token}`;
    return headers;
  }

  /**
   * The conversation's scope in force (filters, groupings, order, limit) as chips under the
   * input; removing one asks for the previous answer without it, as a new turn.
   */
  #showScope(items) {
    this.#scope.hidden = !items.length;
    if (!items.length) return this.#scope.replaceChildren();
    this.#scope.replaceChildren(
      h('span', { class: 'scope-label' }, 'In force:'),
      ...items.map((item) =>
        h(
          'span',
          { class: `chip ${item.kind}`, 'data-scope': item.id },
          h('span', {}, item.label),
          h(
            'button',
            {
              type: 'button',
              'aria-label': `Remove "${item.label}"`,
              title: 'Remove',
              onclick: () => this.ask(`without "${item.label}"`, { remove_scope: item.id, query: '' }),
            },
            '×',
          ),
        ),
      ),
      h('button', { type: 'button', class: 'link start-over', onclick: () => this.startOver() }, 'Start over'),
    );
  }

  /**
   * Asks `question` as the next turn and streams the answer into the thread. `extra` adds to
   * the request body (`remove_scope`, with the `query` sent).
   */
  async ask(question, extra = {}) {
    if (this.#busy) return;
    this.#busy = true;
    this.#sendButton.disabled = true;
    this.#thread.append(h('li', { class: 'question' }, h('p', {}, question)));
    const card = h('li', { class: 'answer pending', 'aria-busy': 'true' });
    const stage = h('p', { class: 'stage' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), h('span', {}, 'Sending…'));
    card.append(stage);
    this.#thread.append(card);
    this.#thread.scrollTop = this.#thread.scrollHeight;
    const setStage = (name) => {
      const text = STAGES[name] || name;
      stage.lastChild.textContent = `${text}…`;
      stage.dataset.stage = name;
    };
    const parts = { sql: null, rows: null };
    this.#abort = new AbortController();
    try {
      const body = { query: question, ...extra };
      if (this.#sessionId) body.session_id = this.#sessionId;
      const response = await fetch(`${this.server}/api/v1/query/stream`, {
        method: 'POST',
        headers: this.#headers(),
        body: JSON.stringify(body),
        signal: this.#abort.signal,
      });
      if (!response.ok) {
        const error = await errorOf(response);
        this.#showError(card, error, question);
        return;
      }
      let finished = false;
      for await (const { event, data } of serverSentEvents(response.body)) {
        if (event === 'stage') setStage(data.stage);
        else if (event === 'sql') {
          setStage('sql');
          parts.sql = this.#sqlBlock(data.sql, null);
          card.append(parts.sql);
        } else if (event === 'rows') {
          setStage('rows');
          parts.rows = h('div', { class: 'preview' });
          parts.rows.append(this.#table(data.columns, data.rows, data.truncated));
          card.append(parts.rows);
        } else if (event === 'answer') {
          finished = true;
          card.replaceChildren();
          this.#renderAnswer(card, data.answer);
        } else if (event === 'error') {
          finished = true;
          this.#showError(card, { code: data.code, message: data.message, retryAfter: data.retry_after_secs }, question);
        }
      }
      if (!finished) this.#showError(card, { code: 'INTERRUPTED', message: 'The answer stopped before it was complete. Ask again.' }, question);
    } catch (e) {
      if (e.name === 'AbortError') {
        card.remove();
      } else {
        this.#showError(card, { code: 'NETWORK', message: `The server could not be reached (${e.message}). Check the connection and ask again.` }, question);
      }
    } finally {
      card.classList.remove('pending');
      card.removeAttribute('aria-busy');
      this.#busy = false;
      this.#sendButton.disabled = false;
      this.#abort = null;
    }
  }

  #showError(card, error, question) {
    card.replaceChildren();
    card.classList.add('error');
    if (error.status === 401) this.#emit('cbi-unauthorized', error);
    const help = h('div', { class: 'help', role: 'alert' });
    const title = {
      CANNOT_ANSWER: 'I could not answer that from this database.',
      INVALID_INPUT: 'That question cannot be asked as written.',
      RATE_LIMITED: 'Too many questions at once.',
      UNAUTHORIZED: 'Your sign-in has expired.',
      FORBIDDEN: 'You are not allowed to do that.',
      SERVICE_UNAVAILABLE: 'The service is busy or down.',
      TIMEOUT: 'The question took too long.',
    }[error.code] || 'Something went wrong.';
    help.append(h('p', { class: 'title' }, title), h('p', {}, error.message));
    if (error.code === 'RATE_LIMITED' && error.retryAfter) {
      const left = h('span', { class: 'countdown' }, String(error.retryAfter));
      const retry = h('button', { type: 'button', disabled: true, onclick: () => this.ask(question) }, 'Ask again');
      help.append(h('p', {}, 'You can ask again in ', left, ' s.'), retry);
      let n = error.retryAfter;
      const timer = setInterval(() => {
        n -= 1;
        left.textContent = String(Math.max(n, 0));
        if (n <= 0) {
          clearInterval(timer);
          retry.disabled = false;
          retry.focus();
        }
      }, 1000);
    }
    if (error.requestId) help.append(h('p', { class: 'meta' }, `Request id: ${error.requestId}`));
    card.append(help);
    this.#announce(`${title} ${error.message}`);
  }

  #renderAnswer(card, answer) {
    if (answer.session_id && answer.session_id !== this.#sessionId) {
      this.#sessionId = answer.session_id;
      this.#emit('cbi-session', { sessionId: answer.session_id });
    }
    this.#emit('cbi-answer', { answer });
    card.dataset.turn = answer.turn;
    this.#showScope(answer.scope || []);
    const badges = h('p', { class: 'badges' });
    if (answer.cache_hit) badges.append(h('span', { class: 'badge' }, 'Served from cache'));
    if (answer.verified) badges.append(h('span', { class: 'badge good' }, 'Verified'));
    if (answer.degraded) badges.append(h('span', { class: 'badge warn' }, 'Degraded: the model was unavailable, the offline generator answered'));
    if (badges.childNodes.length) card.append(badges);

    if (answer.kind === 'clarification' && answer.clarification) {
      card.append(h('p', { class: 'explanation' }, answer.clarification.question));
      card.append(
        h(
          'div',
          { class: 'suggestions', role: 'group', 'aria-label': 'Options' },
          answer.clarification.options.map((o) =>
            h('button', { type: 'button', title: o.detail || undefined, onclick: () => this.ask(o.label) }, o.label),
          ),
        ),
      );
      this.#announce(answer.clarification.question);
      return;
    }

    card.append(h('p', { class: 'explanation' }, answer.explanation));
    if (answer.warnings?.length) {
      card.append(h('ul', { class: 'warnings', 'aria-label': 'Warnings' }, answer.warnings.map((w) => h('li', {}, w))));
    }
    const spec = answer.chart?.vega_lite;
    if (spec && answer.rows.length > 1) card.append(this.#chart(spec));
    card.append(this.#table(answer.columns, answer.rows, answer.truncated));
    card.append(this.#sqlBlock(answer.sql, answer));
    if (answer.suggestions?.length) {
      card.append(
        h(
          'div',
          { class: 'suggestions', role: 'group', 'aria-label': 'Suggested follow-ups' },
          answer.suggestions.map((s) => h('button', { type: 'button', onclick: () => this.ask(s) }, s)),
        ),
      );
    }
    card.append(this.#feedback(answer));
    const timings = Object.entries(answer.timings || {});
    if (timings.length) {
      card.append(
        h(
          'details',
          { class: 'timings' },
          h('summary', {}, `Timings (${answer.generator})`),
          h('dl', {}, timings.map(([k, v]) => [h('dt', {}, k), h('dd', {}, `${v.toFixed(1)} ms`)])),
        ),
      );
    }
    // The question and the top of its answer in view, not the end of a long answer (only the
    // thread scrolls, never the page around the component).
    this.#thread.scrollTop = (card.previousElementSibling || card).offsetTop - 8;
    this.#announce(`Answer: ${answer.explanation} ${answer.row_count} row${answer.row_count === 1 ? '' : 's'}.`);
  }

  #chart(spec) {
    const figure = h('figure', { class: 'chart' });
    const host = h('div', { class: 'chart-host', role: 'img', 'aria-label': spec.description || spec.title?.text || spec.title || 'Chart of the result' });
    const choices = chartChoices(spec).filter(Boolean);
    let current = choices[0];
    const draw = async (type) => {
      try {
        const embed = await loadVega();
        await embed(host, withChartType(spec, type), {
          actions: false,
          renderer: 'svg',
          ast: true,
          expr: window.vega.expressionInterpreter,
          defaultStyle: false,
        });
        figure.dataset.chart = type;
      } catch (e) {
        host.replaceChildren(h('p', { class: 'meta' }, `The chart cannot be drawn: ${e.message}`));
      }
    };
    if (choices.length > 1) {
      const group = h('div', { class: 'chart-types', role: 'radiogroup', 'aria-label': 'Chart type' });
      for (const type of choices) {
        const b = h('button', { type: 'button', role: 'radio', 'aria-checked': String(type === current), 'data-type': type }, CHART_NAMES[type] || type);
        b.addEventListener('click', () => {
          current = type;
          for (const other of group.children) other.setAttribute('aria-checked', String(other === b));
          draw(type);
        });
        group.append(b);
      }
      figure.append(group);
    }
    figure.append(host);
    draw(current);
    return figure;
  }

  #table(columns, rows, truncated) {
    const wrap = h('div', { class: 'result' });
    let order = null; // {index, dir}
    let page = 0;
    const pages = () => Math.max(1, Math.ceil(rows.length / PAGE_SIZE));
    const table = h('table', {});
    const caption = h('caption', { class: 'visually-hidden' }, 'Result');
    const thead = h('thead');
    const tbody = h('tbody');
    const pager = h('p', { class: 'pager' });
    const sorted = () => {
      if (!order) return rows;
      const s = rows.map((r, i) => [r, i]);
      s.sort((a, b) => compare(a[0][order.index], b[0][order.index]) * order.dir || a[1] - b[1]);
      return s.map(([r]) => r);
    };
    const render = () => {
      const headRow = h('tr');
      columns.forEach((c, index) => {
        const sort = order?.index === index ? (order.dir > 0 ? 'ascending' : 'descending') : 'none';
        const numeric = rows.length > 0 && rows.every((r) => r[index] === null || typeof r[index] === 'number');
        headRow.append(
          h(
            'th',
            { scope: 'col', 'aria-sort': sort, class: numeric ? 'num' : undefined },
            h(
              'button',
              {
                type: 'button',
                title: `Sort by ${c.name}`,
                onclick: () => {
                  order = order?.index === index ? { index, dir: -order.dir } : { index, dir: numeric ? -1 : 1 };
                  page = 0;
                  render();
                  thead.querySelectorAll('button')[index].focus();
                },
              },
              c.name,
              h('span', { class: 'sort', 'aria-hidden': 'true' }, sort === 'ascending' ? ' ▲' : sort === 'descending' ? ' ▼' : ''),
            ),
          ),
        );
      });
      thead.replaceChildren(headRow);
      const view = sorted().slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE);
      tbody.replaceChildren(
        ...view.map((r) => h('tr', {}, r.map((v) => h('td', { class: typeof v === 'number' ? 'num' : v === null ? 'null' : undefined }, v === null ? '—' : cellText(v))))),
      );
      const from = rows.length ? page * PAGE_SIZE + 1 : 0;
      const to = Math.min(rows.length, (page + 1) * PAGE_SIZE);
      pager.replaceChildren(
        h('span', {}, rows.length ? `Rows ${from}–${to} of ${rows.length}` : 'No rows'),
      );
      if (pages() > 1) {
        pager.append(
          h('button', { type: 'button', disabled: page === 0, onclick: () => { page -= 1; render(); } }, 'Previous'),
          h('button', { type: 'button', disabled: page >= pages() - 1, onclick: () => { page += 1; render(); } }, 'Next'),
        );
      }
    };
    table.append(caption, thead, tbody);
    render();
    const copy = h('button', {
      type: 'button',
      onclick: async () => {
        const tsv = [columns.map((c) => c.name), ...rows.map((r) => r.map(rawText))].map((r) => r.join('\t')).join('\n');
        try {
          await navigator.clipboard.writeText(tsv);
          this.#announce('The table is copied.');
          copy.textContent = 'Copied';
        } catch {
          this.#announce('The browser did not allow copying.');
        }
      },
    }, 'Copy');
    const csv = h('button', {
      type: 'button',
      onclick: () => {
        const blob = new Blob([toCsv(columns, rows)], { type: 'text/csv;charset=utf-8' });
        const a = h('a', { href: URL.createObjectURL(blob), download: 'result.csv' });
        this.#root.append(a);
        a.click();
        a.remove();
        setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
      },
    }, 'Download CSV');
    wrap.append(h('div', { class: 'scroll', tabindex: '0', role: 'region', 'aria-label': 'Result table' }, table), h('div', { class: 'table-tools' }, pager, h('span', { class: 'tools' }, copy, csv)));
    if (truncated) {
      wrap.append(h('p', { class: 'notice' }, `Only the first ${rows.length} rows are shown: the result was cut at the row limit. Narrow the question (a filter or "top N") to see all of it.`));
    }
    return wrap;
  }

  #sqlBlock(sql, answer) {
    const details = h('details', { class: 'sql' });
    const code = h('code', {}, sql);
    const copy = h('button', {
      type: 'button',
      onclick: async () => {
        try {
          await navigator.clipboard.writeText(sql);
          copy.textContent = 'Copied';
        } catch {
          this.#announce('The browser did not allow copying.');
        }
      },
    }, 'Copy SQL');
    details.append(h('summary', {}, 'SQL'), h('pre', {}, code), h('div', { class: 'tools' }, copy));
    if (answer && (this.roles.includes('analyst') || this.roles.includes('admin'))) {
      const edit = h('button', { type: 'button', onclick: () => this.#editSql(details, sql) }, 'Edit and run');
      details.lastChild.append(edit);
    }
    return details;
  }

  #editSql(details, sql) {
    if (details.querySelector('form')) return;
    const area = h('textarea', { class: 'sql-edit', rows: 6, 'aria-label': 'SQL to run', spellcheck: 'false' });
    area.value = sql;
    const out = h('div', { class: 'sql-result' });
    const form = h(
      'form',
      {
        onsubmit: async (e) => {
          e.preventDefault();
          out.replaceChildren(h('p', { class: 'stage' }, 'Running…'));
          try {
            const response = await fetch(`${this.server}/api/v1/sql`, {
              method: 'POST',
              headers: { ...this.#headers(), accept: 'application/json' },
              body: JSON.stringify({ sql: area.value }),
            });
            if (!response.ok) {
              const error = await errorOf(response);
              out.replaceChildren(
                h('div', { class: 'help', role: 'alert' }, h('p', { class: 'title' }, error.code === 'SQL_REJECTED' ? 'The SQL was refused.' : 'The SQL did not run.'), h('p', {}, error.message)),
              );
              return;
            }
            const result = await response.json();
            out.replaceChildren(this.#table(result.columns, result.rows, result.truncated));
            this.#announce(`${result.row_count} rows.`);
          } catch (err) {
            out.replaceChildren(h('p', { role: 'alert' }, `The server could not be reached (${err.message}).`));
          }
        },
      },
      area,
      h('div', { class: 'tools' }, h('button', { type: 'submit', class: 'primary' }, 'Run SQL')),
    );
    details.append(form, out);
    area.focus();
  }

  #feedback(answer) {
    const box = h('div', { class: 'feedback' });
    const label = h('span', { id: `fb-${answer.session_id}-${answer.turn}` }, 'Was this right?');
    const comment = h('textarea', { rows: 2, 'aria-label': 'Comment (optional)', placeholder: 'What was right or wrong? (optional)', maxlength: 2000 });
    let rating = null;
    const form = h(
      'form',
      {
        class: 'feedback-form',
        hidden: true,
        onsubmit: async (e) => {
          e.preventDefault();
          const body = { session_id: answer.session_id, turn: answer.turn, rating };
          if (comment.value.trim()) body.comment = comment.value.trim();
          const response = await fetch(`${this.server}/api/v1/feedback`, {
            method: 'POST',
            headers: { ...this.#headers(), accept: 'application/json' },
            body: JSON.stringify(body),
          }).catch((err) => ({ ok: false, network: err }));
          if (response.ok) {
            form.replaceChildren(h('p', { class: 'meta', role: 'status' }, 'Thank you: your feedback is saved.'));
          } else {
            const error = response.network ? { message: response.network.message } : await errorOf(response);
            form.append(h('p', { role: 'alert', class: 'error-text' }, `The feedback was not saved: ${error.message}`));
          }
        },
      },
      comment,
      h('button', { type: 'submit' }, 'Send feedback'),
    );
    const thumb = (value, text, symbol) =>
      h(
        'button',
        {
          type: 'button',
          class: 'thumb',
          'aria-pressed': 'false',
          'aria-label': text,
          title: text,
          'data-rating': value,
          onclick: (e) => {
            rating = value;
            for (const b of box.querySelectorAll('.thumb')) b.setAttribute('aria-pressed', String(b === e.currentTarget));
            form.hidden = false;
            comment.focus();
          },
        },
        symbol,
      );
    box.append(label, thumb('up', 'Right answer', icon('up')), thumb('down', 'Wrong answer', icon('down')), form);
    return box;
  }
}

/** The error of a failed response: {status, code, message, requestId, retryAfter}. */
export async function errorOf(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    // not JSON
  }
  const retry = Number(response.headers.get('retry-after'));
  return {
    status: response.status,
    code: body?.error?.code || (response.status === 401 ? 'UNAUTHORIZED' : 'HTTP_' + response.status),
    message: body?.error?.message || response.statusText || `HTTP ${response.status}`,
    requestId: body?.error?.request_id,
    retryAfter: Number.isFinite(retry) && retry > 0 ? retry : undefined,
  };
}

if (!customElements.get('conversational-bi-chat')) {
  customElements.define('conversational-bi-chat', ConversationalBiChat);
}
