// One long-lived scripts/pickle-oracle.py process, fed batches of streams as JSON lines and read
// back in order, so that a million streams cost one interpreter start.
import { spawn, execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../pickle-oracle.py', import.meta.url));

export function pythonVersion(python) {
  return execFileSync(python, ['-c', 'import sys; print(sys.version.split()[0])'], { encoding: 'utf8' }).trim();
}

export class Oracle {
  #child;
  #waiting = [];
  #stderr = '';
  #allowlist;

  /** `allowed` is the allowlist as `module.name` strings. */
  constructor(python, allowed) {
    this.#allowlist = join(tmpdir(), `aisc-pickle-allowlist-${process.pid}.json`);
    writeFileSync(this.#allowlist, JSON.stringify([...allowed]));
    this.#child = spawn(python, [SCRIPT, this.#allowlist], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, PYTHONHASHSEED: '0' } });
    this.#child.stderr.on('data', (chunk) => {
      this.#stderr = (this.#stderr + chunk).slice(-4000);
    });
    // a dead oracle is reported by 'exit' with its stderr, not by the write that found it gone
    this.#child.stdin.on('error', () => {});
    this.#child.on('exit', (code) => {
      for (const { reject } of this.#waiting.splice(0)) reject(new Error(`the oracle exited (${code}): ${this.#stderr}`));
    });
    createInterface({ input: this.#child.stdout }).on('line', (line) => this.#receive(JSON.parse(line)));
  }

  #receive(verdict) {
    const batch = this.#waiting[0];
    batch.verdicts.push(verdict);
    if (batch.verdicts.length === batch.size) {
      this.#waiting.shift();
      batch.resolve(batch.verdicts);
    }
  }

  /** CPython's verdict on each stream ({ bytes, encoding, persistentLoad }), in order. */
  judge(streams) {
    return new Promise((resolve, reject) => {
      if (streams.length === 0) return resolve([]);
      this.#waiting.push({ size: streams.length, verdicts: [], resolve, reject });
      const lines = streams.map(({ bytes, encoding, persistentLoad }) => JSON.stringify({ b: Buffer.from(bytes).toString('base64'), e: encoding, p: persistentLoad }));
      this.#child.stdin.write(`${lines.join('\n')}\n\n`);
    });
  }

  close() {
    this.#child.stdin.end();
    rmSync(this.#allowlist, { force: true });
  }
}
