export { hashFile, toIdentity, type ReadBuffers } from './hash-file.js';
export { acquireHashPool, hashFiles, HashPool, type ProgressSource } from './pool.js';
export { prestartHashWorkers, READ_BUFFER_BYTES } from './spawn-workers.js';
export { ChunkDigests } from './chunk-digests.js';
export type { AnyHashResult, ChunkedHashResult, FileIdentity, HashJob, HashResult } from './types.js';
