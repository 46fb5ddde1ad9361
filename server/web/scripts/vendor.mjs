// Copies the pinned chart libraries from node_modules (installed by `npm ci` from
// package-lock.json) into vendor/, which the server embeds. With --check, compares instead and
// exits 1 when vendor/ differs from what the lockfile gives.
//
// vega-interpreter ships as an ES module that imports vega-util; the copy reads those names
// from the `vega` global of vega.min.js instead, and sets `vega.expressionInterpreter`, so that
// charts are drawn without `eval` (the page's Content-Security-Policy forbids it).
import { readFileSync, writeFileSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const modules = join(root, 'node_modules');
const vendor = join(root, 'vendor');

function interpreter() {
  const pkg = JSON.parse(readFileSync(join(modules, 'vega-interpreter/package.json'), 'utf8'));
  let src = readFileSync(join(modules, 'vega-interpreter/build/vega-interpreter.js'), 'utf8');
  const imports = /^import \{([^}]*)\} from 'vega-util';\n/m;
  const m = imports.exec(src);
  if (!m) throw new Error('vega-interpreter: the vega-util import was not found; update scripts/vendor.mjs');
  src = src.replace(imports, '');
  const exported = /^export \{ (\w+) as expressionInterpreter \};\n?/m;
  const e = exported.exec(src);
  if (!e) throw new Error('vega-interpreter: the export was not found; update scripts/vendor.mjs');
  src = src.replace(exported, '').replace(/^\/\/# sourceMappingURL=.*\n?/m, '');
  return `/*! vega-interpreter ${pkg.version} (BSD-3-Clause), wrapped by scripts/vendor.mjs */\n(function () {\nconst {${m[1]}} = globalThis.vega;\n${src}\nglobalThis.vega.expressionInterpreter = ${e[1]};\n})();\n`;
}

const files = {
  'vega.min.js': () => readFileSync(join(modules, 'vega/build/vega.min.js')),
  'vega-lite.min.js': () => readFileSync(join(modules, 'vega-lite/build/vega-lite.min.js')),
  'vega-embed.min.js': () => readFileSync(join(modules, 'vega-embed/build/vega-embed.min.js')),
  'vega-interpreter.js': () => Buffer.from(interpreter()),
};

const check = process.argv.includes('--check');
mkdirSync(vendor, { recursive: true });
let differ = [];
for (const [name, make] of Object.entries(files)) {
  const want = make();
  let have = null;
  try {
    have = readFileSync(join(vendor, name));
  } catch {}
  if (check) {
    if (!have || !have.equals(want)) differ.push(name);
  } else {
    writeFileSync(join(vendor, name), want);
  }
}
const extra = readdirSync(vendor).filter((f) => !(f in files));
if (check) {
  if (differ.length || extra.length) {
    console.error(`vendor/ differs from package-lock.json: ${[...differ, ...extra.map((f) => `${f} (not made by the script)`)].join(', ')}; run \`npm ci && npm run vendor\` in server/web and commit vendor/`);
    process.exit(1);
  }
  console.log(`vendor/ matches package-lock.json (${Object.keys(files).length} files)`);
} else {
  console.log(`wrote ${Object.keys(files).join(', ')} to vendor/`);
}
