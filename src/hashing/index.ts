export { hashFile, toIdentity, type ReadBuffers } from './hash-file.js';
export { acquireHashPool, hashFiles, HashPool, prestartHashPool, READ_BUFFER_BYTES, type ProgressSource } from './pool.js';
export { ChunkDigests } from './chunk-digests.js';
export type { AnyHashResult, ChunkedHashResult, FileIdentity, HashJob, HashResult } from './types.js';
