import { createHash, hash } from 'node:crypto';
import { dirname, join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import type { TrustedRoot } from '@sigstore/protobuf-specs';
import { distFile } from '../built.js';
import { AiscError, isAiscError } from '../errors.js';
import { toCanonicalJson } from '../lockfile/canonical-json.js';
import { parseJsonStrict, readBoundedText, removeDeadTemps } from '../io/index.js';
import type { NpmArtifact, NpmProvenance, NpmRegistrySignature } from '../lockfile/types.js';
import type { AttestationVerifier } from './attestation-pool.js';
import type { AttestationFacts } from './attestations.js';
import type { EvidenceMessage, EvidenceReply, EvidenceWorkerData } from './evidence-worker.js';
import { NpmFinding } from './findings.js';
import type { RegistryKey } from './registry-keys.js';
import { verifyRegistrySignature, type RegistrySignature } from './signatures.js';

export const EVIDENCE_FOLDER = '.aisc/evidence';
const MAX_EVIDENCE_BYTES = 16 * 1024 * 1024;

/**
 * What the registry said about one version, so that verify can check it again offline: the
 * signatures and attestation bundles as served, and what they are over. For a version with
 * attestations it is stored as canonical JSON under its own SHA-256, which the lockfile records;
 * for one without, the lockfile's own fields hold all of it (see toRecordedEvidence).
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

/**
 * Evidence files written while the lock goes on, put in place only when it succeeds. Each is
 * handed, as soon as its package is judged, to a thread of its own that writes and fsyncs it to a
 * temp file, so the writes overlap the registry's answers and cost the main thread one message;
 * commit() renames them to their digests and fsyncs the folder once; discard() removes them and
 * whatever folder was made, so a lock that fails leaves nothing behind. Evidence is shared across
 * re-locks: a file already there with the very bytes is kept.
 */
export class EvidenceWriter {
  private readonly folder: string;
  private worker?: Worker;
  private readonly digests = new Set<string>();
  /** Files not yet handed to the thread: sent in one message per turn of the event loop. */
  private batch: { digest: string; text: string }[] = [];
  /** Set by commit() or discard(): a package judged after that writes nothing. */
  private closed = false;
  /** Why the thread stopped before it was asked to, if it did. */
  private broken?: AiscError<'INTERNAL'>;

  constructor(lockfilePath: string) {
    this.folder = dirname(getEvidencePath(lockfilePath, '0'.repeat(64)));
  }

  /** Starts writing `evidence` and returns its digest, which the lockfile records. */
  add(evidence: NpmEvidence): string {
    const text = toEvidenceText(evidence);
    const digest = hash('sha256', text);
    if (!this.closed && !this.digests.has(digest)) {
      this.digests.add(digest);
      this.worker ??= this.start();
      if (this.batch.length === 0) setImmediate(() => this.flush());
      this.batch.push({ digest, text });
    }
    return digest;
  }

  /** Every written file under its digest, then one fsync of the folder. */
  async commit(): Promise<void> {
    this.closed = true;
    if (!this.worker) return;
    const reply = await this.ask({ type: 'commit' });
    if (reply.type === 'failed') throw new AiscError('WRITE_FAILED', `cannot write the npm evidence (${reply.message}); the lockfile is unchanged`);
    // Temp files an interrupted lock left behind; ours are all renamed by now.
    await removeDeadTemps(this.folder, 'evidence');
  }

  /** Removes the written files and the folders made for them. */
  async discard(): Promise<void> {
    this.closed = true;
    if (this.worker) await this.ask({ type: 'discard' }).catch(() => undefined);
  }

  private flush(): void {
    if (this.batch.length === 0 || !this.worker) return;
    this.worker.postMessage({ type: 'write', files: this.batch } satisfies EvidenceMessage);
    this.batch = [];
  }

  private start(): Worker {
    // Loaded here, not at the top: a lock with no registry package never starts a thread.
    const { Worker } = process.getBuiltinModule('node:worker_threads');
    const worker = new Worker(distFile('npm/evidence-worker.js'), { workerData: { folder: this.folder } satisfies EvidenceWorkerData });
    worker.on('error', (error) => (this.broken ??= new AiscError('INTERNAL', `the evidence writer failed: ${error.message}`, { cause: error })));
    worker.on('exit', (code) => (this.broken ??= new AiscError('INTERNAL', `the evidence writer exited early with code ${code}`)));
    return worker;
  }

  /** Sends the last message and ends the thread once it has answered. */
  private async ask(message: EvidenceMessage): Promise<EvidenceReply> {
    const worker = this.worker;
    if (!worker) throw new AiscError('INTERNAL', 'the evidence writer was never started');
    try {
      this.flush();
      return await new Promise<EvidenceReply>((resolve, reject) => {
        if (this.broken) return reject(this.broken);
        worker.once('message', resolve);
        worker.once('exit', (code) => reject(this.broken ?? new AiscError('INTERNAL', `the evidence writer exited early with code ${code}`)));
        worker.postMessage(message);
      });
    } finally {
      this.worker = undefined;
      await worker.terminate();
    }
  }
}

/**
 * The evidence of a package locked without an evidence file (one with no attestations): its
 * integrity, registry, publish time and signature are the lockfile's own fields, judged as an
 * evidence file would be. Undefined when the lockfile cannot stand in for one: a signature
 * recorded without its bytes (lockfiles from before they were recorded kept them in the file), or
 * provenance, which only attestation bundles can prove.
 */
export function toRecordedEvidence(artifact: NpmArtifact): NpmEvidence | undefined {
  const { registrySignature: signature, source } = artifact;
  if (artifact.integrity === undefined || source.registry === undefined || signature === undefined || artifact.provenance !== undefined) return undefined;
  let signatures: RegistrySignature[] | undefined;
  if (signature.status === 'verified') {
    if (signature.sig === undefined) return undefined;
    signatures = [{ keyid: signature.keyid, sig: signature.sig }];
  }
  return {
    evidenceVersion: 1,
    package: artifact.package,
    version: artifact.version,
    integrity: artifact.integrity,
    registry: source.registry,
    ...(artifact.publishedAt !== undefined ? { publishedAt: artifact.publishedAt } : {}),
    ...(signatures ? { signatures } : {}),
  };
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
  const registrySignature: NpmRegistrySignature =
    status.status === 'verified' ? { status: 'verified', keyid: status.keyid, sig: status.sig } : { status: 'unsigned', reason: `${evidence.registry} returned no dist.signatures for this version` };
  if (evidence.attestations === undefined) return { registrySignature, published: false };
  const pkg = { name: evidence.package, version: evidence.version, integrity: evidence.integrity };
  // On the attestation pool's threads when there is one: Sigstore verification is the CPU-bound part.
  const facts: AttestationFacts = verify ? await verify(pkg, evidence.attestations) : (await import('./attestations.js')).verifyAttestations(pkg, evidence.attestations, keys, getTrustedRoot());
  return { registrySignature, published: facts.published, ...(facts.provenance ? { provenance: facts.provenance } : {}) };
}
