export { DEFAULT_IGNORED, getGlobProblem, toIgnoreMatcher, type IgnoreMatcher } from './ignore.js';
export { fromLocalSource, resolveLocalTarget, toLocalSource, toLockfileSkipper, type LocalTarget } from './local.js';
export { fromLockfileFolder, getLocalCopy, type LocalCopy } from './roots.js';
export type { ArtifactSource, ListedFile, OnDisk, ResolvedSource } from './source.js';
export { listTarget, walkTree, type WalkEntry, type WalkEntryType, type WalkOptions } from './walk.js';
