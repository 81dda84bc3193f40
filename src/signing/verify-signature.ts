import { stat } from 'node:fs/promises';
import { AiscError } from '../errors.js';
import { readBundle, readBundleFile, type BundleFile } from './bundle.js';
import { isOmsBundle } from './oms.js';
import type { SignerPolicy } from './verify-bundle.js';
import { verifyFileSignature, type SignatureReport } from './verify-file.js';
import { verifyModelSignature, type ModelVerifyOptions } from './verify-model.js';

/**
 * `aisc verify-signature`: a folder is a model (OpenSSF Model Signing); a file is a model too when
 * its bundle carries the OMS predicate, else a signed blob or in-toto subject.
 */
export async function verifySignature(path: string, bundlePath: string, policy: SignerPolicy, options: ModelVerifyOptions = {}): Promise<SignatureReport> {
  const stats = await stat(path).catch((error: unknown) => {
    throw new AiscError('SOURCE_NOT_FOUND', `${path}: no such file or folder`, { cause: error });
  });
  const file = await readBundleFile(bundlePath);
  if (stats.isDirectory() || (stats.isFile() && (await isModelSigningBundle(file, policy)))) return verifyModelSignature(path, file, policy, options);
  if (!stats.isFile()) throw new AiscError('NOT_A_FILE', `${path}: expected a file or a folder`);
  return verifyFileSignature(path, file, policy);
}

async function isModelSigningBundle(file: BundleFile, policy: SignerPolicy): Promise<boolean> {
  // A one-file model signed with a certificate (model_signing's v0.3 bundle with a chain) is read as verifyModelSignature reads it.
  const { bundle } = await readBundle(file, { allowV03CertificateChain: policy.kind !== 'keyless' });
  return isOmsBundle(bundle);
}
