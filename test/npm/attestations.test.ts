import { TrustedRoot } from '@sigstore/protobuf-specs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getSha512Hex, toPurl, verifyAttestations } from '../../src/npm/attestations.js';
import { normalizeRepository } from '../../src/npm/repository.js';
import { getNpmRegistryKeys } from '../../src/npm/registry-keys.js';
import { getPublicGoodTrustedRoot } from '../../src/signing/trust.js';
import { signPayloadKeyless } from '../../src/signing/keyless.js';
import { realVersions, SIGSTORE_PROVENANCE, type ServedVersion } from '../helpers/npm-registry.js';
import { makeIdentityToken, startSigstoreInstance, type SigstoreInstance } from '../helpers/sigstore-instance.js';

const [, sigstore] = realVersions() as [ServedVersion, ServedVersion & { attestations: { attestations: { predicateType: string; bundle: unknown }[] } }];
const verify = (pkg: Partial<ServedVersion>, response: unknown = sigstore.attestations, keys = getNpmRegistryKeys()): ReturnType<typeof verifyAttestations> =>
  verifyAttestations({ name: sigstore.name, version: sigstore.version, integrity: sigstore.integrity, ...pkg }, response, keys, getPublicGoodTrustedRoot());

describe('npm attestations (real: sigstore@1.0.0, SLSA v0.2 + publish attestation)', () => {
  it('verifies both and records where and how the package was built', () => {
    expect(verify({})).toEqual({
      published: true,
      provenance: SIGSTORE_PROVENANCE,
    });
  });

  it('refuses statements over another digest, or another version', () => {
    expect(() => verify({ integrity: 'sha512-' + Buffer.alloc(64, 9).toString('base64') })).toThrow(/is for pkg:npm\/sigstore@1\.0\.0 sha512:7bea9f6e7ff37f5f…; expected pkg:npm\/sigstore@1\.0\.0 sha512:0909090909090909…/);
    expect(() => verify({ version: '1.0.1' })).toThrow(/expected pkg:npm\/sigstore@1\.0\.1/);
    expect(() => verify({ integrity: 'sha1-' + Buffer.alloc(20).toString('base64') })).toThrow(/has no sha512/);
  });

  it('refuses the publish attestation when the registry key is unknown or was not valid at its log time', () => {
    expect(() => verify({}, sigstore.attestations, getNpmRegistryKeys().filter((k) => k.usage !== 'npm:attestations'))).toThrow(/attestation 2: signed by key "SHA256:jl3bw.*not an npm registry attestation key/);
    const late = getNpmRegistryKeys().map((k) => ({ ...k, start: new Date('2024-01-01T00:00:00Z') }));
    expect(() => verify({}, sigstore.attestations, late)).toThrow(/attestation 2: /);
  });

  it('refuses a tampered statement, a relabelled predicate and garbage', () => {
    const [provenance, publish] = sigstore.attestations.attestations as [{ predicateType: string; bundle: { dsseEnvelope: { payload: string } } }, { predicateType: string; bundle: unknown }];
    const payload = Buffer.from(provenance.bundle.dsseEnvelope.payload, 'base64').toString('utf8').replace('sigstore/sigstore-js@refs', 'evil/sigstore-js@refs');
    const tampered = { ...provenance, bundle: { ...provenance.bundle, dsseEnvelope: { ...provenance.bundle.dsseEnvelope, payload: Buffer.from(payload).toString('base64') } } };
    expect(() => verify({}, { attestations: [tampered, publish] })).toThrow(/attestation 1: DSSE payload hash mismatch/);
    expect(() => verify({}, { attestations: [{ ...publish, predicateType: 'https://slsa.dev/provenance/v1' }] })).toThrow(/listed as "https:\/\/slsa.dev\/provenance\/v1" but its statement is/);
    expect(() => verify({}, { attestations: [] })).toThrow(/no "attestations" list/);
    expect(() => verify({}, { attestations: [{ predicateType: 'x', bundle: { mediaType: 'nope' } }] })).toThrow(/NPM|media type/);
  });

  it('names packages and repositories the way attestations and people write them', () => {
    expect(toPurl('@sigstore/verify', '4.0.0')).toBe('pkg:npm/%40sigstore/verify@4.0.0');
    expect(getSha512Hex(sigstore.integrity)).toMatch(/^7bea9f6e/);
    expect(normalizeRepository('git+https://GitHub.com/Sigstore/sigstore-js.git')).toBe('https://github.com/sigstore/sigstore-js');
  });
});

describe('SLSA provenance v1, signed keyless by a Sigstore on loopback that sets GitHub certificate extensions', () => {
  let sigstore: SigstoreInstance;
  beforeAll(async () => {
    sigstore = await startSigstoreInstance();
  });
  afterAll(async () => {
    await sigstore.close();
  });

  const COMMIT = 'c0ffee'.padEnd(40, '0');
  const integrity = 'sha512-' + Buffer.alloc(64, 3).toString('base64');

  async function provenanceFor(claimedRepository: string): Promise<unknown> {
    const statement = {
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: 'pkg:npm/%40acme/widget@2.0.0', digest: { sha512: Buffer.alloc(64, 3).toString('hex') } }],
      predicateType: 'https://slsa.dev/provenance/v1',
      predicate: {
        buildDefinition: {
          buildType: 'https://slsa-framework.github.io/github-actions-buildtypes/workflow/v1',
          externalParameters: { workflow: { ref: 'refs/tags/v2.0.0', repository: claimedRepository, path: '.github/workflows/release.yml' } },
          resolvedDependencies: [{ uri: `git+${claimedRepository}@refs/tags/v2.0.0`, digest: { gitCommit: COMMIT } }],
        },
        runDetails: { builder: { id: 'https://github.com/actions/runner/github-hosted' } },
      },
    };
    const token = makeIdentityToken({ iss: 'https://token.actions.githubusercontent.com', email: 'https://github.com/acme/widget/.github/workflows/release.yml@refs/tags/v2.0.0', repository: 'acme/widget', sha: COMMIT, email_verified: true });
    const bundle = await signPayloadKeyless(Buffer.from(JSON.stringify(statement)), { fulcioUrl: sigstore.url, rekorUrl: sigstore.url, identityToken: token });
    return { attestations: [{ predicateType: 'https://slsa.dev/provenance/v1', bundle }] };
  }

  const check = (response: unknown): ReturnType<typeof verifyAttestations> =>
    verifyAttestations({ name: '@acme/widget', version: '2.0.0', integrity }, response, getNpmRegistryKeys(), TrustedRoot.fromJSON(sigstore.trustedRoot));

  it('records the repository, commit, workflow and builder', async () => {
    expect(check(await provenanceFor('https://github.com/acme/widget')).provenance).toMatchObject({
      predicateType: 'https://slsa.dev/provenance/v1',
      repository: 'https://github.com/acme/widget',
      commit: COMMIT,
      workflow: '.github/workflows/release.yml',
      builder: 'https://github.com/actions/runner/github-hosted',
    });
  });

  it('refuses provenance claiming a repository other than the one its certificate was issued for', async () => {
    const response = await provenanceFor('https://github.com/evil/widget');
    expect(() => check(response)).toThrow('attestation 1: the provenance claims https://github.com/evil/widget but was signed for https://github.com/acme/widget');
  });
});
