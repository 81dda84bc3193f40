import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { getHubRefProblem, getHubRepoProblem, HUB_REF_PATTERN, HUB_REPO_PATTERN } from '../../src/lockfile/hub-names.js';
import { parseLockfile } from '../../src/lockfile/read.js';
import { parseHubSpec } from '../../src/sources/huggingface.js';

const COMMIT = 'a'.repeat(40);
const schema = JSON.parse(readFileSync(new URL('../../lockfiles/aisc.lock.schema.json', import.meta.url), 'utf8')) as { $defs: { source: { oneOf: { properties: Record<string, { pattern?: string }> }[] } } };
const hubSource = schema.$defs.source.oneOf.find((branch) => JSON.stringify(branch.properties.type) === '{"const":"huggingface"}');

function lockfileWith(source: { repo: string; ref: string }): string {
  const files = [{ path: 'config.json', size: 1, sha256: 'b'.repeat(64) }];
  return JSON.stringify({ lockfileVersion: 1, artifacts: { m: { kind: 'model', layout: 'directory', source: { type: 'huggingface', repoType: 'model', revision: COMMIT, ...source }, files, digest: 'c'.repeat(64) } } });
}

const accepts = async (text: string): Promise<boolean> =>
  parseLockfile(text, 'aisc.lock.json').then(
    () => true,
    (error: { code?: string }) => {
      expect(error.code).toBe('LOCKFILE_INVALID');
      return false;
    },
  );
const parses = (spec: string): boolean => {
  try {
    parseHubSpec(spec);
    return true;
  } catch (error) {
    expect(error).toMatchObject({ code: 'USAGE' });
    return false;
  }
};

// Strings made of the characters that matter: separators, dots, dashes, and a few that never belong.
const refText = fc.array(fc.constantFrom('a', 'Z', '0', '.', '/', '-', '_', '%', ' ', '~', 'é', '\\'), { maxLength: 12 }).map((parts) => parts.join(''));

describe('one grammar for Hub refs and repos: the code, the CLI parser and the lockfile schema agree', () => {
  it('the schema\'s patterns are the code\'s', () => {
    expect(hubSource?.properties.ref?.pattern).toBe(HUB_REF_PATTERN);
    expect(hubSource?.properties.repo?.pattern).toBe(HUB_REPO_PATTERN);
  });

  it('accepts branches, tags, refs/pr/N and commits; refuses what would leave refs/ or that git refuses', () => {
    for (const ref of ['main', 'v1.0', 'refs/pr/12', 'release/2024-01', COMMIT, 'a'.repeat(256)]) expect(getHubRefProblem(ref)).toBeUndefined();
    for (const ref of ['', '.', '..', '../x', 'a/../b', 'a//b', '/main', 'main/', '.hidden', 'a/.b', 'a..b', 'a b', 'a'.repeat(257), 'main\n']) expect(getHubRefProblem(ref)).toBeDefined();
  });

  it('a ref is accepted by parseHubSpec exactly when the lockfile reader (schema and code) accepts it', async () => {
    await fc.assert(
      fc.asyncProperty(refText, async (ref) => {
        const ok = getHubRefProblem(ref) === undefined;
        expect(parses(`hf://acme/tiny@${ref}`)).toBe(ok);
        expect(await accepts(lockfileWith({ repo: 'acme/tiny', ref }))).toBe(ok);
      }),
      { numRuns: 300 },
    );
  });

  it('a repo is accepted by parseHubSpec exactly when the lockfile reader accepts it', async () => {
    await fc.assert(
      fc.asyncProperty(refText, async (repo) => {
        // '@' and a 'datasets/' prefix mean something else to the parser.
        fc.pre(!repo.startsWith('datasets/') && !repo.startsWith('models/') && !repo.startsWith('spaces/'));
        const ok = getHubRepoProblem(repo) === undefined;
        expect(parses(`hf://${repo}`)).toBe(ok);
        expect(await accepts(lockfileWith({ repo, ref: 'main' }))).toBe(ok);
      }),
      { numRuns: 300 },
    );
  });

  it('a ref that is a commit must be the commit the files were listed at', async () => {
    await expect(parseLockfile(lockfileWith({ repo: 'acme/tiny', ref: 'f'.repeat(40) }), 'aisc.lock.json')).rejects.toMatchObject({ code: 'LOCKFILE_INVALID', message: expect.stringContaining('is not the revision') as unknown });
    await expect(parseLockfile(lockfileWith({ repo: 'acme/tiny', ref: COMMIT }), 'aisc.lock.json')).resolves.toBeDefined();
  });
});
