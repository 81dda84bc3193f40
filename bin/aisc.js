#!/usr/bin/env node
// Only syntax every Node can parse, and no static import: the version check below must run before
// anything aisc depends on is loaded (on an old Node those fail with raw stack traces).
const engines = '^22.22.2 || ^24.15.0 || >=26.0.0'; // package.json "engines"; a test keeps them equal
const [major = 0, minor = 0, patch = 0] = process.versions.node.split('.').map(Number);
const supported = major === 22 ? minor > 22 || (minor === 22 && patch >= 2) : major === 24 ? minor >= 15 : major >= 26;
if (!supported) {
  process.stderr.write(`aisc: NODE_UNSUPPORTED aisc needs Node.js >= 22.22.2 (${engines}), this is ${process.versions.node}\n`);
  process.exit(2);
}

// `aisc --version` needs nothing else loaded.
if (process.argv.length === 3 && (process.argv[2] === '--version' || process.argv[2] === '-V')) {
  process.stdout.write(`${(await import('../dist/version.js')).VERSION}\n`);
  process.exit(0);
}

const jobs = await import('../dist/cli/jobs.js');
const args = process.argv.slice(2);
(await import('node:module')).enableCompileCache?.();

// Commands that hash get their worker threads booting first, while the CLI loads (30-60 ms here),
// reads its arguments and plans its work; help, a --jobs the CLI will refuse and a verify with
// little to read start none.
const prestart = jobs.getPrestartJobs(args);
if (prestart) (await import('../dist/cli-bundle/prestart.js')).prestartHashWorkers(prestart.jobs);

// Set here, not with `env -S` in the shebang (BusyBox env has no -S); which commands get it, and
// why not all: src/cli/jobs.ts wantsSmallHeap.
if (jobs.wantsSmallHeap(args)) (await import('node:v8')).setFlagsFromString('--optimize-for-size');

// The CLI, bundled (scripts/bundle.js): this entry loads the chunks each command needs.
const cli = await import('../dist/cli-bundle/aisc.js');

// A reader that stops early (`aisc verify | head`) is not an error: stop quietly, as Unix tools do.
process.stdout.on('error', (error) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});
process.exitCode = await cli.main(process.argv);
