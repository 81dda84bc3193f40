export { lockArtifacts, type LockOptions, type LockResult } from './lock-artifacts.js';
export { findArtifactContaining } from './containing.js';
