export { APPROVAL_PREDICATE_TYPE, checkApprovals, parseDuration, toApprovalPayload, type ApprovalPredicate, type IgnoredApproval, type ValidApproval } from './approval.js';
export { getLockfileDigest, loadBase, loadOptionalPolicy, toChangeSet, type ChangeSet, type Side } from './change-set.js';
export { evaluateRules } from './evaluate.js';
export { evaluateApprovals } from './gate.js';
export { matchesArtifact } from './match.js';
export { loadPolicy, parsePolicy } from './read.js';
export { gitSource, workingTree, type FileSource } from './source.js';
export * from './types.js';
