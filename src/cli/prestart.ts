// The first thing bin/aisc.js loads for a command that hashes: the pool's prestart alone, so the
// hash workers boot while the rest of the CLI loads (scripts/bundle.js: an entry of its own that
// shares the pool's module with the CLI's).
export { prestartHashPool } from '../hashing/pool.js';
