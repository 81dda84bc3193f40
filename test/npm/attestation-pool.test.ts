import { describe, expect, it } from 'vitest';
import { AttestationPool } from '../../src/npm/attestation-pool.js';
import { verifyAttestations } from '../../src/npm/attestations.js';
import { NpmFinding } from '../../src/npm/findings.js';
import { getNpmRegistryKeys } from '../../src/npm/registry-keys.js';
import { getPublicGoodTrustedRoot } from '../../src/signing/trust.js';
import { realVersions, type ServedVersion } from '../helpers/npm-registry.js';

const [, sigstore] = realVersions() as [ServedVersion, ServedVersion & { attestations: unknown }];
const pkg = { name: sigstore.name, version: sigstore.version, integrity: sigstore.integrity };

describe('AttestationPool: npm attestations verified on worker threads', () => {
  it('gives what the main thread gives, for a pass and for a finding, past the first few verified inline', async () => {
    const keys = getNpmRegistryKeys();
    const expected = verifyAttestations(pkg, sigstore.attestations, keys, getPublicGoodTrustedRoot());
    const pool = new AttestationPool(keys, getPublicGoodTrustedRoot, 2);
    try {
      // 4 inline, then 8 on two workers, in parallel.
      const results = await Promise.all(Array.from({ length: 12 }, () => pool.verify(pkg, sigstore.attestations)));
      for (const facts of results) expect(facts).toEqual(expected);
      const other = { ...pkg, version: '1.0.1' };
      const failures = await Promise.allSettled(Array.from({ length: 6 }, () => pool.verify(other, sigstore.attestations)));
      for (const failure of failures) {
        expect(failure.status).toBe('rejected');
        const reason = (failure as PromiseRejectedResult).reason as NpmFinding;
        expect(reason).toBeInstanceOf(NpmFinding);
        expect(reason).toMatchObject({ code: 'NPM_ATTESTATION_INVALID', message: expect.stringMatching(/expected pkg:npm\/sigstore@1\.0\.1/) as unknown });
      }
    } finally {
      await pool.close();
    }
  });
});
