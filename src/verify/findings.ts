import type { HashFailureCode } from '../hashing/types.js';
import type { PolicyFindingCode } from '../policy/evaluate.js';
import type { SignatureFindingCode } from '../signing/errors.js';
import type { Change } from '../diff/types.js';
import type { GateFinding } from '../policy/gate.js';
import type { ArtifactKind } from '../lockfile/types.js';
import type { NpmFindingCode } from '../npm/findings.js';
import type { ContentFindingCode } from '../formats/verdict.js';

/** What verify can find wrong; each is a failure (exit 1). Stable: part of the JSON report. */
export type FindingCode =
  | HashFailureCode
  | 'DIGEST_MISMATCH'
  | 'EXTRA_FILE'
  | 'ARTIFACT_MISSING'
  | 'LAYOUT_CHANGED'
  | 'ROOT_DIGEST_MISMATCH'
  | 'DEPENDENCY_MISSING'
  | 'SIGNATURE_MISSING'
  | 'SIGNATURE_CHANGED'
  | SignatureFindingCode
  | ContentFindingCode
  | 'FORMAT_CHANGED'
  | PolicyFindingCode
  | NpmFindingCode;

export interface Finding {
  code: FindingCode;
  artifact: string;
  /** The file, relative to the artifact root, when the finding is about one file. */
  path?: string;
  message: string;
  expected?: string | number;
  actual?: string | number;
}

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
  findings: { code: string; message: string }[];
}

/** With --base: the changes since the base, the approvals that count, and what is still missing. */
export interface GateReport {
  base: string;
  basePolicy?: string;
  changeDigest: string;
  changes: Change[];
  approvals: { reviewer: string; file: string; approvedAt: string }[];
  ignored: { file: string; reviewer?: string; reason: string }[];
  findings: GateFinding[];
}

/** A finding about the lockfile as a whole, not one artifact. */
export interface LockfileFinding {
  code: 'NOTHING_LOCKED';
  message: string;
}

export interface VerifyReport {
  ok: boolean;
  lockfile: string;
  /** Findings about the lockfile as a whole (it pins nothing). */
  findings?: LockfileFinding[];
  /** The policy whose rules were applied (the base policy with --base). */
  policy?: string;
  gate?: GateReport;
  /** With --lockfile-signature: whether the lockfile's bytes are signed by the signer named. */
  lockfileSignature?: LockfileSignatureReport;
  artifacts: ArtifactReport[];
  /** The package-lock.json files npm artifacts come from (absent when none are locked). */
  packageLocks?: PackageLockReport[];
  summary: { artifacts: number; files: number; bytes: number; npmPackages: number; findings: number };
}
