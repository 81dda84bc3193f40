export { compareCodePoints, toCanonicalJson, type JsonValue } from './canonical-json.js';
export { computeRootDigest, sortFiles } from './digest.js';
export { assertSafeRelativePath, getPathProblem, isSafeRelativePath } from './paths.js';
export { decodeUtf8, MAX_LOCKFILE_BYTES, parseLockfile, readBoundedBytes, readLockfile, readLockfileSnapshot, type LockfileSnapshot } from './read.js';
export { parseJsonStrict } from './strict-json.js';
export * from './types.js';
export { toLockfileText, updateLockfile, withFileLock, writeFileAtomic } from './write.js';
