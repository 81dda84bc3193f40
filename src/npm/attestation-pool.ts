import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { distFile } from '../built.js';
import { AiscError } from '../errors.js';
import type { AttestationFacts, AttestedPackage } from './attestations.js';
import type { AttestationReply, AttestationTask, AttestationWorkerData } from './attestation-worker.js';
import type { NpmFindingCode } from '../findings.js';
import { NpmFinding } from './findings.js';
import type { RegistryKey } from './registry-keys.js';

/** Each verification is ~16 ms of Sigstore crypto: more threads than cores (and than 4) gain nothing. */
const MAX_THREADS = 4;
/** The first few are verified here: a tree with one or two packages with provenance boots no worker. */
const INLINE_FIRST = 4;

export type AttestationVerifier = (pkg: AttestedPackage, response: unknown) => Promise<AttestationFacts>;

/**
 * Verifies npm attestations on worker threads, a bounded few, started on the first package that
 * has attestations (a tree without provenance starts none). Each worker gets the registry keys and
 * the trusted root once; a task's result or finding comes back as the same value or NpmFinding the
 * main thread would have produced.
 */
export class AttestationPool {
  private workers: { worker: Worker; busy: number }[] = [];
  private readonly pending = new Map<number, { resolve: (facts: AttestationFacts) => void; reject: (error: Error) => void }>();
  private nextId = 0;
  private inline = 0;
  private readonly size: number;

  constructor(
    private readonly keys: readonly RegistryKey[],
    private readonly getTrustedRoot: () => TrustedRoot,
    threads = Math.min(MAX_THREADS, availableParallelism()),
  ) {
    this.size = Math.max(1, threads);
  }

  readonly verify: AttestationVerifier = async (pkg, response) => {
    if (this.inline < INLINE_FIRST) {
      this.inline++;
      const { verifyAttestations } = await import('./attestations.js');
      return verifyAttestations(pkg, response, this.keys, this.getTrustedRoot());
    }
    if (this.workers.length === 0) this.start();
    const slot = this.workers.reduce((least, candidate) => (candidate.busy < least.busy ? candidate : least));
    const id = this.nextId++;
    slot.busy++;
    return new Promise<AttestationFacts>((resolve, reject) => {
      this.pending.set(id, {
        resolve: (facts) => {
          slot.busy--;
          resolve(facts);
        },
        reject: (error) => {
          slot.busy--;
          reject(error);
        },
      });
      slot.worker.postMessage({ id, pkg, response } satisfies AttestationTask);
    });
  };

  private start(): void {
    const url = distFile('npm/attestation-worker.js');
    const workerData: AttestationWorkerData = { keys: [...this.keys], trustedRoot: TrustedRoot.toJSON(this.getTrustedRoot()) };
    for (let i = 0; i < this.size; i++) {
      const worker = new Worker(url, { workerData });
      worker.on('message', (reply: AttestationReply) => this.settle(reply));
      worker.on('error', (error) => this.failAll(new AiscError('INTERNAL', `attestation worker failed: ${error.message}`, { cause: error })));
      worker.on('exit', (code) => {
        if (this.pending.size > 0) this.failAll(new AiscError('INTERNAL', `attestation worker exited early with code ${code}`));
      });
      this.workers.push({ worker, busy: 0 });
    }
  }

  private settle(reply: AttestationReply): void {
    const waiting = this.pending.get(reply.id);
    if (!waiting) return;
    this.pending.delete(reply.id);
    if (reply.ok) waiting.resolve(reply.facts);
    else waiting.reject(reply.finding ? new NpmFinding(reply.code as NpmFindingCode, reply.message) : new AiscError(reply.code === 'INTERNAL' ? 'INTERNAL' : (reply.code as 'INTERNAL'), reply.message));
  }

  private failAll(error: Error): void {
    for (const waiting of this.pending.values()) waiting.reject(error);
    this.pending.clear();
  }

  async close(): Promise<void> {
    const workers = this.workers;
    this.workers = [];
    await Promise.all(workers.map(({ worker }) => worker.terminate()));
  }
}
