// A writer for the concurrency tests: adds one artifact to a lockfile through aisc's own
// updateLockfile (the code path `aisc lock` commits through), as a separate process.
import { updateLockfile } from '../../dist/lockfile/index.js';

const [lockfile, name] = process.argv.slice(2);
const sha = '0'.repeat(64);
const artifact = { kind: 'model', layout: 'directory', source: { type: 'local', path: name }, files: [{ path: 'w.bin', size: 0, sha256: sha }], digest: sha };
await updateLockfile(lockfile, (current) => ({ ...current, artifacts: new Map([...current.artifacts, [name, artifact]]) }));
