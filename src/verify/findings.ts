import type { Change } from '../diff/types.js';
import type { ArtifactKind } from '../lockfile/types.js';
import type { Finding } from '../findings.js';

export type { Finding, FindingCode } from '../findings.js';

export interface ArtifactReport {
  name: string;
  kind: ArtifactKind;
  /** Where it was verified. */
  root: string;
  ok: boolean;
  files: number;
  bytes: number;
  findings: Finding[];
}

/** A package-lock.json that npm artifacts were locked from, checked for drift. */
export interface PackageLockReport {
  /** As recorded: relative to the lockfile's folder. */
  path: string;
  /** Packages locked from it. */
  packages: number;
  ok: boolean;
  /** Drift that belongs to no locked package: a package added, or the file gone. */
  findings: Finding[];
}

export interface LockfileSignatureReport {
  ok: boolean;
  bundle: string;
  signer?: unknown;
  findings: Finding[];
}

/** With --base: the changes since the base, the approvals that count, and what is still missing. */
export interface GateReport {
  base: string;
  basePolicy?: string;
  changeDigest: string;
  changes: Change[];
  approvals: { reviewer: string; file: string; approvedAt: string }[];
  ignored: { file: string; reviewer?: string; reason: string }[];
  /** APPROVALS_MISSING for each approval rule a change does not meet (also among the report's own findings). */
  findings: Finding[];
}

export interface ShardReport {
  /** Part `index` of `count`, counted from 1. */
  index: number;
  count: number;
  /** SHA-256 of the lockfile's bytes: reports of different lockfiles never merge. */
  lockfileSha256: string;
  /**
   * The locked files (and their locked bytes) this part owns under the split, each hashed (or
   * answered from the cache) or named in a finding; and the SHA-256 of which they are (their
   * `artifact\0path` keys in lockfile order, a kept archive's as `artifact\0`, one a line).
   * `aisc report merge` computes the same from the lockfile and refuses a part that disagrees.
   */
  files: number;
  bytes: number;
  filesSha256: string;
}

export interface VerifyReport {
  ok: boolean;
  lockfile: string;
  /** Findings about the lockfile as a whole: it pins nothing, its signature, approvals its changes lack. */
  findings?: Finding[];
  /** The policy whose rules were applied (the base policy with --base). */
  policy?: string;
  gate?: GateReport;
  /** With --lockfile-signature: whether the lockfile's bytes are signed by the signer named. */
  lockfileSignature?: LockfileSignatureReport;
  artifacts: ArtifactReport[];
  /** With --shard: which part of the files this report hashed, of which lockfile (the rest of the stages ran whole). */
  shard?: ShardReport;
  /** From aisc report merge: how many parts were joined, and the locked files they own in all (every one). */
  merged?: { parts: number; lockfileSha256: string; files: number; bytes: number };
  /** With --cache: files answered from it (not read) and files read. */
  cache?: { path: string; hits: number; misses: number; notSaved?: string };
  /** The package-lock.json files npm artifacts come from (absent when none are locked). */
  packageLocks?: PackageLockReport[];
  summary: { artifacts: number; files: number; bytes: number; npmPackages: number; findings: number };
}

/**
 * What verify read that findings point into, as verified: the lockfile's text and each
 * package-lock.json's (by its recorded path). Renderers place findings from these, never from a
 * second read that could be of other bytes.
 */
export interface VerifiedSources {
  lockfile: string;
  packageLocks: ReadonlyMap<string, string>;
}

/** Every finding of a report, wherever it sits: what SARIF and annotations show. */
export function listFindings(report: VerifyReport): Finding[] {
  return [...(report.findings ?? []), ...report.artifacts.flatMap((artifact) => artifact.findings), ...(report.packageLocks ?? []).flatMap((packageLock) => packageLock.findings)];
}
