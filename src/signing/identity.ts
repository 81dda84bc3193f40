import { AiscError } from '../errors.js';

/** cosign's identity semantics: an exact string, or a regular expression matched whole. */
export type Matcher = { exact: string } | { regexp: RegExp; source: string };

export interface IdentityFlags {
  certificateIdentity?: string;
  certificateIdentityRegexp?: string;
  certificateOidcIssuer?: string;
  certificateOidcIssuerRegexp?: string;
}

export interface KeylessIdentity {
  identity: Matcher;
  issuer: Matcher;
}

/** Both an identity and an issuer are required: a SAN alone would trust any OIDC provider. */
export function toKeylessIdentity(flags: IdentityFlags): KeylessIdentity | undefined {
  const identity = toMatcher(flags.certificateIdentity, flags.certificateIdentityRegexp, '--certificate-identity');
  const issuer = toMatcher(flags.certificateOidcIssuer, flags.certificateOidcIssuerRegexp, '--certificate-oidc-issuer');
  if (!identity && !issuer) return undefined;
  if (!identity) throw new AiscError('USAGE', '--certificate-identity or --certificate-identity-regexp is required with an issuer');
  if (!issuer) throw new AiscError('USAGE', '--certificate-oidc-issuer or --certificate-oidc-issuer-regexp is required with an identity');
  return { identity, issuer };
}

function toMatcher(exact: string | undefined, regexp: string | undefined, flag: string): Matcher | undefined {
  if (exact !== undefined && regexp !== undefined) throw new AiscError('USAGE', `${flag} and ${flag}-regexp: expected one, got both`);
  if (exact !== undefined) return { exact };
  if (regexp === undefined) return undefined;
  try {
    // Anchored: 'repo@refs/heads/main' must not match 'evil-repo@refs/heads/main-x'.
    return { regexp: new RegExp(`^(?:${regexp})$`, 'u'), source: regexp };
  } catch (error) {
    throw new AiscError('USAGE', `${flag}-regexp: not a valid regular expression (${(error as Error).message})`, { cause: error });
  }
}

export function matches(matcher: Matcher, value: string | undefined): boolean {
  if (value === undefined) return false;
  return 'exact' in matcher ? matcher.exact === value : matcher.regexp.test(value);
}

export function describeMatcher(matcher: Matcher): string {
  return 'exact' in matcher ? JSON.stringify(matcher.exact) : `/^(?:${matcher.source})$/`;
}
