import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { computeRootDigest } from '../../src/lockfile/digest.js';

const VECTORS = new URL('../../../shared/fixtures/model-signing-spec/test-vectors/v1.0/valid/', import.meta.url);

interface Statement {
  subject: { digest: { sha256: string } }[];
  predicate: { resources: { name: string; digest: string }[] };
}

describe('computeRootDigest', () => {
  // The OpenSSF Model Signing test vectors sign a folder: the statement's subject digest is the
  // root digest of its resources. aisc's lockfile digest must be the same number.
  it.each(readdirSync(VECTORS).filter((name) => name.endsWith('.bundle.json')))('equals the subject digest of the OMS vector %s', (name) => {
    const bundle = JSON.parse(readFileSync(new URL(name, VECTORS), 'utf8')) as { dsseEnvelope: { payload: string } };
    const statement = JSON.parse(Buffer.from(bundle.dsseEnvelope.payload, 'base64').toString('utf8')) as Statement;
    const files = statement.predicate.resources.map((r) => ({ path: r.name, sha256: r.digest }));
    expect(computeRootDigest(files.reverse())).toBe(statement.subject[0]?.digest.sha256);
  });
});
