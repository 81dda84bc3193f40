export { checkDigest, checkPaths, type ArtifactCheck } from './check-artifact.js';
export type { ArtifactReport, Finding, FindingCode, VerifyReport } from './findings.js';
export { verifyLockfile, type VerifyOptions } from './verify-lockfile.js';
