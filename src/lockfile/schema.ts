import type { ErrorObject, ValidateFunction } from 'ajv';
import { resolveBuilt } from '../built.js';

let validator: Promise<ValidateFunction> | undefined;

/**
 * The validator for lockfiles/aisc.lock.schema.json, compiled at build time
 * (scripts/build-schemas.js): the committed schema is the one source of truth.
 */
export function getLockfileValidator(): Promise<ValidateFunction> {
  validator ??= import(resolveBuilt('../schemas/lockfile.cjs', import.meta.url).href).then((module: { default: ValidateFunction }) => module.default);
  return validator;
}

/** One line per schema problem: `/artifacts/x/files/0/sha256: must match pattern "..."`. */
export function toProblemLines(errors: readonly ErrorObject[]): string[] {
  const lines = new Set<string>();
  for (const error of errors) {
    // oneOf/anyOf/if wrappers repeat what their branches already said.
    if (error.keyword === 'oneOf' || error.keyword === 'anyOf' || error.keyword === 'if') continue;
    const where = error.instancePath || '/';
    let detail = error.message ?? 'is invalid';
    if (error.keyword === 'additionalProperties') {
      detail = `unknown property ${JSON.stringify((error.params as { additionalProperty: string }).additionalProperty)}`;
    } else if (error.keyword === 'enum') {
      detail = `must be one of ${(error.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
    } else if (error.keyword === 'propertyNames') {
      detail = `invalid artifact name ${JSON.stringify((error.params as { propertyName: string }).propertyName)}`;
    }
    lines.add(`${where}: ${detail}`);
  }
  return [...lines];
}
