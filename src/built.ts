// Set by scripts/bundle.js for the CLI's bundle, whose chunks sit one folder below dist/.
declare const AISC_BUNDLE: boolean | undefined;

/**
 * A file the build puts in dist/ (a worker script, a compiled schema), named from dist/: this
 * module runs from dist/ (the library), from dist/cli-bundle/ (the CLI) or, under vitest, from
 * src/ (then the built copy in dist/ is used).
 */
export function distFile(path: string): URL {
  const here = new URL(isBundled() ? '../' : './', import.meta.url);
  return new URL(path, here.href.endsWith('/src/') ? new URL('../dist/', here) : here);
}

/** A worker script: from the CLI's bundle its bundled copy (dist/cli-bundle/NAME.js), else the one tsc wrote (`path`). */
export function workerFile(path: string, name: string): URL {
  return distFile(isBundled() ? `cli-bundle/${name}.js` : path);
}

function isBundled(): boolean {
  return typeof AISC_BUNDLE === 'boolean' && AISC_BUNDLE;
}

/** A file of the installed package outside dist/ (policies/). */
export function packageFile(path: string): URL {
  return new URL(`../${path}`, distFile('./'));
}
