import { createHash } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { AttestationVerifier } from './attestation-pool.js';
import type { TrustedRoot } from '@sigstore/protobuf-specs';
import { isAiscError } from '../errors.js';
import { toCanonicalJson } from '../lockfile/canonical-json.js';
import { parseJsonStrict, readBoundedText, syncFolder, writeFileAtomic } from '../io/index.js';
import type { NpmProvenance, NpmRegistrySignature } from '../lockfile/types.js';
import type { AttestationFacts } from './attestations.js';
import { NpmFinding } from './findings.js';
import type { RegistryKey } from './registry-keys.js';
import { verifyRegistrySignature, type RegistrySignature } from './signatures.js';

export const EVIDENCE_FOLDER = '.aisc/evidence';
const MAX_EVIDENCE_BYTES = 16 * 1024 * 1024;

/**
 * What the registry said about one version, kept so that verify can check it again offline: the
 * signatures and attestation bundles as served, and what they are over. Stored as canonical JSON
 * under its own SHA-256, which the lockfile records.
 */
export interface NpmEvidence {
  evidenceVersion: 1;
  package: string;
  version: string;
  integrity: string;
  registry: string;
  /** The registry's `time[version]`: registry keys are judged valid at this time. */
  publishedAt?: string;
  /** `dist.signatures` as served (absent when the registry sent none). */
  signatures?: RegistrySignature[];
  /** The response of `dist.attestations.url` as served (absent when the version has none). */
  attestations?: unknown;
}

/** What the evidence proves, derived the same way at lock time and at verify time. */
export interface EvidenceFacts {
  registrySignature: NpmRegistrySignature;
  provenance?: NpmProvenance;
  published: boolean;
}

export function toEvidenceText(evidence: NpmEvidence): string {
  return toCanonicalJson(evidence);
}

export function getEvidencePath(lockfilePath: string, digest: string): string {
  return join(dirname(lockfilePath), ...EVIDENCE_FOLDER.split('/'), `${digest}.json`);
}

/** Writes the evidence under its digest (once: the same bytes are never rewritten) and returns the digest. */
/** Writes one evidence file; its folder is synced by the caller, once for them all (syncEvidenceFolder). */
export async function writeEvidence(lockfilePath: string, evidence: NpmEvidence): Promise<string> {
  const text = toEvidenceText(evidence);
  const digest = createHash('sha256').update(text).digest('hex');
  const path = getEvidencePath(lockfilePath, digest);
  // Already there with these very bytes (evidence is shared across re-locks): keep it; anything else is replaced.
  const existing = await readFile(path, 'utf8').catch(() => undefined);
  if (existing === text) return digest;
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, text, { syncFolder: false });
  return digest;
}

/** One fsync of the evidence folder after writing its files, so their renames survive a crash. */
export async function syncEvidenceFolder(lockfilePath: string): Promise<void> {
  await syncFolder(dirname(getEvidencePath(lockfilePath, '0'.repeat(64))));
}

/** Reads evidence back: it must be there, be the bytes recorded, and be about this package. */
export async function readEvidence(lockfilePath: string, digest: string, expected: { id: string; package: string; version: string; integrity?: string }): Promise<NpmEvidence> {
  const path = getEvidencePath(lockfilePath, digest);
  let text: string;
  try {
    text = await readBoundedText(path, { limit: MAX_EVIDENCE_BYTES, what: 'npm evidence file' });
  } catch (error) {
    throw new NpmFinding('NPM_EVIDENCE_MISSING', `${expected.id}: its evidence ${EVIDENCE_FOLDER}/${digest}.json cannot be read (${isAiscError(error) ? error.message : String(error)}); run aisc lock again to fetch it`);
  }
  const actual = createHash('sha256').update(text).digest('hex');
  if (actual !== digest) throw new NpmFinding('NPM_EVIDENCE_CHANGED', `${expected.id}: ${EVIDENCE_FOLDER}/${digest}.json has changed since it was locked (sha256 ${actual})`);
  let json: unknown;
  try {
    json = parseJsonStrict(text, path);
  } catch (error) {
    throw new NpmFinding('NPM_EVIDENCE_CHANGED', `${expected.id}: ${(error as Error).message}`);
  }
  const evidence = json as Partial<NpmEvidence> | null;
  if (evidence?.evidenceVersion !== 1 || evidence.package !== expected.package || evidence.version !== expected.version || evidence.integrity !== expected.integrity || typeof evidence.registry !== 'string') {
    throw new NpmFinding('NPM_EVIDENCE_MISMATCH', `${expected.id}: ${EVIDENCE_FOLDER}/${digest}.json is evidence for ${String(evidence?.package)}@${String(evidence?.version)} with integrity ${String(evidence?.integrity)}, not for this package`);
  }
  if (evidence.signatures !== undefined && !isSignatureList(evidence.signatures)) throw new NpmFinding('NPM_EVIDENCE_MISMATCH', `${expected.id}: the evidence's signatures are not a list of {keyid, sig}`);
  return evidence as NpmEvidence;
}

function isSignatureList(value: unknown): value is RegistrySignature[] {
  return Array.isArray(value) && value.every((s: { keyid?: unknown; sig?: unknown } | null) => typeof s?.keyid === 'string' && typeof s.sig === 'string');
}

/**
 * Derives what the evidence proves: the registry signature (any bad one is a finding: a wrong
 * integrity, an unknown key, a key not valid when the version was published) and the attestations.
 * Sigstore's libraries load only for packages that have attestations.
 */
export async function judgeEvidence(evidence: NpmEvidence, keys: readonly RegistryKey[], getTrustedRoot: () => TrustedRoot, verify?: AttestationVerifier): Promise<EvidenceFacts> {
  const id = `${evidence.package}@${evidence.version}`;
  const publishedAt = evidence.publishedAt === undefined ? undefined : new Date(evidence.publishedAt);
  const status = verifyRegistrySignature(
    { name: evidence.package, version: evidence.version, integrity: evidence.integrity, ...(publishedAt && !Number.isNaN(publishedAt.getTime()) ? { publishedAt } : {}) },
    evidence.signatures,
    keys,
  );
  switch (status.status) {
    case 'invalid':
      throw new NpmFinding('NPM_SIGNATURE_INVALID', `${id}: ${status.reason}`);
    case 'unknown-key':
      throw new NpmFinding('NPM_SIGNATURE_UNKNOWN_KEY', `${id}: ${status.reason}`);
    case 'key-expired':
      throw new NpmFinding('NPM_SIGNATURE_KEY_EXPIRED', `${id}: ${status.reason}`);
    default:
      break;
  }
  const registrySignature: NpmRegistrySignature = status.status === 'verified' ? { status: 'verified', keyid: status.keyid } : { status: 'unsigned', reason: `${evidence.registry} returned no dist.signatures for this version` };
  if (evidence.attestations === undefined) return { registrySignature, published: false };
  const pkg = { name: evidence.package, version: evidence.version, integrity: evidence.integrity };
  // On the attestation pool's threads when there is one: Sigstore verification is the CPU-bound part.
  const facts: AttestationFacts = verify ? await verify(pkg, evidence.attestations) : (await import('./attestations.js')).verifyAttestations(pkg, evidence.attestations, keys, getTrustedRoot());
  return { registrySignature, published: facts.published, ...(facts.provenance ? { provenance: facts.provenance } : {}) };
}
