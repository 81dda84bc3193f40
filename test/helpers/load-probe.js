// Loaded with `node --import` before bin/aisc.js: at exit, prints to stderr which packages the
// command loaded (CommonJS ones appear in require.cache) and how many worker threads it started.
import { createRequire, syncBuiltinESMExports } from 'node:module';

const require = createRequire(import.meta.url);
const threads = require('node:worker_threads');
const Original = threads.Worker;
let started = 0;
threads.Worker = class CountedWorker extends Original {
  constructor(...args) {
    super(...args);
    started++;
  }
};
syncBuiltinESMExports();

process.on('exit', () => {
  const packages = new Set();
  for (const path of Object.keys(require.cache)) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path);
    if (match) packages.add(match[1]);
  }
  process.stderr.write(`probe: ${JSON.stringify({ workers: started, packages: [...packages].sort() })}\n`);
});
