import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import type { TrustedRoot } from '@sigstore/protobuf-specs';
import { AiscError, isAiscError } from '../errors.js';
import { readBundle } from '../signing/bundle.js';
import { DsseContent } from '../signing/content.js';
import { isSignatureFinding } from '../signing/errors.js';
import { parseStatement } from '../signing/statement.js';
import { getPublicGoodTrustedRoot } from '../signing/trust.js';
import { verifyBundle, type SignerPolicy } from '../signing/verify-bundle.js';
import type { ChangeSet } from './change-set.js';
import type { LoadedPolicy } from './types.js';

export const APPROVAL_PREDICATE_TYPE = 'https://aisc.dev/approval/v1';
const MAX_APPROVALS = 1000;
/** Clocks differ: an approval dated a little ahead is accepted, one far ahead is not. */
const CLOCK_SKEW_MS = 5 * 60 * 1000;

export interface ApprovalPredicate {
  reviewer: string;
  approvedAt: string;
  comment?: string;
  base: { lockfile: string; policy: string };
  new: { lockfile: string; policy: string };
  changes: string;
}

/** The in-toto statement a reviewer signs: this new lockfile, from this base, under these policies, for these changes. */
export function toApprovalPayload(changeSet: ChangeSet, reviewer: string, now: Date, comment?: string): Buffer {
  const predicate: ApprovalPredicate = {
    reviewer,
    approvedAt: now.toISOString(),
    ...(comment === undefined ? {} : { comment }),
    base: { lockfile: changeSet.base.lockfileDigest, policy: changeSet.base.policy?.digest ?? 'none' },
    new: { lockfile: changeSet.next.lockfileDigest, policy: changeSet.next.policy?.digest ?? 'none' },
    changes: changeSet.diff.changeDigest,
  };
  const statement = {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [{ name: 'aisc.lock.json', digest: { sha256: changeSet.next.lockfileDigest } }],
    predicateType: APPROVAL_PREDICATE_TYPE,
    predicate,
  };
  return Buffer.from(JSON.stringify(statement));
}

export interface ValidApproval {
  file: string;
  reviewer: string;
  approvedAt: string;
}

export interface IgnoredApproval {
  file: string;
  reviewer?: string;
  reason: string;
}

/**
 * Reads every approval in `dir` and keeps those that count: signed by the reviewer they name with
 * a key or identity the base policy registers for that reviewer, bound to exactly this change
 * (base and new lockfile, both policies, change digest), and not older than maxAge. The rest are
 * listed with the reason they count for nothing.
 */
export async function checkApprovals(
  dir: string,
  changeSet: ChangeSet,
  basePolicy: LoadedPolicy,
  now: Date,
  maxAgeMs: number | undefined,
  trustedRoot: TrustedRoot = getPublicGoodTrustedRoot(),
): Promise<{ valid: ValidApproval[]; ignored: IgnoredApproval[] }> {
  const valid: ValidApproval[] = [];
  const ignored: IgnoredApproval[] = [];
  let names: string[];
  try {
    names = (await readdir(dir)).filter((name) => name.endsWith('.json')).sort();
  } catch {
    return { valid, ignored };
  }
  if (names.length > MAX_APPROVALS) throw new AiscError('APPROVAL_INVALID', `${dir}: more than ${MAX_APPROVALS} approvals; prune old ones`);
  for (const name of names) {
    const file = join(dir, name);
    try {
      const approval = await verifyApprovalFile(file, changeSet, basePolicy, now, maxAgeMs, trustedRoot);
      valid.push({ file, ...approval });
    } catch (error) {
      // A well-formed approval that does not count is listed; one that does not even parse stops
      // the gate (exit 2): nobody should wonder whether a garbled file was someone's approval.
      if (!isAiscError(error) || error.code !== 'APPROVAL_REJECTED') {
        if (isAiscError(error) && error.code !== 'INTERNAL') throw new AiscError('APPROVAL_INVALID', `${file}: ${error.message}`, { cause: error });
        throw error;
      }
      ignored.push({ file, reviewer: (error.details?.reviewer as string | undefined) ?? undefined, reason: error.message });
    }
  }
  return { valid, ignored };
}

