import { parentPort, workerData } from 'node:worker_threads';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { isAiscError } from '../errors.js';
import { NpmFinding } from './findings.js';
import { verifyAttestations, type AttestedPackage } from './attestations.js';
import type { RegistryKey } from './registry-keys.js';

/** What the pool sends once: the registry keys (KeyObjects cross threads) and the trusted root as JSON. */
export interface AttestationWorkerData {
  keys: RegistryKey[];
  trustedRoot: unknown;
}

export interface AttestationTask {
  id: number;
  pkg: AttestedPackage;
  response: unknown;
}

export type AttestationReply = { id: number; ok: true; facts: ReturnType<typeof verifyAttestations> } | { id: number; ok: false; code: string; message: string; finding: boolean };

const { keys, trustedRoot: rootJson } = workerData as AttestationWorkerData;
const trustedRoot = TrustedRoot.fromJSON(rootJson);

parentPort?.on('message', (task: AttestationTask) => {
  let reply: AttestationReply;
  try {
    reply = { id: task.id, ok: true, facts: verifyAttestations(task.pkg, task.response, keys, trustedRoot) };
  } catch (error) {
    reply = isAiscError(error)
      ? { id: task.id, ok: false, code: error.code, message: error.message, finding: error instanceof NpmFinding }
      : { id: task.id, ok: false, code: 'INTERNAL', message: error instanceof Error ? error.message : String(error), finding: false };
  }
  parentPort?.postMessage(reply);
});
