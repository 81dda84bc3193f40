import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * A file the build puts in dist/ (a worker script, a compiled schema), seen from a module that
 * may run from dist/ or, under vitest, from src/ (then the built copy is used).
 */
export function resolveBuilt(fromDist: string, moduleUrl: string): URL {
  const sibling = new URL(fromDist, moduleUrl);
  if (existsSync(fileURLToPath(sibling))) return sibling;
  const srcRoot = new URL('./', import.meta.url).href;
  const distRoot = new URL('../dist/', import.meta.url).href;
  return new URL(sibling.href.replace(srcRoot, distRoot));
}
