// The first thing bin/aisc.js loads for a command that hashes: the workers' start alone, so the
// hash workers boot while the rest of the CLI loads (scripts/bundle.js: an entry of its own that
// shares that module with the CLI's, which imports nothing else of aisc).
export { prestartHashWorkers } from '../hashing/spawn-workers.js';
