import { createHash } from 'node:crypto';
import { lstatSync, realpathSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { AiscError, isAiscError } from '../errors.js';
import { confine, writeFileAtomic } from '../io/index.js';
import type { ArtifactSignature, FileArtifactKind, FileEntry } from '../lockfile/types.js';
import type { PolicyIdentity } from '../policy/types.js';
import type { BundleFile } from '../signing/bundle.js';
import type { SignerPolicy } from '../signing/verify-bundle.js';
import { toLockfileRoot, toRecorded, type ListedFile, type ResolvedSource } from '../sources/index.js';
import { readListedFile } from './hash-remote.js';
import type { loadRules } from './rules.js';

/** Where publishers put an OpenSSF Model Signing bundle: model_signing's default name, at the model's root. */
export const MODEL_SIGNATURE = 'model.sig';
/** Beside a single file: what `cosign sign-blob --bundle` and `aisc sign` name it. */
export const FILE_SIGNATURE_SUFFIX = '.sigstore.json';

/** One artifact as lock planned it (plan.ts's Planned, without importing it back). */
interface Planned {
  name: string;
  kind: FileArtifactKind;
  spec: string;
  resolved: ResolvedSource;
  files: ListedFile[];
}

/** What the command line says of signatures: a bundle (a path on disk, or inside a remote artifact) and who must have signed. */
export interface SignatureRequest {
  bundle?: string;
  policy?: SignerPolicy;
  trustedRoot?: string;
}

/** A bundle found for one planned artifact, not yet read. */
export interface LocatedBundle {
  /** Inside the artifact (a folder's model.sig): not one of its files. */
  path?: string;
  /** On this machine. */
  disk?: string;
  /** Listed by a remote origin: read from it, checked against the listing. */
  listed?: ListedFile;
  /** The entry taken out of the artifact's file list, to put back if the bundle is not to be checked. */
  taken?: ListedFile;
  /** Its bytes, once read. */
  file?: BundleFile;
  /** How to name it in messages. */
  where: string;
}

/**
 * Where the publisher's bundle is for one planned artifact, taken out of its file list (a bundle
 * is not a file of the model it signs, as model_signing leaves it out): `--signature` (a path on
 * disk, or inside a remote artifact), else model.sig at a folder's root, else FILE.sigstore.json
 * beside a single file. Undefined when there is none.
 */
export function locateBundle(plan: Pick<Planned, 'spec' | 'resolved' | 'files'>, given: string | undefined): LocatedBundle | undefined {
  const disk = plan.resolved.onDisk;
  if (disk) {
    if (given !== undefined) return takeInside(plan, resolve(given), given);
    if (plan.resolved.layout === 'file') {
      const beside = `${plan.spec}${FILE_SIGNATURE_SUFFIX}`;
      return isFileOrLink(beside) ? { disk: beside, where: beside } : undefined;
    }
    const inside = join(disk.realRoot, MODEL_SIGNATURE);
    return isFileOrLink(inside) ? takeInside(plan, inside, join(plan.spec, MODEL_SIGNATURE)) : undefined;
  }
  if (plan.resolved.layout === 'file') {
    // A downloaded file has no inside; its bundle is checked once it is kept on disk.
    if (given !== undefined) throw new AiscError('USAGE', `--signature: ${plan.spec} is one remote file; keep it with --path, then lock the kept file with --signature`);
    return undefined;
  }
  if (!plan.resolved.open) {
    // An archive's members are read once, as it streams: a bundle among them stays one of its files.
    if (given !== undefined) throw new AiscError('USAGE', `--signature: the files of ${plan.spec} cannot be read one by one; extract it and lock the folder with its bundle`);
    return undefined;
  }
  const path = given ?? MODEL_SIGNATURE;
  const index = plan.files.findIndex((file) => file.path === path);
  if (index < 0) {
    if (given === undefined) return undefined;
    throw new AiscError('SIGNATURE_MISSING', `--signature ${given}: ${plan.spec} has no such file (a remote artifact's bundle is named by its path inside it)`);
  }
  const [listed] = plan.files.splice(index, 1);
  return { path, listed, taken: listed, where: `${plan.spec}: ${path}` };
}

/** A bundle on disk; inside the artifact's folder it leaves the file list (and the format gate still reads it). */
function takeInside(plan: Pick<Planned, 'resolved' | 'files'>, absolute: string, where: string): LocatedBundle {
  const disk = plan.resolved.onDisk;
  if (!disk || plan.resolved.layout !== 'directory') return { disk: absolute, where };
  let real: string;
  try {
    real = join(realpathSync(resolve(absolute, '..')), absolute.split(sep).pop() ?? '');
  } catch {
    return { disk: absolute, where };
  }
  const rel = relative(disk.realRoot, real);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return { disk: absolute, where };
  const path = rel.split(sep).join('/');
  const index = plan.files.findIndex((file) => file.path === path);
  if (index < 0) return { path, disk: absolute, where };
  const [taken] = plan.files.splice(index, 1);
  (disk.hidden ??= []).push(path);
  return { path, disk: absolute, where, ...(taken ? { taken } : {}) };
}

/** A bundle that will not be checked is a file of the artifact like any other: back in its list. */
function putBack(plan: Pick<Planned, 'resolved' | 'files'>, located: LocatedBundle): void {
  if (!located.taken) return;
  plan.files.push(located.taken);
  const hidden = plan.resolved.onDisk?.hidden;
  const at = hidden?.indexOf(located.taken.path) ?? -1;
  if (hidden && at >= 0) hidden.splice(at, 1);
}

function isFileOrLink(path: string): boolean {
  try {
    const stats = lstatSync(path);
    return stats.isFile() || stats.isSymbolicLink();
  } catch {
    return false;
  }
}

/** The bundle's bytes, read once (bounded): what is verified, hashed and kept is the same. */
export async function readLocated(plan: Planned, located: LocatedBundle): Promise<BundleFile> {
  if (located.file) return located.file;
  const { MAX_BUNDLE_BYTES, readBundleFile } = await import('../signing/bundle.js');
  if (located.disk !== undefined) located.file = await readBundleFile(located.disk);
  else if (located.listed) located.file = { path: located.where, bytes: await readListedFile(plan.spec, plan.resolved, located.listed, MAX_BUNDLE_BYTES) };
  else throw new AiscError('INTERNAL', `${located.where}: neither on disk nor listed`);
  return located.file;
}

/**
 * Before anything is hashed: a bundle nobody is named to check (no signer given, none in the
 * policy for this artifact) is checked only when it is Sigstore keyless (any identity, recorded);
 * a key or certificate bundle stays a file of the artifact, with a note, so that the lockfile
 * still describes the folder exactly.
 */
export async function settleUnnamed(plan: Planned & { bundle?: LocatedBundle }, options: JudgeOptions): Promise<void> {
  const located = plan.bundle;
  if (!located || (await toCandidates(plan, options)) !== undefined) return;
  const file = await readLocated(plan, located);
  if ((await toAnyKeyless(file, options.request?.trustedRoot)).length > 0) return;
  options.onNote?.(`${plan.name}: ${located.where}: a key or certificate signature, not checked (name its signer with --key or --certificate-chain, or under the policy's signers for this artifact); locked as a file of the artifact`);
  putBack(plan, located);
  delete plan.bundle;
}

type Rules = Awaited<ReturnType<typeof loadRules>>;

/** Who may have signed one artifact: the signer given on the command line, else the policy's `signedBy` for it. */
interface Candidate {
  label: string;
  policy: SignerPolicy;
}

export interface JudgeOptions {
  lockfile: string;
  request?: SignatureRequest;
  rules: Rules;
  force?: boolean;
  onNote?: (message: string) => void;
}

/**
 * Verifies a publisher's bundle over the artifact just hashed, for the signers it must be from:
 * those given (identity flags, --key, --certificate-chain), else those the policy's rules name for
 * this artifact, else — a Sigstore keyless bundle — whoever Sigstore's public-good instance
 * certifies (recorded, for the policy and diff to judge). A key or certificate bundle with nobody
 * to check it against is left unrecorded, with a note. A bundle that does not verify for any of
 * them, or whose manifest is not the locked files, refuses the lock; --force records a signer who
 * did verify (verify then fails on the files) or nothing.
 */
export async function judgeBundle(plan: Planned, files: readonly FileEntry[], located: LocatedBundle, file: BundleFile, options: JudgeOptions): Promise<ArtifactSignature | undefined> {
  const { verifyArtifactSignature } = await import('../signing/artifact-signature.js');
  const { isSignatureFinding, SignatureFinding } = await import('../signing/errors.js');
  const recorded = toRecorded(plan.resolved.source);
  const selected = recorded.mounted().selected;
  const artifact = {
    layout: plan.resolved.layout,
    path: plan.resolved.onDisk ? plan.spec : located.where,
    files,
    ...(selected ? { selected } : {}),
    ...(plan.resolved.onDisk ? {} : { remote: true }),
  };
  const trustedRootPath = options.request?.trustedRoot;
  const note = (message: string): void => options.onNote?.(`${plan.name}: ${located.where}: ${message}`);
  const candidates = await toCandidates(plan, options);
  const attempts = candidates ?? (await toAnyKeyless(file, trustedRootPath));
  if (attempts.length === 0) throw new AiscError('INTERNAL', `${located.where}: a bundle nobody can check was not settled before hashing`);
  const refusals: { label: string; error: InstanceType<typeof SignatureFinding> }[] = [];
  for (const attempt of attempts) {
    try {
      const signature = await verifyArtifactSignature(artifact, file, attempt.policy, options.lockfile, { trustedRootPath, onNote: note });
      return { ...signature, ...(located.path === undefined ? {} : { path: located.path }) };
    } catch (error) {
      // A bundle that cannot be read as one names where it is (the statement's own words say resources[2]).
      if (isAiscError(error) && !isSignatureFinding(error) && error.code !== 'INTERNAL' && !error.message.startsWith(located.where)) {
        throw new AiscError(error.code, `${located.where}: ${error.message}`, { cause: error });
      }
      if (!isSignatureFinding(error)) throw error;
      refusals.push({ label: attempt.label, error });
    }
  }
  // Signed by one of them, over other bytes: the bundle does not match the files.
  const mismatch = refusals.find(({ error }) => error.code === 'MANIFEST_MISMATCH' || error.code === 'DIGEST_MISMATCH' || error.code === 'SUBJECT_MISMATCH');
  if (options.force) {
    const signer = mismatch ?? (candidates === undefined ? undefined : refusals[0]);
    if (mismatch) {
      const attempt = attempts.find((a) => a.label === mismatch.label);
      if (attempt) {
        note(`${mismatch.error.message}; recorded anyway (--force): verify will fail on it`);
        const signature = await verifyArtifactSignature(artifact, file, attempt.policy, options.lockfile, { trustedRootPath, manifest: false });
        return { ...signature, ...(located.path === undefined ? {} : { path: located.path }) };
      }
    }
    note(`${signer?.error.message ?? 'does not verify'}; locked unsigned (--force)`);
    return undefined;
  }
  const reason = mismatch
    ? mismatch.error.message
    : refusals.map(({ label, error }) => (refusals.length > 1 ? `${label}: ${error.message}` : error.message)).join('; ');
  const code = mismatch ? mismatch.error.code : refusals.length === 1 ? (refusals[0]?.error.code ?? 'SIGNER_MISMATCH') : 'SIGNER_MISMATCH';
  const whom = candidates === undefined ? '' : ` for ${candidates.map((c) => c.label).join(' or ')}`;
  throw new SignatureFinding(code, `${located.where}: the publisher's signature does not verify${whom} (${reason}); nothing was locked (--force locks it anyway; verify will still fail)`);
}

/** The signers the command line or the policy name for this artifact; undefined when nobody is named. */
export async function toCandidates(plan: Planned, options: JudgeOptions): Promise<Candidate[] | undefined> {
  if (options.request?.policy) return [{ label: 'the signer given', policy: options.request.policy }];
  const rules = options.rules;
  if (!rules) return undefined;
  const named = rules.requiredSigners(rules.policy, { name: plan.name, kind: plan.kind, origin: toRecorded(plan.resolved.source).origin });
  if (named.length === 0) return undefined;
  const { getPublicGoodTrustedRoot, readTrustedRoot } = await import('../signing/trust.js');
  const trustedRoot = options.request?.trustedRoot ? await readTrustedRoot(options.request.trustedRoot) : getPublicGoodTrustedRoot();
  return named.map(({ name, identity }) => ({ label: `signer ${name} (${rules.policy.where})`, policy: toSignerPolicy(identity, rules.policy, trustedRoot) }));
}

/** A policy's signer entry as what verifies a bundle for it. */
function toSignerPolicy(identity: PolicyIdentity, loaded: NonNullable<Rules>['policy'], trustedRoot: Extract<SignerPolicy, { kind: 'key' }>['trustedRoot']): SignerPolicy {
  if (identity.key !== undefined) {
    const key = loaded.keys.get(identity.key);
    if (!key) throw new AiscError('INTERNAL', `policy key ${identity.key} not loaded`);
    return { kind: 'key', key, trustedRoot };
  }
  if (identity.certificateChain !== undefined) return { kind: 'certificate', anchors: loaded.anchors.get(identity.certificateChain) ?? [] };
  const issuer = { exact: identity.issuer ?? '' };
  const subject = identity.identity !== undefined ? { exact: identity.identity } : { regexp: new RegExp(`^(?:${identity.identityRegexp ?? ''})$`, 'u'), source: identity.identityRegexp ?? '' };
  return { kind: 'keyless', identity: { identity: subject, issuer }, trustedRoot };
}

/**
 * Nobody named: a Sigstore keyless bundle is still checked all the way to Sigstore's roots (its
 * certificate, log entry and timestamps), for any identity, so that who signed is recorded. A key
 * or certificate bundle cannot be checked without its key or CA: no attempt.
 */
async function toAnyKeyless(file: BundleFile, trustedRootPath: string | undefined): Promise<Candidate[]> {
  const { parseBundle } = await import('../signing/bundle.js');
  const material = parseBundle(file.bytes.toString('utf8'), file.path, { allowV03CertificateChain: true }).verificationMaterial.content.$case;
  if (material !== 'certificate' && material !== 'x509CertificateChain') return [];
  const { getPublicGoodTrustedRoot, readTrustedRoot } = await import('../signing/trust.js');
  const trustedRoot = trustedRootPath ? await readTrustedRoot(trustedRootPath) : getPublicGoodTrustedRoot();
  const anyone = { regexp: /^[\s\S]*$/u, source: '.*' };
  return [{ label: 'any Sigstore identity', policy: { kind: 'keyless', identity: { identity: anyone, issuer: anyone }, trustedRoot } }];
}

/**
 * Keeps a bundle the lockfile can reach: one on disk under the lockfile's folder stays where it is;
 * any other (a Hub repo's model.sig, one in the HF cache) is copied beside the lockfile into
 * `.aisc/signatures/`, named by its SHA-256. Returns the undo for a lock that is then refused.
 */
export async function keepBundle(signature: ArtifactSignature, located: LocatedBundle, file: BundleFile, lockfile: string): Promise<() => Promise<void>> {
  const { toLockfileRelative } = await import('../signing/artifact-signature.js');
  if (located.disk !== undefined) {
    const rel = toLockfileRelative(located.disk, lockfile);
    if (!rel.startsWith('/') && !rel.startsWith('../')) {
      signature.bundle = rel;
      return () => Promise.resolve();
    }
  }
  const sha256 = createHash('sha256').update(file.bytes).digest('hex');
  const path = await confine(toLockfileRoot(lockfile), `.aisc/signatures/${sha256}.sig`);
  const existed = isFileOrLink(path);
  await writeFileAtomic(path, file.bytes, { what: 'signature bundle' });
  signature.bundle = toLockfileRelative(path, lockfile);
  signature.bundleSha256 = sha256;
  return async () => {
    if (existed) return;
    const { rm } = await import('node:fs/promises');
    await rm(path, { force: true });
  };
}
