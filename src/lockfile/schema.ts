import type { ErrorObject, ValidateFunction } from 'ajv';
import { distFile } from '../built.js';
import { HUB_REF_PATTERN, HUB_REPO_PATTERN } from './hub-names.js';

let validator: Promise<ValidateFunction> | undefined;

/**
 * The validator for lockfiles/aisc.lock.schema.json, compiled at build time
 * (scripts/build-schemas.js): the committed schema is the one source of truth.
 */
export function getLockfileValidator(): Promise<ValidateFunction> {
  validator ??= import(distFile('schemas/lockfile.js').href).then((module: { default: ValidateFunction }) => module.default);
  return validator;
}

/**
 * One line per schema problem: `/artifacts/x/files/0/sha256: must match pattern "..."`. A failed
 * oneOf/anyOf says one relevant thing: the errors of the branch the value was meant for (the one
 * that failed only deeper inside it), or else what the alternatives are (`must be a string or an
 * array`), never every branch's complaint.
 */
export function toProblemLines(errors: readonly ErrorObject[]): string[] {
  const consumed = new Set<ErrorObject>();
  const lines: string[] = [];
  const wrappers = errors.filter((error) => error.keyword === 'oneOf' || error.keyword === 'anyOf');
  // Innermost first, so an outer wrapper sees its inner ones already settled: an inner wrapper's
  // lines are said only if its branch is the one its outer wrapper's value was meant for.
  wrappers.sort((a, b) => b.schemaPath.length - a.schemaPath.length);
  const said = new Map<ErrorObject, string[]>();
  for (const wrapper of wrappers) {
    const branches = new Map<string, ErrorObject[]>();
    for (const error of errors) {
      if (error === wrapper || !error.schemaPath.startsWith(`${wrapper.schemaPath}/`)) continue;
      const branch = error.schemaPath.slice(wrapper.schemaPath.length + 1).split('/')[0] ?? '';
      branches.set(branch, [...(branches.get(branch) ?? []), error]);
      consumed.add(error);
    }
    const meant = [...branches.values()]
      .filter((list) => list.every((error) => error.instancePath.length > wrapper.instancePath.length))
      .sort((a, b) => a.length - b.length)[0];
    if (meant) said.set(wrapper, [...meant.filter((error) => !isWrapper(error)).map(describe), ...meant.flatMap((error) => said.get(error) ?? [])]);
    else said.set(wrapper, [`${wrapper.instancePath || '/'}: ${describeAlternatives([...branches.values()].map((list) => list[0]))}`]);
  }
  for (const wrapper of wrappers) if (!consumed.has(wrapper)) lines.push(...(said.get(wrapper) ?? []));
  for (const error of errors) {
    if (consumed.has(error) || isWrapper(error)) continue;
    // A name that breaks propertyNames is said once, by the propertyNames error itself.
    if (error.propertyName !== undefined && error.keyword !== 'propertyNames') continue;
    lines.push(describe(error));
  }
  return [...new Set(lines)];
}

/** Patterns said in words rather than as the regular expression. */
const PATTERN_WORDS = new Map([
  [HUB_REF_PATTERN, "must be a branch, tag, refs/pr/N or 40-hex commit ('/'-separated components of letters, digits, . _ -, none empty or starting with '.', no '..')"],
  [HUB_REPO_PATTERN, 'must be org/name on the Hub (no -- or ..)'],
]);

function isWrapper(error: ErrorObject): boolean {
  return error.keyword === 'oneOf' || error.keyword === 'anyOf' || error.keyword === 'if';
}

function describe(error: ErrorObject): string {
  const where = error.instancePath || '/';
  let detail = error.message ?? 'is invalid';
  if (error.keyword === 'additionalProperties') {
    detail = `unknown property ${JSON.stringify((error.params as { additionalProperty: string }).additionalProperty)}`;
  } else if (error.keyword === 'enum') {
    detail = `must be one of ${(error.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
  } else if (error.keyword === 'pattern' && PATTERN_WORDS.has(String(error.params.pattern))) {
    detail = PATTERN_WORDS.get(String(error.params.pattern)) ?? detail;
  } else if (error.keyword === 'propertyNames') {
    detail = `invalid name ${JSON.stringify((error.params as { propertyName: string }).propertyName)}`;
  }
  return `${where}: ${detail}`;
}

function describeAlternatives(firsts: (ErrorObject | undefined)[]): string {
  // No branch failed: a oneOf failed because the value fits several of its forms at once.
  if (firsts.length === 0) return 'must take exactly one of its forms, but fits more than one';
  if (firsts.every((error) => error?.keyword === 'required')) {
    return `must have one of ${firsts.map((error) => JSON.stringify((error?.params as { missingProperty: string }).missingProperty)).join(', ')}`;
  }
  return `must be ${[...new Set(firsts.map(describeAlternative))].join(' or ')}`;
}

function describeAlternative(error: ErrorObject | undefined): string {
  if (error?.keyword === 'type') return `a${/^[aeiou]/.test(String(error.params.type)) ? 'n' : ''} ${String(error.params.type)}`;
  if (error?.keyword === 'enum') return `one of ${(error.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
  if (error?.keyword === 'const') return JSON.stringify((error.params as { allowedValue: unknown }).allowedValue);
  return error?.message ?? 'valid';
}
