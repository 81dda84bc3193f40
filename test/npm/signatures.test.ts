import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { getNpmRegistryKeys } from '../../src/npm/registry-keys.js';
import { verifyRegistrySignature } from '../../src/npm/signatures.js';
import { FIXTURES } from '../helpers/fixtures.js';

interface Fixture {
  name: string;
  version: string;
  integrity: string;
  signatures: { keyid: string; sig: string }[];
}

const fixtures = (JSON.parse(readFileSync(join(FIXTURES, 'npm', 'registry-signatures.json'), 'utf8')) as { packages: Fixture[] }).packages;
// Published while the key (valid to 2025-01-29) was in force.
const publishedAt = new Date('2023-02-01T00:00:00Z');

describe('npm registry signatures (real ones, keys shipped by @sigstore/tuf)', () => {
  it.each(fixtures.map((f) => [`${f.name}@${f.version}`, f] as const))('verifies %s', (_name, pkg) => {
    expect(verifyRegistrySignature({ ...pkg, publishedAt }, pkg.signatures, getNpmRegistryKeys())).toEqual({ status: 'verified', keyid: pkg.signatures[0]?.keyid, sig: pkg.signatures[0]?.sig });
  });

  it('refuses another integrity, an unknown key, a version published outside the key validity, and no signature', () => {
    const pkg = fixtures[0] as Fixture;
    const keys = getNpmRegistryKeys();
    expect(verifyRegistrySignature({ ...pkg, publishedAt, integrity: (fixtures[1] as Fixture).integrity }, pkg.signatures, keys)).toMatchObject({ status: 'invalid' });
    expect(verifyRegistrySignature({ ...pkg, publishedAt }, [{ keyid: 'SHA256:nobody', sig: pkg.signatures[0]?.sig ?? '' }], keys)).toMatchObject({ status: 'unknown-key' });
    expect(verifyRegistrySignature({ ...pkg, publishedAt: new Date('2025-06-01T00:00:00Z') }, pkg.signatures, keys)).toMatchObject({ status: 'key-expired' });
    expect(verifyRegistrySignature({ ...pkg, publishedAt }, [], keys)).toMatchObject({ status: 'unsigned' });
    expect(verifyRegistrySignature({ ...pkg, publishedAt }, [{ keyid: pkg.signatures[0]?.keyid ?? '', sig: 'AAAA' }], keys)).toMatchObject({ status: 'invalid' });
  });
});
