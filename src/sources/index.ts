export { DEFAULT_IGNORED, getGlobProblem, toIgnoreMatcher, type IgnoreMatcher } from './ignore.js';
export type { SourceContext } from './kind.js';
export { fromLocalSource, fromLockfileFolder, resolveLocalTarget, toLocalSource, toLockfileSkipper, type LocalTarget } from './local.js';
export { Network } from './network.js';
export { getSources, toRecorded, type OriginGate } from './registry.js';
export { isPresent, runBounded, toFetchError, toLockfileRoot, type ContentGate, type Placed, type RestorePlan, type Task } from './restore.js';
export type { ArtifactSource, AttachedSignatures, FoundSignature, ListedFile, LocalCopy, MountedCopy, OnDisk, RecordedSource, ResolvedSource, RevisionChange, SbomFacts } from './source.js';
export { listTarget, walkTree, type WalkEntry, type WalkEntryType, type WalkOptions } from './walk.js';
