/** The relative-path grammar lives with the writes it confines (src/io): the lockfile names it here too. */
export { assertSafeRelativePath, getPathProblem, isSafeRelativePath, MAX_PATH_LENGTH } from '../io/relative-path.js';
