// Compiles the committed JSON Schemas to standalone validators in dist/schemas/, so the CLI does
// not pay Ajv's import and compile time (~100 ms) on every start. The schemas stay the source.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import standaloneCode from 'ajv/dist/standalone/index.js';

const schemas = { lockfile: '../lockfiles/aisc.lock.schema.json', policy: '../policies/aisc.policy.schema.json' };
const out = new URL('../dist/schemas/', import.meta.url);
mkdirSync(out, { recursive: true });
for (const [name, path] of Object.entries(schemas)) {
  const schema = JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8'));
  const ajv = new Ajv2020({ allErrors: true, strict: true, code: { source: true } });
  writeFileSync(new URL(`${name}.cjs`, out), standaloneCode.default(ajv, ajv.compile(schema)));
}
