import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { TrustedRoot } from '@sigstore/protobuf-specs';
import { parseJsonStrict, readBoundedText } from '../io/index.js';
import { signatureInputError } from './errors.js';

const PUBLIC_GOOD_TUF = 'https://tuf-repo-cdn.sigstore.dev';
const MAX_TRUSTED_ROOT_BYTES = 4 * 1024 * 1024;

let publicGood: TrustedRoot | undefined;

/**
 * Sigstore's public-good trusted root as @sigstore/tuf ships it (its seeds.json embeds the TUF
 * target trusted_root.json): no network, ever. Updating it means updating that package.
 */
export function getPublicGoodTrustedRoot(): TrustedRoot {
  if (!publicGood) {
    const seedsPath = createRequire(import.meta.url).resolve('@sigstore/tuf/seeds.json');
    const seeds = JSON.parse(readFileSync(seedsPath, 'utf8')) as Record<string, { targets?: Record<string, string> }>;
    const target = seeds[PUBLIC_GOOD_TUF]?.targets?.['trusted_root.json'];
    if (!target) throw signatureInputError('TRUST_ROOT_INVALID', `${seedsPath}: no trusted_root.json for ${PUBLIC_GOOD_TUF}`);
    publicGood = toTrustedRoot(JSON.parse(Buffer.from(target, 'base64').toString('utf8')), 'public-good trusted root');
  }
  return publicGood;
}

/** A trusted root given with --trusted-root: bounded, strict JSON, then the same hardening. */
export async function readTrustedRoot(path: string): Promise<TrustedRoot> {
  let text: string;
  try {
    text = await readBoundedText(path, { limit: MAX_TRUSTED_ROOT_BYTES, what: 'trusted root' });
  } catch (error) {
    throw signatureInputError('TRUST_ROOT_INVALID', `${path}: cannot read the trusted root (${(error as Error).message})`, error);
  }
  let json: unknown;
  try {
    json = parseJsonStrict(text, path);
  } catch (error) {
    throw signatureInputError('TRUST_ROOT_INVALID', (error as Error).message, error);
  }
  return toTrustedRoot(json, path);
}

function toTrustedRoot(json: unknown, where: string): TrustedRoot {
  let root: TrustedRoot;
  try {
    root = TrustedRoot.fromJSON(json);
  } catch (error) {
    throw signatureInputError('TRUST_ROOT_INVALID', `${where}: not a Sigstore trusted root (${(error as Error).message})`, error);
  }
  return withoutOpenEndedStarts(root);
}

/**
 * sigstore-js treats a key or authority with no validity start as valid since the epoch, which
 * would let it vouch for anything ever signed. A trusted root must say when each began: those
 * that do not are dropped, so nothing they signed verifies.
 */
export function withoutOpenEndedStarts(root: TrustedRoot): TrustedRoot {
  return {
    ...root,
    tlogs: root.tlogs.filter((log) => log.publicKey?.validFor?.start !== undefined),
    ctlogs: root.ctlogs.filter((log) => log.publicKey?.validFor?.start !== undefined),
    certificateAuthorities: root.certificateAuthorities.filter((ca) => ca.validFor?.start !== undefined),
    timestampAuthorities: root.timestampAuthorities.filter((tsa) => tsa.validFor?.start !== undefined),
  };
}
