import type { Command } from 'commander';
import { AiscError } from '../errors.js';
import type { SignerFlags } from '../signing/index.js';
import type { SignerPolicy } from '../signing/verify-bundle.js';

/** cosign's identity flags, --key and --certificate-chain: shared by every command that checks a signer. */
export function addSignerOptions(command: Command): Command {
  return command
    .option('--certificate-identity <id>', 'keyless: the exact certificate identity (SAN) that must have signed')
    .option('--certificate-identity-regexp <re>', 'keyless: a regular expression the whole identity must match')
    .option('--certificate-oidc-issuer <url>', 'keyless: the exact OIDC issuer of that identity')
    .option('--certificate-oidc-issuer-regexp <re>', 'keyless: a regular expression the whole issuer must match')
    .option('--key <pem>', 'a public key (ECDSA P-256/P-384/P-521 or Ed25519) that must have signed')
    .option('--certificate-chain <pem>', 'a private CA (PEM) the signing certificate must chain to')
    .option('--trusted-root <file>', 'a Sigstore trusted_root.json to use instead of the public-good one');
}

/**
 * The bundle and signer policy a command was given (`--signature`, `--lockfile-signature`), or
 * undefined without one. Signer flags without a bundle are a usage error, not silently ignored.
 */
export async function toSignatureRequest(bundle: string | undefined, flags: SignerFlags, bundleFlag: string): Promise<{ bundle: string; policy: SignerPolicy; trustedRoot?: string } | undefined> {
  const signerGiven = hasSignerFlags(flags);
  if (!bundle) {
    if (signerGiven) throw new AiscError('USAGE', `identity flags, --key and --certificate-chain go with ${bundleFlag} BUNDLE`);
    return undefined;
  }
  // Loaded on demand: Sigstore's libraries cost ~40 ms of start-up that plain commands need not pay.
  const { toSignerPolicy } = await import('../signing/policy.js');
  return { bundle, policy: await toSignerPolicy(flags), trustedRoot: flags.trustedRoot };
}

/** Whether any of the signer flags was given. */
export function hasSignerFlags(flags: SignerFlags): boolean {
  return [flags.certificateIdentity, flags.certificateIdentityRegexp, flags.certificateOidcIssuer, flags.certificateOidcIssuerRegexp, flags.key, flags.certificateChain].some((f) => f !== undefined);
}
