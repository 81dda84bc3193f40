#!/usr/bin/env node
// npm test's static checks: the type checker and the linter, side by side (each is one thread for
// most of its run, and this machine has two cores). Their output is printed whole once both end;
// the exit code is the first failure's.
import { spawn } from 'node:child_process';

const checks = [
  ['type-checking', 'tsc', ['-p', 'tsconfig.json', '--noEmit']],
  ['linting', 'eslint', ['.']],
];

process.stderr.write(`${checks.map(([what]) => what).join(' and ')}…\n`);
const results = await Promise.all(
  checks.map(
    ([what, command, args]) =>
      new Promise((resolve) => {
        const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
        const output = [];
        child.stdout.on('data', (chunk) => output.push(chunk));
        child.stderr.on('data', (chunk) => output.push(chunk));
        child.on('error', (error) => resolve({ what, code: 1, output: [Buffer.from(`${command}: ${error.message}\n`)] }));
        child.on('close', (code) => resolve({ what, code: code ?? 1, output }));
      }),
  ),
);
for (const { what, code, output } of results) {
  if (code === 0) continue;
  process.stderr.write(`${what} failed:\n`);
  process.stderr.write(Buffer.concat(output));
}
process.exitCode = results.find(({ code }) => code !== 0)?.code ?? 0;
