import type { FileArtifact } from '../../src/lockfile/types.js';

/** A valid lockfile's JSON value (artifacts as an object, as written) with one model of two files. */
export function sampleLockfile(): { lockfileVersion: 1; artifacts: Record<string, FileArtifact> } {
  return {
    lockfileVersion: 1,
    artifacts: {
      tiny: {
        kind: 'model',
        layout: 'directory',
        source: { type: 'local', path: 'models/tiny' },
        files: [
          { path: 'config.json', size: 3, sha256: 'a'.repeat(64) },
          { path: 'weights/model.safetensors', size: 10, sha256: 'b'.repeat(64) },
        ],
        digest: 'c'.repeat(64),
      },
    },
  };
}
