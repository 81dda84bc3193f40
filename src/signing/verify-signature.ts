import { stat } from 'node:fs/promises';
import { AiscError } from '../errors.js';
import { readBundle } from './bundle.js';
import { OMS_PREDICATE_TYPE } from './oms.js';
import type { SignerPolicy } from './verify-bundle.js';
import { verifyFileSignature, type SignatureReport } from './verify-file.js';
import { verifyModelSignature } from './verify-model.js';

/**
 * `aisc verify-signature`: a folder is a model (OpenSSF Model Signing); a file is a model too when
 * its bundle carries the OMS predicate, else a signed blob or in-toto subject.
 */
export async function verifySignature(path: string, bundlePath: string, policy: SignerPolicy, options: { jobs?: number } = {}): Promise<SignatureReport> {
  const stats = await stat(path).catch((error: unknown) => {
    throw new AiscError('SOURCE_NOT_FOUND', `${path}: no such file or folder`, { cause: error });
  });
  if (stats.isDirectory() || (stats.isFile() && (await isModelSigningBundle(bundlePath)))) return verifyModelSignature(path, bundlePath, policy, options);
  if (!stats.isFile()) throw new AiscError('NOT_A_FILE', `${path}: expected a file or a folder`);
  return verifyFileSignature(path, bundlePath, policy);
}

async function isModelSigningBundle(bundlePath: string): Promise<boolean> {
  const { bundle } = await readBundle(bundlePath);
  if (bundle.content.$case !== 'dsseEnvelope') return false;
  try {
    return (JSON.parse(bundle.content.dsseEnvelope.payload.toString('utf8')) as { predicateType?: unknown }).predicateType === OMS_PREDICATE_TYPE;
  } catch {
    return false;
  }
}
