import { AiscError } from '../errors.js';

/** What can be wrong with an npm package; each is a finding (exit 1) naming the package. */
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

export class NpmFinding extends AiscError<NpmFindingCode> {}

export interface NpmProblem {
  code: NpmFindingCode;
  /** The package, as name@version. */
  package: string;
  message: string;
}
