/** aisc's library API: the CLI is a thin skin over these. */
export { AiscError, type AiscErrorCode } from './errors.js';
export { getFileRole, getFormatFacts, getWeightFormat, inferKind, readSafetensorsFacts, type FileRole } from './formats/index.js';
export { hashFile, hashFiles, HashPool, type HashJob, type HashResult } from './hashing/index.js';
export { FINDING_CODES, FINDING_INFO, toFinding, type FindingInfo, type Severity } from './findings.js';
export { initProject } from './init.js';
export { lockArtifacts, type LockOptions, type LockResult } from './lock/index.js';
export * from './lockfile/index.js';
export { VERIFY_RENDERERS, SCAN_RENDERERS, SBOM_RENDERERS, PLACED_FORMATS, getScanPlacement, getVerifyPlacement, renderCycloneDx, type Placement, type RenderContext, type VerifyFormat, type ScanFormat, type SbomFormat } from './report/index.js';
export { DEFAULT_IGNORED, toIgnoreMatcher, walkTree } from './sources/index.js';
export {
  getPublicGoodTrustedRoot,
  readBundle,
  readPrivateKey,
  signFile,
  signModel,
  toSignerPolicy,
  verifyModelSignature,
  verifySignature,
  type SignatureReport,
  type SignerPolicy,
  type VerifiedSigner,
} from './signing/index.js';
export { listFindings, verifyLockfile, verifyLockfileWithSources, type ArtifactReport, type Finding, type FindingCode, type VerifiedSources, type VerifyOptions, type VerifyReport } from './verify/index.js';
export { lockPackageLock, type NpmLockOptions, type NpmLockResult } from './npm/lock-npm.js';
export { parsePackageLock, type NpmPackage } from './npm/package-lock.js';
export { verifyAttestations, type AttestationFacts } from './npm/attestations.js';
export { readRegistryConfig, type RegistryConfig } from './npm/config.js';
export { diffLockfiles } from './diff/diff.js';
