import type { KeyObject, X509Certificate } from 'node:crypto';

export { CHANGE_CLASSES, type ChangeClass } from '../diff/types.js';
import type { ChangeClass } from '../diff/types.js';

export interface PolicyIdentity {
  identity?: string;
  identityRegexp?: string;
  issuer?: string;
  /** A public key file, relative to the policy file. */
  key?: string;
  /** A private CA's certificates (PEM), relative to the policy file: the signing certificate must chain to one of them. */
  certificateChain?: string;
  /** With certificateChain: the signing certificate's exact subject (`CN=…, O=…`). */
  subject?: string;
}

export interface PolicyReviewer extends PolicyIdentity {
  groups?: string[];
}

export interface PolicyMatch {
  kind?: string | string[];
  name?: string | string[];
  /** Rules only: origins (hf://org/, a URL, a folder) the artifact must be locked from under, as `sources` reads them. */
  source?: string | string[];
}

export interface PolicyRule {
  match?: PolicyMatch;
  /** Exceptions this rule grants: pickle imports beyond aisc's allowlist. */
  allow?: { pickleImports?: string[] };
  require: {
    signedBy?: string[];
    sources?: string[];
    denyFormats?: string[];
    /** npm terms: for each, the last matching rule that sets it decides (so a later rule can make an exception). */
    registrySignature?: boolean;
    provenance?: 'required' | 'optional';
    provenanceFrom?: Record<string, string>;
    installScripts?: 'deny' | 'allow';
  };
}

export interface PolicyApproval {
  on: ChangeClass[];
  match?: PolicyMatch;
  maxAge?: string;
  require: { count: number; from: string[] };
}

export interface Policy {
  version: 1;
  maxAge?: string;
  /** By name. Maps: a name from a policy or an approval is data, never an object key. */
  signers?: Map<string, PolicyIdentity>;
  reviewers?: Map<string, PolicyReviewer>;
  rules?: PolicyRule[];
  approvals?: PolicyApproval[];
}

/** A policy as read and checked: its text's meaning, the keys it names, and one digest for all of it. */
export interface LoadedPolicy {
  policy: Policy;
  /** Where it was read from (a path, or git:REF:path). */
  where: string;
  /** SHA-256 over the canonical policy and the digests of every key file it names. */
  digest: string;
  /** Key files by the path written in the policy. */
  keys: Map<string, KeyObject>;
  /** CA certificate files (a signer's certificateChain) by the path written in the policy. */
  anchors: Map<string, X509Certificate[]>;
}
