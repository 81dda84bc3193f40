/**
 * Artifact names: 1 to 512 characters of ASCII letters, digits and `. _ - @ / + : ~`, starting
 * with a letter, a digit, `@` or `_`, with no empty, `.` or `..` segment between slashes. Names
 * are data: they key Maps, never plain objects, so `__proto__` or `constructor` is a name like
 * any other. npm packages are named `npm:<package>@<version>`.
 */
export const MAX_NAME_LENGTH = 512;
const NAME_CHARACTERS = /^[A-Za-z0-9@_][A-Za-z0-9._@/+:~-]*$/;

/** Why `name` is not an artifact name, or undefined when it is one. */
export function getNameProblem(name: string): string | undefined {
  if (name.length === 0) return 'is empty';
  if (name.length > MAX_NAME_LENGTH) return `is longer than ${MAX_NAME_LENGTH} characters`;
  if (!NAME_CHARACTERS.test(name)) return 'must start with a letter, digit, @ or _ and hold only letters, digits and . _ - @ / + : ~';
  if (name.split('/').some((segment) => segment === '' || segment === '.' || segment === '..')) return "has an empty, '.' or '..' segment between slashes";
  return undefined;
}

export function isArtifactName(name: string): boolean {
  return getNameProblem(name) === undefined;
}
