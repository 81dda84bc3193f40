// Compiles the committed JSON Schemas to standalone validators in dist/schemas/, so the CLI does
// not pay Ajv's import and compile time (~100 ms) on every start. The schemas stay the source.
// The validators are ES modules: a CommonJS one is scanned by Node's CJS export lexer each time
// an ES module imports it (~20 ms for the lockfile's 120 KB). Ajv's ESM output still calls
// require() for its runtime helpers, so each module makes its own require first.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import standaloneCode from 'ajv/dist/standalone/index.js';

const schemas = { lockfile: '../lockfiles/aisc.lock.schema.json', policy: '../policies/aisc.policy.schema.json' };
const out = new URL('../dist/schemas/', import.meta.url);
const prelude = "import { createRequire } from 'node:module';\nconst require = createRequire(import.meta.url);\n";
mkdirSync(out, { recursive: true });
for (const [name, path] of Object.entries(schemas)) {
  const schema = JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8'));
  const ajv = new Ajv2020({ allErrors: true, strict: true, code: { source: true, esm: true } });
  const code = standaloneCode.default(ajv, ajv.compile(schema)).replace(/^"use strict";/, '');
  writeFileSync(new URL(`${name}.js`, out), prelude + code);
}
