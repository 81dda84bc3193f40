import { AiscError } from '../errors.js';
import { acquireHashPool, type HashPool, type ProgressSource } from '../hashing/index.js';
import { compareCodePoints, decodeUtf8, MAX_LOCKFILE_BYTES, parseLockfile, readBoundedBytes } from '../lockfile/index.js';
import type { SignerPolicy } from '../signing/verify-bundle.js';
import type { Lockfile } from '../lockfile/types.js';
import { fromLocalSource } from '../sources/index.js';
import { checkDigests, checkPaths, type ArtifactCheck } from './check-artifact.js';
import { checkSignatures } from './check-signature.js';
import type { ArtifactReport, Finding, LockfileSignatureReport, VerifyReport } from './findings.js';

export interface VerifyOptions {
  lockfile: string;
  /** NAME → PATH: verify that artifact where it is mounted now rather than at its locked source. */
  artifactPaths?: Record<string, string>;
  allowSymlinks?: boolean;
  jobs?: number;
  onHashing?: (progress: ProgressSource, totalBytes: number) => void;
  /** Verify the lockfile's own bytes against this bundle first (signed by the release job). */
  lockfileSignature?: { bundle: string; policy: SignerPolicy };
}

/**
 * Verifies every artifact of a lockfile and reports every finding (never only the first):
 * checkPaths → hashFiles → checkDigests → checkDependencies → checkSignatures.
 */
export async function verifyLockfile(options: VerifyOptions): Promise<VerifyReport> {
  const pool = acquireHashPool({ jobs: options.jobs });
  try {
    return await verifyWith(pool, options);
  } finally {
    await pool.close();
  }
}

async function verifyWith(pool: HashPool, options: VerifyOptions): Promise<VerifyReport> {
  // Read once: the bytes whose signature is checked are the bytes parsed.
  const bytes = await readBoundedBytes(options.lockfile, MAX_LOCKFILE_BYTES);
  const lockfile = await parseLockfile(decodeUtf8(bytes, options.lockfile), options.lockfile);
  const lockfileSignature = options.lockfileSignature ? await checkLockfileSignature(bytes, options.lockfile, options.lockfileSignature) : undefined;
  const overrides = options.artifactPaths ?? {};
  const unknown = Object.keys(overrides).filter((name) => !lockfile.artifacts[name]);
  if (unknown.length > 0) {
    throw new AiscError('UNKNOWN_ARTIFACT', `--artifact: expected a locked artifact name, got ${unknown.map((n) => JSON.stringify(n)).join(', ')}`);
  }

  const checks: ArtifactCheck[] = Object.entries(lockfile.artifacts).map(([name, artifact]) => {
    const root = overrides[name] ?? fromLocalSource(artifact.source, options.lockfile);
    return checkPaths(name, artifact, root, { allowSymlinks: options.allowSymlinks ?? false, lockfile: options.lockfile });
  });

  const jobs = checks.flatMap((check) => check.jobs.map(({ job }) => job));
  options.onHashing?.(pool, jobs.reduce((sum, job) => sum + (job.expectedSize ?? 0), 0));
  const results = await pool.hash(jobs);
  let offset = 0;
  for (const check of checks) {
    checkDigests(check, results.slice(offset, offset + check.jobs.length));
    offset += check.jobs.length;
  }
  checkDependencies(lockfile, checks);
  await checkSignatures(checks, options.lockfile);
  const report = toReport(options.lockfile, checks);
  if (!lockfileSignature) return report;
  return { ...report, ok: report.ok && lockfileSignature.ok, lockfileSignature };
}

async function checkLockfileSignature(bytes: Buffer, where: string, { bundle, policy }: { bundle: string; policy: SignerPolicy }): Promise<LockfileSignatureReport> {
  const { verifyBytesSignature } = await import('../signing/verify-file.js');
  const report = await verifyBytesSignature(bytes, where, bundle, policy);
  return { ok: report.ok, bundle, signer: report.signer, findings: report.findings };
}

function checkDependencies(lockfile: Lockfile, checks: ArtifactCheck[]): void {
  for (const check of checks) {
    for (const dependency of check.artifact.dependsOn ?? []) {
      if (!lockfile.artifacts[dependency]) {
        check.findings.push({ artifact: check.name, code: 'DEPENDENCY_MISSING', message: `depends on ${JSON.stringify(dependency)}, which is not locked`, expected: dependency });
      }
    }
  }
}

function toReport(lockfile: string, checks: ArtifactCheck[]): VerifyReport {
  const artifacts: ArtifactReport[] = checks.map((check) => ({
    name: check.name,
    kind: check.artifact.kind,
    root: check.root,
    ok: check.findings.length === 0,
    files: check.artifact.files.length,
    bytes: check.artifact.files.reduce((sum, file) => sum + file.size, 0),
    findings: sortFindings(check.findings),
  }));
  const findings = artifacts.reduce((sum, a) => sum + a.findings.length, 0);
  return {
    ok: findings === 0,
    lockfile,
    artifacts,
    summary: {
      artifacts: artifacts.length,
      files: artifacts.reduce((sum, a) => sum + a.files, 0),
      bytes: artifacts.reduce((sum, a) => sum + a.bytes, 0),
      findings,
    },
  };
}

/** Findings in path order, each with its keys in one order, so JSON reports diff cleanly. */
function sortFindings(findings: Finding[]): Finding[] {
  return [...findings]
    .sort((a, b) => compareCodePoints(a.path ?? '', b.path ?? '') || compareCodePoints(a.code, b.code))
    .map(({ code, artifact, path, message, expected, actual }) => ({ code, artifact, path, message, expected, actual }));
}
