// Bundles the CLI (dist/cli/entry.js) into dist/cli-bundle/ with esbuild, after tsc. Unbundled,
// Node resolves, reads and links ~100 ES modules for `aisc verify`, and undici's ~150 CommonJS
// files (145 ms) for any command that goes online; bundled, far fewer files. Code is split at
// every dynamic import, so a command still loads only what it runs. Bundled: our code and the
// dependencies the start-up path or the network path load. Left in node_modules as they are:
// Sigstore's libraries, tar, Ajv's runtime and hash-wasm, which only some commands load, and
// fflate, which src/formats/fflate.ts requires on first use. dist/ itself stays as tsc wrote it:
// it is the library, and holds the worker scripts and compiled schemas that the bundle finds
// through src/built.ts.
import { readFileSync, rmSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild-wasm';

const BUNDLED = new Set(['commander', 'picomatch', 'semver', 'yaml', 'undici']);

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const external = Object.keys(pkg.dependencies)
  .filter((name) => !BUNDLED.has(name))
  .flatMap((name) => [name, `${name}/*`]);
const dist = fileURLToPath(new URL('../dist/', import.meta.url));
const outdir = `${dist}cli-bundle`;

// Node's own modules are taken with process.getBuiltinModule() and used through property reads,
// not imported as ES modules: an ES import of a built-in builds its ESM facade, which reads every
// export once and so loads what the module keeps lazy (importing anything from node:fs loads
// fs streams and fs/promises). commander needs child_process only to run external subcommands,
// which aisc has none of: it gets it on first use (11 ms of start-up otherwise).
const builtins = {
  name: 'aisc-builtins',
  setup(bundle) {
    const names = new RegExp(`^(node:)?(${builtinModules.map((name) => name.replace(/[/]/g, '\\/')).join('|')})$`);
    bundle.onResolve({ filter: names }, (args) => {
      const path = args.path.startsWith('node:') ? args.path : `node:${args.path}`;
      // CommonJS code gets the module itself from require() (the banner's), as it expects.
      if (args.kind === 'require-call') return { path, external: true };
      const lazy = path === 'node:child_process' && /[\\/]node_modules[\\/]commander[\\/]/.test(args.importer);
      return { path, namespace: lazy ? 'aisc-lazy-builtin' : 'aisc-builtin' };
    });
    bundle.onLoad({ filter: /.*/, namespace: 'aisc-builtin' }, (args) => {
      // Named exports for the module's data properties, read once; accessors (fs.promises,
      // fs.ReadStream, ...) stay reachable through the default export only, still lazy. Marked
      // pure, so the bundle keeps only the names it uses.
      const real = process.getBuiltinModule(args.path);
      const names = Object.keys(real).filter((key) => /^[A-Za-z_$][\w$]*$/.test(key) && !Object.getOwnPropertyDescriptor(real, key)?.get);
      return {
        contents: [`const m = process.getBuiltinModule(${JSON.stringify(args.path)});`, 'export default m;', ...names.map((key) => `export const ${key} = /* @__PURE__ */ (() => m.${key})();`)].join('\n'),
        loader: 'js',
      };
    });
    bundle.onLoad({ filter: /.*/, namespace: 'aisc-lazy-builtin' }, (args) => ({
      contents: `module.exports = new Proxy({}, { get: (_, key) => process.getBuiltinModule(${JSON.stringify(args.path)})[key] });`,
      loader: 'js',
    }));
  },
};

rmSync(outdir, { recursive: true, force: true });
const common = {
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  external,
  define: { AISC_BUNDLE: 'true' },
  // The bundled CommonJS packages call require() for Node's own modules; an ES module has none.
  banner: { js: "const require = process.getBuiltinModule('node:module').createRequire(import.meta.url);" },
  plugins: [builtins],
  logLevel: 'warning',
};
await build({
  ...common,
  // prestart: what bin/aisc.js loads first for a command that hashes (the hash workers boot while
  // the CLI loads); splitting puts the pool's module in a chunk both entries share.
  entryPoints: { aisc: `${dist}cli/entry.js`, prestart: `${dist}cli/prestart.js` },
  outdir,
  splitting: true,
});
// The hash worker, one file of its own: a worker loads it as it boots, and one file (~110 KB) is up
// ~8 ms sooner than the 20 modules tsc wrote (measured: first answer 42 ms against 50; an empty
// worker takes 35). No splitting: nothing is shared with the CLI's chunks at run time anyway.
await build({ ...common, entryPoints: { 'hash-worker': `${dist}hashing/worker.js` }, outdir });