async function verifyApprovalFile(
  file: string,
  changeSet: ChangeSet,
  basePolicy: LoadedPolicy,
  now: Date,
  maxAgeMs: number | undefined,
  trustedRoot: TrustedRoot,
): Promise<{ reviewer: string; approvedAt: string }> {
  const { bundle } = await readBundle(file);
  if (bundle.content.$case !== 'dsseEnvelope') throw new AiscError('APPROVAL_INVALID', 'not a DSSE envelope');
  const statement = parseStatement(bundle.content.dsseEnvelope);
  if (statement.predicateType !== APPROVAL_PREDICATE_TYPE) throw new AiscError('APPROVAL_INVALID', `predicate type ${statement.predicateType}`);
  const predicate = statement.predicate as Partial<ApprovalPredicate> | null;
  const reviewer = typeof predicate?.reviewer === 'string' ? predicate.reviewer : undefined;
  const details = { reviewer };
  if (!predicate || !reviewer) throw new AiscError('APPROVAL_INVALID', 'names no reviewer', { details });
  const registered = basePolicy.policy.reviewers?.get(reviewer);
  if (!registered) throw new AiscError('APPROVAL_REJECTED', `${reviewer} is not a reviewer in the base policy`, { details });
  const expected: [string, unknown, string][] = [
    ['base lockfile', predicate.base?.lockfile, changeSet.base.lockfileDigest],
    ['new lockfile', predicate.new?.lockfile, changeSet.next.lockfileDigest],
    ['base policy', predicate.base?.policy, changeSet.base.policy?.digest ?? 'none'],
    ['new policy', predicate.new?.policy, changeSet.next.policy?.digest ?? 'none'],
    ['changes', predicate.changes, changeSet.diff.changeDigest],
    ['subject', statement.subject[0]?.digest.sha256, changeSet.next.lockfileDigest],
  ];
  const unbound = expected.filter(([, actual, wanted]) => actual !== wanted).map(([what]) => what);
  if (unbound.length > 0) throw new AiscError('APPROVAL_REJECTED', `approves another change (${unbound.join(', ')} differ)`, { details });
  const approvedAt = new Date(typeof predicate.approvedAt === 'string' ? predicate.approvedAt : Number.NaN);
  if (Number.isNaN(approvedAt.getTime())) throw new AiscError('APPROVAL_INVALID', 'has no valid approvedAt time', { details });
  if (approvedAt.getTime() > now.getTime() + CLOCK_SKEW_MS) throw new AiscError('APPROVAL_REJECTED', `is dated in the future (${approvedAt.toISOString()})`, { details });
  if (maxAgeMs !== undefined && now.getTime() - approvedAt.getTime() > maxAgeMs) throw new AiscError('APPROVAL_REJECTED', `is older than the policy's maxAge (${approvedAt.toISOString()})`, { details });
  const signer: SignerPolicy =
    registered.key !== undefined
      ? { kind: 'key', key: basePolicy.keys.get(registered.key) as KeyObject, trustedRoot }
      : { kind: 'keyless', trustedRoot, identity: { identity: { exact: registered.identity ?? '' }, issuer: { exact: registered.issuer ?? '' } } };
  try {
    verifyBundle(bundle, new DsseContent(bundle.content.dsseEnvelope), signer);
  } catch (error) {
    if (isSignatureFinding(error)) throw new AiscError('APPROVAL_REJECTED', `not signed by ${reviewer}'s registered ${registered.key ? 'key' : 'identity'} (${error.code})`, { details });
    throw error;
  }
  return { reviewer, approvedAt: approvedAt.toISOString() };
}

export function parseDuration(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const match = /^(\d+)(h|d|w)$/.exec(text);
  if (!match) return undefined;
  const unit = { h: 3600_000, d: 86_400_000, w: 604_800_000 }[match[2] as 'h' | 'd' | 'w'];
  return Number(match[1]) * unit;
}
