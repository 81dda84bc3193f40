export { compareCodePoints, toCanonicalJson, type JsonValue } from './canonical-json.js';
export { CHUNK_BYTES_VARIABLE, DEFAULT_CHUNK_BYTES, describeByteRange, getChunkCount, getChunkListDigest, getChunkRange, getChunkSize, getChunksProblem, isChunkSize, MAX_CHUNK_BYTES, MIN_CHUNK_BYTES, wantsChunks } from './chunks.js';
export { computeRootDigest, sortFiles } from './digest.js';
export { MANIFEST_FOLDER, MANIFEST_THRESHOLD, readManifest, toManifestPath, toManifestReader, writeManifest, type ManifestReader } from './manifest.js';
export { getNameProblem, isArtifactName, MAX_NAME_LENGTH } from './names.js';
export { assertSafeRelativePath, getPathProblem, isSafeRelativePath } from './paths.js';
export { decodeLockfile, MAX_LOCKFILE_BYTES, parseLockfile, readLockfile, readLockfileBytes, readLockfileSnapshot, type LockfileSnapshot } from './read.js';
export * from './types.js';
export { toLockfileText, toStoredLockfile, updateLockfile } from './write.js';
