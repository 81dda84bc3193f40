import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { runAisc, runGit } from '../helpers/cli.js';
import { makeModel } from '../helpers/model.js';
import { makeTempDir } from '../helpers/temp.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Step {
  name: string;
  id?: string;
  if?: string;
  uses?: string;
  run?: string;
  env?: Record<string, string>;
  with?: Record<string, string>;
}
interface Action {
  inputs: Record<string, { default: string }>;
  outputs: Record<string, { value: string }>;
  runs: { using: string; steps: Step[] };
}

const action = parse(readFileSync(join(ROOT, 'action.yml'), 'utf8')) as Action;

/** The verify step's script run as the runner runs it: inputs as environment variables, GITHUB_OUTPUT a file. */
function runVerifyStep(cwd: string, inputs: Record<string, string> = {}): { status: number | null; stdout: string; outputs: Record<string, string> } {
  const step = action.runs.steps.find((s) => s.id === 'verify');
  const values = Object.fromEntries(Object.entries(action.inputs).map(([name, input]) => [name, inputs[name] ?? input.default]));
  const env: Record<string, string> = {};
  for (const [key, expression] of Object.entries(step?.env ?? {})) {
    env[key] = expression === '${{ github.action_path }}' ? ROOT : (values[/^\$\{\{ inputs\.([\w-]+) \}\}$/.exec(expression)?.[1] ?? ''] ?? '');
  }
  const outputFile = join(makeTempDir(), 'output');
  writeFileSync(outputFile, '');
  const result = spawnSync('bash', ['-e', '-c', step?.run ?? 'exit 99'], { cwd, encoding: 'utf8', env: { ...process.env, ...env, GITHUB_OUTPUT: outputFile } });
  const outputs = Object.fromEntries(
    readFileSync(outputFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
  return { status: result.status, stdout: result.stdout, outputs };
}

describe('action.yml', () => {
  it('is a composite action whose expressions name only its own inputs and steps', () => {
    expect(action.runs.using).toBe('composite');
    const text = readFileSync(join(ROOT, 'action.yml'), 'utf8');
    for (const [, name] of text.matchAll(/inputs\.([\w-]+)/g)) expect(Object.keys(action.inputs)).toContain(name);
    for (const [, id] of text.matchAll(/steps\.([\w-]+)\.outputs/g)) expect(action.runs.steps.map((s) => s.id)).toContain(id);
    // No input is spliced into a script, where a crafted value would run as shell.
    for (const step of action.runs.steps) expect(step.run ?? '').not.toMatch(/\$\{\{/);
    const upload = action.runs.steps.find((s) => s.uses?.startsWith('github/codeql-action/upload-sarif@'));
    expect(upload?.if).toContain('!cancelled()');
    expect(upload?.with?.sarif_file).toBe('${{ steps.verify.outputs.sarif }}');
  });

  it('runs verify with the inputs, fails the step on a finding, and still hands the SARIF file on', () => {
    const dir = makeTempDir();
    runGit(dir, 'init', '-q', '-b', 'main');
    makeModel(dir);
    expect(runAisc(['lock', 'tiny', '--kind', 'model'], dir).status).toBe(0);
    const passed = runVerifyStep(dir);
    expect(passed.status).toBe(0);
    expect(passed.outputs).toEqual({ 'exit-code': '0', sarif: join(dir, 'aisc.sarif') });

    writeFileSync(join(dir, 'tiny', 'config.json'), '{"hidden_size": 17}\n');
    const failed = runVerifyStep(dir, { args: '--jobs 2' });
    expect(failed.status).toBe(1);
    expect(failed.stdout).toMatch(/^::error file=tiny\/config\.json,line=1,title=DIGEST_MISMATCH/);
    expect(failed.outputs['exit-code']).toBe('1');
    const sarif = JSON.parse(readFileSync(failed.outputs.sarif ?? '', 'utf8')) as { runs: { results: { ruleId: string }[] }[] };
    expect(sarif.runs[0]?.results.map((r) => r.ruleId)).toEqual(['DIGEST_MISMATCH']);

    const badUsage = runVerifyStep(dir, { lockfile: 'nope.json', sarif: 'nope.sarif' });
    expect(badUsage.status).toBe(2);
    expect(badUsage.outputs).toEqual({ 'exit-code': '2' });
  });
});
