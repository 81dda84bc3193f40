// What bin/aisc.js runs, after its own checks: the CLI (scripts/bundle.js makes it one file). The
// hashing pool's prestart is its own entry (prestart.ts), loaded first; the two share the pool's
// module, split out by the bundler, so the CLI finds the pool that was prestarted.
export { main } from './main.js';
