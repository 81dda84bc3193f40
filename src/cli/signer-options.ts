import type { Command } from 'commander';

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
