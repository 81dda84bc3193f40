import { createPublicKey } from 'node:crypto';
import { join } from 'node:path';
import { AiscError } from '../errors.js';
import { makeFolder, writeFileAtomic } from '../io/index.js';
import { getKeyFingerprint } from '../signing/keys.js';
import { toApprovalPayload } from './approval.js';
import { loadChangeSet, type ChangeSet } from './change-set.js';

export interface ApproveOptions {
  base: string;
  lockfile: string;
  policy: string;
  reviewer: string;
  /** A private key PEM path, or keyless signing through Sigstore. */
  key?: string;
  keyless?: { fulcioUrl?: string; rekorUrl?: string; tsaUrl?: string };
  comment?: string;
  approvalsDir: string;
  output?: string;
  now?: Date;
}

/**
 * Signs an approval of exactly the change from `base` to the working tree's lockfile and policy,
 * as `reviewer`, and writes it to the approvals folder. Refuses what would count for nothing: a
 * reviewer the base policy does not name, or a key other than the one it registers for them.
 */
export async function approveChange(options: ApproveOptions): Promise<{ path: string; changeSet: ChangeSet }> {
  const changeSet = await loadChangeSet(options);
  const registered = changeSet.base.policy?.policy.reviewers?.get(options.reviewer);
  if (!changeSet.base.policy) throw new AiscError('USAGE', `the base (${changeSet.base.where}) has no policy: there is nobody to approve as`);
  if (!registered) throw new AiscError('USAGE', `--reviewer: ${JSON.stringify(options.reviewer)} is not a reviewer in the base policy ${changeSet.base.policy.where}`);
  if (changeSet.diff.changes.length === 0) throw new AiscError('USAGE', `nothing to approve: no changes since ${changeSet.base.where}`);
  const payload = toApprovalPayload(changeSet, options.reviewer, options.now ?? new Date(), options.comment);
  let bundle: object;
  if (options.key) {
    const { readPrivateKey, toDsseBundle } = await import('../signing/sign.js');
    const key = await readPrivateKey(options.key);
    const expected = registered.key ? changeSet.base.policy.keys.get(registered.key) : undefined;
    if (!expected || getKeyFingerprint(createPublicKey(key)) !== getKeyFingerprint(expected)) {
      throw new AiscError('USAGE', `--key: not the key the base policy registers for ${options.reviewer}${registered.key ? ` (${registered.key})` : ' (they approve keylessly)'}`);
    }
    bundle = toDsseBundle(payload, key);
  } else if (options.keyless) {
    const { signPayloadKeyless } = await import('../signing/keyless.js');
    bundle = await signPayloadKeyless(payload, options.keyless);
  } else {
    throw new AiscError('USAGE', 'expected one of --key or --keyless');
  }
  const stamp = (options.now ?? new Date()).toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
  const path = options.output ?? join(options.approvalsDir, `${changeSet.diff.changeDigest.slice(0, 12)}-${options.reviewer}-${stamp}.json`);
  if (!options.output) await makeFolder(options.approvalsDir);
  await writeFileAtomic(path, `${JSON.stringify(bundle, null, 2)}\n`);
  return { path, changeSet };
}
