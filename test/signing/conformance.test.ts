import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runAiscInProcess } from '../helpers/cli-in-process.js';
import { BEACON_IDENTITY, CONFORMANCE, GITHUB_ISSUER } from '../helpers/fixtures.js';

const cases = readdirSync(CONFORMANCE).filter((name) => statSync(join(CONFORMANCE, name)).isDirectory());

function argsFor(name: string): string[] {
  const dir = join(CONFORMANCE, name);
  const read = (file: string, fallback: string): string => (existsSync(join(dir, file)) ? readFileSync(join(dir, file), 'utf8').trim() : fallback);
  const artifact = existsSync(join(dir, 'artifact')) ? join(dir, 'artifact') : join(CONFORMANCE, 'a.txt');
  const args = ['verify-signature', artifact, '--bundle', join(dir, 'bundle.sigstore.json')];
  if (existsSync(join(dir, 'key.pub'))) args.push('--key', join(dir, 'key.pub'));
  else args.push('--certificate-identity', read('identity', BEACON_IDENTITY), '--certificate-oidc-issuer', read('issuer', GITHUB_ISSUER));
  if (existsSync(join(dir, 'trusted_root.json'))) args.push('--trusted-root', join(dir, 'trusted_root.json'));
  return args;
}

describe('Sigstore conformance: bundle-verify', () => {
  it('has all 70 cases', () => {
    expect(cases).toHaveLength(70);
  });

  // In process: the subject is each bundle's verdict; 70 Node start-ups cost ~20 s of the suite.
  it.each(cases)('%s', async (name) => {
    const result = await runAiscInProcess(argsFor(name));
    if (name.endsWith('_fail')) {
      expect([1, 2], `${result.stdout}${result.stderr}`).toContain(result.status);
    } else {
      expect(result.status, `${result.stdout}${result.stderr}`).toBe(0);
    }
    expect(result.stderr).not.toMatch(/\n\s+at |INTERNAL/);
  });
});
