export { checkDigest, checkPaths, type ArtifactCheck } from './check-artifact.js';
export { listFindings, type ArtifactReport, type Finding, type FindingCode, type VerifiedSources, type VerifyReport } from './findings.js';
export { verifyLockfile, verifyLockfileWithSources, type VerifyOptions } from './verify-lockfile.js';
