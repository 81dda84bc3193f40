// What bin/aisc.js runs, after its own checks: the CLI and the hashing pool's prestart, from one
// module graph (scripts/bundle.js makes it one file).
export { main } from './main.js';
export { prestartHashPool } from '../hashing/pool.js';
