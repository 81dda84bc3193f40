// The bottom of the checks: this module imports nothing, and every check imports its codes from here.

/** A file that could not be hashed as locked (from the hashing workers). */
export type HashFailureCode = 'MISSING_FILE' | 'UNREADABLE_FILE' | 'NOT_A_FILE' | 'SYMLINK_REFUSED' | 'SYMLINK_OUTSIDE_ROOT' | 'SIZE_MISMATCH' | 'FILE_CHANGED';

/** A signature that does not verify, or verifies for someone else. */
export type SignatureFindingCode =
  | 'SIGNATURE_INVALID'
  | 'SIGNER_MISMATCH'
  | 'DIGEST_MISMATCH'
  | 'SUBJECT_MISMATCH'
  | 'MANIFEST_MISMATCH'
  | 'CERTIFICATE_INVALID'
  | 'TLOG_INVALID'
  | 'TIMESTAMP_INVALID'
  | 'TRUST_ROOT_MISMATCH'
  | 'SIGNATURE_MISSING';

/** What the format gate finds in a file's bytes. */
export type ContentFindingCode = 'PICKLE_UNSAFE' | 'PICKLE_UNDECIDABLE' | 'CONTENT_UNSCANNABLE' | 'FORMAT_INVALID' | 'FORMAT_MISMATCH';

/** What can be wrong with an npm package; each names the package. */
export type NpmFindingCode =
  | 'NPM_INTEGRITY_MISSING'
  | 'NPM_INTEGRITY_MISMATCH'
  | 'NPM_RESOLVED_ELSEWHERE'
  | 'NPM_NOT_IN_REGISTRY'
  | 'NPM_SIGNATURE_INVALID'
  | 'NPM_SIGNATURE_UNKNOWN_KEY'
  | 'NPM_SIGNATURE_KEY_EXPIRED'
  | 'NPM_ATTESTATION_INVALID'
  | 'NPM_UNSIGNED'
  | 'NPM_PROVENANCE_MISSING'
  | 'NPM_PROVENANCE_REPOSITORY'
  | 'NPM_INSTALL_SCRIPT'
  | 'NPM_SOURCE'
  | 'NPM_PACKAGE_ADDED'
  | 'NPM_PACKAGE_REMOVED'
  | 'NPM_VERSION_CHANGED'
  | 'NPM_INTEGRITY_CHANGED'
  | 'NPM_SOURCE_CHANGED'
  | 'NPM_INSTALL_SCRIPT_ADDED'
  | 'NPM_PACKAGE_LOCK_MISSING'
  | 'NPM_EVIDENCE_MISSING'
  | 'NPM_EVIDENCE_CHANGED'
  | 'NPM_EVIDENCE_MISMATCH';

/** A policy rule an artifact does not meet (npm packages by the npm terms). */
export type PolicyFindingCode = 'POLICY_UNSIGNED' | 'POLICY_SIGNER' | 'POLICY_SOURCE' | 'POLICY_FORMAT' | NpmFindingCode;

/** What verify and scan can find wrong; each is a failure (exit 1). Stable: part of every report. */
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
  | 'ARCHIVE_TRAILING_DATA'
  | PolicyFindingCode
  | NpmFindingCode
  | 'NOTHING_LOCKED'
  | 'APPROVALS_MISSING';

/** How bad it is if the finding is an attack (GitHub's security-severity bands). */
export type Severity = 'critical' | 'high' | 'medium' | 'low';

/** The one finding that every check emits and every renderer reads. */
export interface Finding {
  code: FindingCode;
  severity: Severity;
  /** The artifact it is about; absent for the lockfile as a whole. */
  artifact?: string;
  /** The file, relative to the artifact root (to the scanned path for scan). */
  path?: string;
  /** The policy rule that produced it, 1-based as a person counts the rules in the file. */
  rule?: number;
  message: string;
  expected?: string | number;
  actual?: string | number;
  /** What to do about it. */
  help: string;
}

export interface FindingInfo {
  severity: Severity;
  /** A few words: the rule's short description and an annotation's title. */
  title: string;
  /** One sentence on what it means. */
  description: string;
  help: string;
}

const RELOCK = 'If the change is intended, review it and run aisc lock again; otherwise restore the artifact from its locked source (aisc fetch).';
const REFETCH = 'Restore the artifact from its locked source (aisc fetch NAME) and verify again.';
const NPM_RELOCK = 'Restore package-lock.json, or review the change and run aisc lock package-lock.json again.';

