import { InvalidArgumentError } from 'commander';
import { getJobsProblem } from './jobs.js';
import { ARTIFACT_KINDS, type FileArtifactKind } from '../lockfile/types.js';
import { writeFileAtomic } from '../io/index.js';

export const DEFAULT_LOCKFILE = 'aisc.lock.json';
export const DEFAULT_POLICY = 'aisc.policy.yaml';

export function parseJobs(value: string): number {
  const problem = getJobsProblem(value);
  if (problem) throw new InvalidArgumentError(problem);
  return Number(value);
}

export function parseKind(value: string): FileArtifactKind {
  if (!(ARTIFACT_KINDS as readonly string[]).includes(value)) throw new InvalidArgumentError(`expected one of ${ARTIFACT_KINDS.join(', ')}, got ${JSON.stringify(value)}`);
  return value as FileArtifactKind;
}

/** A report written to a file (--sarif, --output): whole or not at all. */
export async function writeReportFile(path: string, text: string, what: string): Promise<void> {
  await writeFileAtomic(path, text, { what });
}

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** `--artifact NAME=PATH`, repeatable; a name given twice is a usage error. */
export function collectArtifactPath(value: string, previous: ReadonlyMap<string, string> = new Map()): Map<string, string> {
  const at = value.indexOf('=');
  if (at <= 0 || at === value.length - 1) throw new InvalidArgumentError(`expected NAME=PATH, got ${JSON.stringify(value)}`);
  const name = value.slice(0, at);
  if (previous.has(name)) throw new InvalidArgumentError(`${JSON.stringify(name)} given twice`);
  return new Map([...previous, [name, value.slice(at + 1)]]);
}

/** A parser for a flag that takes one of a few words. */
export function parseChoice<T extends string>(choices: readonly T[]): (value: string) => T {
  return (value) => {
    if (!(choices as readonly string[]).includes(value)) throw new InvalidArgumentError(`expected one of ${choices.join(', ')}, got ${JSON.stringify(value)}`);
    return value as T;
  };
}
