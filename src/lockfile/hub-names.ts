/**
 * The one grammar of a Hub repository name and of a Hub revision, shared by the CLI's
 * `hf://org/name@ref` parser, the lockfile reader and the lockfile's JSON Schema (whose patterns
 * are these strings: test/lockfile/hub-names.test.ts holds them equal). A ref is written to disk
 * as `refs/<ref>` in the Hugging Face cache, so it can never climb out of refs/.
 */

export const MAX_HUB_REF_LENGTH = 256;

/**
 * A branch, tag, `refs/pr/N` or 40-hex commit: 1 to 256 characters of ASCII letters, digits and
 * `. _ - /`, `/`-separated components that neither are empty nor start with `.` (so no `.` or
 * `..` component), and no `..` anywhere. Git refuses all of these in a ref name too.
 */
export const HUB_REF_PATTERN = '^(?!.*\\.\\.)(?=.{1,256}$)[A-Za-z0-9_-][A-Za-z0-9._-]*(?:/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$';

/** `org/name`: each part starts with a letter or digit, at most 96 characters, no `--` or `..` (the Hub refuses them; `--` would also blur the cache's `models--org--name`). */
export const HUB_REPO_PATTERN = '^(?!.*--)(?!.*\\.\\.)[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}$';

const REF = new RegExp(HUB_REF_PATTERN, 'u');
const REPO = new RegExp(HUB_REPO_PATTERN, 'u');
export const COMMIT = /^[0-9a-f]{40}$/;

/** Why `ref` is not a Hub revision, or undefined when it is one. */
export function getHubRefProblem(ref: string): string | undefined {
  if (ref.length === 0) return 'is empty';
  if (ref.length > MAX_HUB_REF_LENGTH) return `is longer than ${MAX_HUB_REF_LENGTH} characters`;
  if (REF.test(ref)) return undefined;
  if (ref.includes('..')) return "holds '..'";
  if (ref.split('/').some((part) => part === '')) return 'has an empty component';
  if (ref.split('/').some((part) => part.startsWith('.'))) return "has a component that starts with '.'";
  return 'holds a character other than ASCII letters, digits and . _ - /';
}

/** Why `repo` is not `org/name` on the Hub, or undefined when it is. */
export function getHubRepoProblem(repo: string): string | undefined {
  return REPO.test(repo) ? undefined : 'is not org/name (each part a letter or digit, then up to 95 of letters, digits, . _ -; no -- or ..)';
}