const info = (severity: Severity, title: string, description: string, help: string): FindingInfo => ({ severity, title, description, help });

/** Every code with its severity, words and advice: SARIF rules, annotation titles and help come from here. */
export const FINDING_INFO: Readonly<Record<FindingCode, FindingInfo>> = {
  DIGEST_MISMATCH: info('critical', 'Content differs from the lockfile', 'A file\'s SHA-256, or that of one of its chunks, is not the one locked: its bytes changed.', RELOCK),
  SIZE_MISMATCH: info('critical', 'Size differs from the lockfile', 'A file\'s size is not the one locked, so its bytes changed.', RELOCK),
  MISSING_FILE: info('high', 'Locked file missing', 'A locked file is not where the artifact is.', REFETCH),
  EXTRA_FILE: info('high', 'File not in the lockfile', 'The artifact holds a file that was not locked; a loader may pick it up.', 'Remove the file, or review it and run aisc lock again.'),
  UNREADABLE_FILE: info('high', 'File cannot be read', 'A locked file or folder could not be read, so it could not be verified.', 'Fix the permissions or the storage, then verify again.'),
  NOT_A_FILE: info('high', 'Not a regular file', 'A locked path is now a folder, link or special file.', REFETCH),
  SYMLINK_REFUSED: info('high', 'Symlink refused', 'A locked path is now a symbolic link; links are refused unless allowed.', 'Replace the link with the file, or pass --allow-symlinks if links inside the artifact are intended.'),
  SYMLINK_OUTSIDE_ROOT: info('critical', 'Symlink leaves the artifact', 'A link resolves outside the artifact\'s root; it could point anywhere.', 'Replace the link with the locked file.'),
  FILE_CHANGED: info('high', 'File changed while read', 'The file\'s size or times moved while it was hashed.', 'Stop whatever writes to the artifact and verify again.'),
  ARTIFACT_MISSING: info('high', 'Artifact missing', 'The artifact is not where the lockfile says, so nothing of it was verified.', 'Run aisc fetch NAME, or pass --artifact NAME=PATH where it is mounted.'),
  LAYOUT_CHANGED: info('high', 'File became a folder, or a folder a file', 'The artifact\'s layout is not the one locked.', REFETCH),
  ROOT_DIGEST_MISMATCH: info('critical', 'Lockfile digest does not match its files', 'The artifact\'s digest in the lockfile disagrees with its own file list: the lockfile was edited by hand.', 'Restore the lockfile from a trusted commit, or run aisc lock again.'),
  DEPENDENCY_MISSING: info('medium', 'Dependency not locked', 'The artifact depends on one (an adapter\'s base model) that the lockfile does not pin.', 'Lock the dependency too, or correct dependsOn.'),
  SIGNATURE_MISSING: info('high', 'Signature bundle missing', 'The lockfile records a signature whose bundle is not there.', 'Restore the bundle beside the lockfile, or lock again with --signature.'),
  SIGNATURE_CHANGED: info('critical', 'Signature bundle changed', 'The signature bundle is not the one locked.', 'Restore the locked bundle, or review the new signer and lock again.'),
  SIGNATURE_INVALID: info('critical', 'Signature does not verify', 'The signature, certificate chain or transparency-log proof does not verify.', 'Do not deploy: obtain the artifact and its bundle again from the publisher.'),
  SIGNER_MISMATCH: info('critical', 'Signed by someone else', 'The signature verifies, but its signer is not the one required.', 'Check who signed it; if the new signer is trusted, update the identity flags or the policy\'s trust.'),
  SUBJECT_MISMATCH: info('critical', 'Signature is for other content', 'The signed subject names other bytes than these.', 'Obtain the bundle that signs exactly this artifact.'),
  MANIFEST_MISMATCH: info('critical', 'Signed manifest differs', 'The model signature\'s manifest lists other files or digests than the artifact has.', 'Restore the artifact as signed, or sign it again.'),
  CERTIFICATE_INVALID: info('critical', 'Certificate does not verify', 'The signing certificate does not chain to the trusted root or was not valid at signing time.', 'Obtain a bundle signed under the trusted root, or pass the right --trusted-root.'),
  TLOG_INVALID: info('critical', 'Transparency-log proof does not verify', 'The bundle\'s transparency-log entry or inclusion proof does not verify.', 'Obtain the bundle again; do not deploy until it verifies.'),
  TIMESTAMP_INVALID: info('critical', 'Timestamp does not verify', 'The bundle\'s signed timestamp does not verify.', 'Obtain the bundle again; do not deploy until it verifies.'),
  TRUST_ROOT_MISMATCH: info('high', 'Not under this trusted root', 'The bundle was made under another Sigstore instance than the trusted root given.', 'Pass the trusted root of the instance that signed it (--trusted-root).'),
  PICKLE_UNSAFE: info('critical', 'Pickle imports code that runs on load', 'A pickle (on its own or inside a checkpoint) makes the unpickler import names outside the weights allowlist before it stops; loading it runs code.', 'Do not load it. Ask for safetensors; if the imports are known safe, allow those exact names with a rule\'s allow.pickleImports.'),
  PICKLE_UNDECIDABLE: info('high', 'Pickle cannot be judged', 'What the unpickler would import depends on something aisc cannot know ahead of loading (a name computed by a call, or a stream past aisc\'s limits), so the pickle is refused.', 'Do not load it. Ask for safetensors, or for a pickle that spells out its imports.'),
  CONTENT_UNSCANNABLE: info('high', 'Content cannot be scanned', 'A container where a pickle may hide (an encrypted or corrupt zip, 7z, xz…) could not be opened.', 'Ship the content unpacked or in a format aisc reads, or remove it.'),
  FORMAT_INVALID: info('high', 'Malformed weight file', 'A safetensors, GGUF or numpy header breaks its format\'s rules; readers may disagree about it.', 'Re-export the weights with the format\'s own writer.'),
  FORMAT_MISMATCH: info('critical', 'Content disguised by its name', 'A file named as code-free (.safetensors, .gguf, .json…) holds a pickle.', 'Do not load it; find out who produced it.'),
  ARCHIVE_TRAILING_DATA: info('high', 'Data after the end of an archive', 'A .tar holds bytes after its end-of-archive blocks, or a .tar.gz bytes after its first gzip member: some readers stop at the end, others (node-tar, tar -i, gzip -d) read on and would extract members the lockfile never listed.', 'Do not extract it; ask for the archive as its publisher made it, or re-create it with one tar run.'),
  FORMAT_CHANGED: info('high', 'Format changed', 'A file\'s bytes are now of another format than the one locked.', RELOCK),
  POLICY_UNSIGNED: info('high', 'Policy requires a signature', 'A policy rule requires this artifact to be signed, and the lockfile records no signature.', 'Lock it with --signature BUNDLE from a trusted signer.'),
  POLICY_SIGNER: info('high', 'Signer not trusted by the policy', 'The artifact is signed, but not by a signer the matching rule requires.', 'Have a trusted signer sign it, or change the policy through review.'),
  POLICY_SOURCE: info('high', 'Source not allowed by the policy', 'The artifact comes from a source the matching rule does not allow.', 'Take the artifact from an allowed source, or change the policy through review.'),
  POLICY_FORMAT: info('high', 'Format denied by the policy', 'The artifact holds a format the matching rule denies (for example pickle).', 'Convert the weights (to safetensors), or change the policy through review.'),
  NPM_INTEGRITY_MISSING: info('high', 'npm package has no integrity', 'package-lock.json records no integrity for the package.', NPM_RELOCK),
  NPM_INTEGRITY_MISMATCH: info('critical', 'npm integrity differs', 'The package\'s integrity is not the one locked.', NPM_RELOCK),
  NPM_RESOLVED_ELSEWHERE: info('high', 'npm package resolved elsewhere', 'The package is resolved from another place than the one locked.', NPM_RELOCK),
  NPM_NOT_IN_REGISTRY: info('high', 'npm package not in the registry', 'The registry does not know this package version.', 'Check the name and version; it may have been unpublished or never existed.'),
  NPM_SIGNATURE_INVALID: info('critical', 'npm registry signature does not verify', 'The registry\'s signature over the package does not verify.', 'Do not install it; report it to the registry.'),
  NPM_SIGNATURE_UNKNOWN_KEY: info('high', 'npm signature by an unknown key', 'The package is signed by a key the registry does not list.', 'Refresh the registry keys, and do not install until it verifies.'),
  NPM_SIGNATURE_KEY_EXPIRED: info('high', 'npm signature by an expired key', 'The package was signed after its key expired.', 'Do not install it; report it to the registry.'),
  NPM_ATTESTATION_INVALID: info('critical', 'npm provenance does not verify', 'The package\'s provenance attestation does not verify or is for other content.', 'Do not install it; report it to the registry.'),
  NPM_UNSIGNED: info('medium', 'npm package unsigned', 'The package carries no registry signature where the registry signs.', 'Use a signed version, or allow it in the policy after review.'),
  NPM_PROVENANCE_MISSING: info('medium', 'npm provenance missing', 'The policy requires provenance and the package has none.', 'Use a version published with provenance, or change the policy through review.'),
  NPM_PROVENANCE_REPOSITORY: info('high', 'npm provenance from another repository', 'The package was built from a repository other than the one the policy requires.', 'Check the package\'s origin; update the policy only if the new repository is trusted.'),
  NPM_INSTALL_SCRIPT: info('medium', 'npm install script', 'The package runs a script when installed, which the policy does not allow.', 'Avoid the package, or allow its install script in the policy after review.'),
  NPM_SOURCE: info('high', 'npm source not allowed', 'The package comes from a source (git, a tarball URL, a folder) the policy does not allow.', 'Install it from the registry, or change the policy through review.'),
  NPM_PACKAGE_ADDED: info('high', 'npm package not locked', 'package-lock.json installs a package the lockfile does not pin.', 'Review it and run aisc lock package-lock.json again.'),
  NPM_PACKAGE_REMOVED: info('medium', 'Locked npm package gone', 'A locked package is no longer in package-lock.json.', NPM_RELOCK),
  NPM_VERSION_CHANGED: info('high', 'npm version changed', 'package-lock.json installs another version than the one locked.', NPM_RELOCK),
  NPM_INTEGRITY_CHANGED: info('critical', 'npm integrity changed', 'package-lock.json records other integrity than the lockfile.', NPM_RELOCK),
  NPM_SOURCE_CHANGED: info('high', 'npm source changed', 'package-lock.json resolves the package from another place than the one locked.', NPM_RELOCK),
  NPM_INSTALL_SCRIPT_ADDED: info('high', 'npm install script added', 'The package now runs a script when installed.', NPM_RELOCK),
  NPM_PACKAGE_LOCK_MISSING: info('high', 'package-lock.json missing', 'The package-lock.json the packages were locked from cannot be read.', 'Restore package-lock.json, or lock again.'),
  NPM_EVIDENCE_MISSING: info('high', 'npm evidence missing', 'The registry evidence that verify checks offline is missing: an evidence file in .aisc/evidence, or the signature bytes the lockfile should hold.', 'Commit .aisc/evidence with the lockfile, or run aisc lock package-lock.json again.'),
  NPM_EVIDENCE_CHANGED: info('critical', 'npm evidence changed', 'The registry evidence is not the one the lockfile pins.', 'Restore .aisc/evidence from the commit of the lockfile.'),
  NPM_EVIDENCE_MISMATCH: info('critical', 'npm evidence contradicts the lockfile', 'The evidence proves another package, integrity or registry than the lockfile records.', 'Restore .aisc/evidence and the lockfile from a trusted commit.'),
  NOTHING_LOCKED: info('medium', 'Lockfile pins nothing', 'The lockfile pins no artifact, so nothing was verified.', 'Lock what ships (aisc lock), or pass --allow-empty where an empty lockfile is intended.'),
  APPROVALS_MISSING: info('high', 'Change lacks approvals', 'A change since the base lacks the approvals the base policy requires.', 'Ask the required reviewers to review the change (aisc diff) and sign it (aisc approve).'),
};

export const FINDING_CODES = Object.keys(FINDING_INFO) as FindingCode[];

/** What a check says; severity and help come from the table. */
export type FindingFields = Omit<Finding, 'severity' | 'help'>;

/** A finding with its severity and help from the table. */
export function toFinding(fields: FindingFields): Finding {
  const { severity, help } = FINDING_INFO[fields.code];
  const { code, artifact, path, rule, message, expected, actual } = fields;
  // One key order, no undefined keys: JSON reports diff cleanly.
  return {
    code,
    severity,
    ...(artifact !== undefined ? { artifact } : {}),
    ...(path !== undefined ? { path } : {}),
    ...(rule !== undefined ? { rule } : {}),
    message,
    ...(expected !== undefined ? { expected } : {}),
    ...(actual !== undefined ? { actual } : {}),
    help,
  };
}
