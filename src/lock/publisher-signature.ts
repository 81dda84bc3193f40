import { createHash } from 'node:crypto';
import { AiscError, isAiscError } from '../errors.js';
import { confine, writeFileAtomic } from '../io/index.js';
import type { ArtifactSignature, FileEntry } from '../lockfile/types.js';
import type { PolicyIdentity } from '../policy/types.js';
import type { BundleFile } from '../signing/bundle.js';
import type { SignerPolicy } from '../signing/verify-bundle.js';
import { toLockfileRoot, toRecorded } from '../sources/index.js';
import { isFileOrLink, putBack, readLocated, type LocatedBundle, type PlannedArtifact as Planned } from './bundle-location.js';
import type { loadRules } from './rules.js';

export { locateBundle, MODEL_SIGNATURE, readLocated, type LocatedBundle } from './bundle-location.js';

/** What the command line says of signatures: a bundle (a path on disk, or inside a remote artifact) and who must have signed. */
export interface SignatureRequest {
  bundle?: string;
  policy?: SignerPolicy;
  trustedRoot?: string;
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
