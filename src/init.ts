import { constants } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { packageFile } from './built.js';
import { AiscError, errnoCode } from './errors.js';
import { emptyLockfile, toLockfileText } from './lockfile/index.js';

export const STARTER_POLICY = `# aisc policy, version 1: see docs/policy.md. Nothing is required yet.
version: 1
signers: {}
reviewers: {}
rules: []
approvals: []
`;

export const PRESETS = ['baseline', 'strict'] as const;
export type Preset = (typeof PRESETS)[number];

/** Creates the lockfile and policy where they do not exist yet; never overwrites either. */
export async function initProject(options: { lockfile: string; policy: string; preset?: Preset }): Promise<{ path: string; created: boolean }[]> {
  const policy = options.preset ? await readFile(packageFile(`policies/${options.preset}.yaml`), 'utf8') : STARTER_POLICY;
  return [
    { path: options.policy, created: await createExclusive(options.policy, policy) },
    { path: options.lockfile, created: await createExclusive(options.lockfile, toLockfileText(emptyLockfile())) },
  ];
}

async function createExclusive(path: string, text: string): Promise<boolean> {
  try {
    const handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o644);
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    return true;
  } catch (error) {
    if (errnoCode(error) === 'EEXIST') return false;
    throw new AiscError('WRITE_FAILED', `${path}: cannot create (${errnoCode(error) ?? String(error)})`, { cause: error });
  }
}
