import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { OciSource } from '../../src/lockfile/types.js';
import { isUnderSource } from '../../src/policy/source-match.js';
import { getSources, Network, toIgnoreMatcher, toRecorded } from '../../src/sources/index.js';
import { parseChallenge } from '../../src/sources/oci/client.js';
import { findLogin } from '../../src/sources/oci/credentials.js';
import { getLayerShape } from '../../src/sources/oci/manifest.js';
import { getApiBase, parseOciSpec } from '../../src/sources/oci/reference.js';
import { makeTempDir } from '../helpers/temp.js';

const DIGEST = `sha256:${'a'.repeat(64)}`;
const OTHER = `sha256:${'b'.repeat(64)}`;

describe('oci:// references', () => {
  it('parses registry, repository, tag and digest from the text alone', () => {
    expect(parseOciSpec('oci://ghcr.io/acme/models/tiny:v1')).toEqual({ registry: 'ghcr.io', repository: 'acme/models/tiny', tag: 'v1' });
    expect(parseOciSpec(`oci://127.0.0.1:5000/tiny@${DIGEST}`)).toEqual({ registry: '127.0.0.1:5000', repository: 'tiny', digest: DIGEST });
    expect(parseOciSpec(`oci://Registry.Example:443/a/b:t@${DIGEST}`)).toEqual({ registry: 'registry.example:443', repository: 'a/b', tag: 't', digest: DIGEST });
    // docker's defaults: latest, and library/ on Docker Hub.
    expect(parseOciSpec('oci://docker.io/ubuntu')).toEqual({ registry: 'docker.io', repository: 'library/ubuntu', tag: 'latest' });
    for (const bad of ['oci://ghcr.io', 'oci://ghcr.io/', 'oci://ghcr.io/Acme/x', 'oci://ghcr.io/a/../b', 'oci://ghcr.io/a:-bad', 'oci://ghcr.io/a@sha256:abc', 'oci://gh cr.io/a', `oci://ghcr.io/a@sha512:${'a'.repeat(128)}`]) {
      expect(() => parseOciSpec(bad), bad).toThrow(expect.objectContaining({ code: 'USAGE' }));
    }
  });

  it('speaks https, and plain http only to loopback', () => {
    expect(getApiBase('ghcr.io')).toBe('https://ghcr.io');
    expect(getApiBase('registry.local:5000')).toBe('https://registry.local:5000');
    expect(getApiBase('127.0.0.1:5000')).toBe('http://127.0.0.1:5000');
    expect(getApiBase('localhost:5000')).toBe('http://localhost:5000');
    expect(getApiBase('docker.io')).toBe('https://registry-1.docker.io');
  });

  it('is owned by the oci kind, whose origin the policy matches on whole segments', () => {
    const dir = makeTempDir();
    const context = { lockfile: join(dir, 'aisc.lock.json'), ignore: toIgnoreMatcher([]), allowSymlinks: false, env: {} };
    const [source] = getSources(['oci://ghcr.io/acme/tiny:v1'], context, new Network({}));
    expect(source?.origin).toBe('oci://ghcr.io/acme/tiny');
    expect(source?.choosesPlatform).toBe(true);
    expect(isUnderSource('oci://ghcr.io/acme/tiny', 'oci://ghcr.io/acme')).toBe(true);
    expect(isUnderSource('oci://ghcr.io/acme/tiny', 'oci://ghcr.io/acme/')).toBe(true);
    expect(isUnderSource('oci://ghcr.io/acme-evil/tiny', 'oci://ghcr.io/acme')).toBe(false);
    expect(isUnderSource('oci://ghcr.io.evil.test/acme/tiny', 'oci://ghcr.io/acme')).toBe(false);
    expect(isUnderSource('oci://ghcr.io:5000/acme/tiny', 'oci://ghcr.io/acme')).toBe(false);
    expect(isUnderSource('https://ghcr.io/acme/tiny', 'oci://ghcr.io/acme')).toBe(false);
  });
});

describe('a recorded OCI source', () => {
  const source: OciSource = { type: 'oci', registry: 'ghcr.io', repository: 'acme/tiny', digest: DIGEST, tag: 'v1', mediaType: 'application/vnd.oci.image.manifest.v1+json' };

  it('says where verify finds it: --path, else the aisc OCI cache by digest', () => {
    const dir = makeTempDir();
    const files = [{ path: 'w.safetensors', size: 3, sha256: 'c'.repeat(64) }];
    const artifact = { kind: 'model' as const, layout: 'directory' as const, source, files, digest: '' };
    const lockfile = join(dir, 'aisc.lock.json');
    expect(toRecorded(source).locate('tiny', artifact, lockfile, { AISC_OCI_CACHE: join(dir, 'c') })).toMatchObject({ mode: 'files', root: join(dir, 'c', 'ghcr.io', 'acme', 'tiny', `sha256-${'a'.repeat(64)}`) });
    expect(toRecorded({ ...source, path: 'models/tiny' }).locate('tiny', artifact, lockfile, {})).toMatchObject({ mode: 'files', root: join(dir, 'models', 'tiny') });
    expect(toRecorded(source).unfetchable).toBeUndefined();
    expect(toRecorded(source).describe()).toBe(`oci://ghcr.io/acme/tiny@${DIGEST} (v1)`);
  });

  it('names a moved tag as a revision change with both digests; another repository or platform is not one', () => {
    expect(toRecorded(source).compare({ ...source, digest: OTHER })).toEqual({ summary: `oci://ghcr.io/acme/tiny: manifest ${DIGEST} (v1) → ${OTHER} (v1)`, from: { digest: DIGEST, tag: 'v1' }, to: { digest: OTHER, tag: 'v1' } });
    expect(toRecorded(source).compare({ ...source, repository: 'acme/other', digest: OTHER })).toBeUndefined();
    expect(toRecorded({ ...source, platform: 'linux/amd64' }).compare({ ...source, digest: OTHER, platform: 'linux/arm64' })).toBeUndefined();
    expect(toRecorded(source).compare(source)).toBeUndefined();
  });

  it("gives the SBOM purl-spec's oci purl: digest as version, repository_url, tag", () => {
    expect(toRecorded(source).sbom({ kind: 'model', layout: 'directory', source, files: [], digest: '' }).purl).toBe(`pkg:oci/tiny@sha256%3A${'a'.repeat(64)}?repository_url=ghcr.io/acme/tiny&tag=v1`);
  });
});

describe('OCI layers', () => {
  const layer = (mediaType: string, annotations: Record<string, string> = {}) => ({ mediaType, digest: DIGEST, size: 1, annotations });
  it('a .raw layer is one file named by its filepath annotation (else its title); tars hold files; zstd is refused', () => {
    expect(getLayerShape(layer('application/vnd.cncf.model.weight.v1.raw', { 'org.cncf.model.filepath': 'sub/w.safetensors', 'org.opencontainers.image.title': 'w' }), 'l')).toEqual({ kind: 'file', path: 'sub/w.safetensors' });
    expect(getLayerShape(layer('application/octet-stream', { 'org.opencontainers.image.title': 'model.gguf' }), 'l')).toEqual({ kind: 'file', path: 'model.gguf' });
    for (const tar of ['application/vnd.cncf.model.weight.v1.tar', 'application/vnd.cncf.model.weight.config.v1.tar+gzip', 'application/vnd.kitops.modelkit.model.v1.tar+gzip', 'application/vnd.oci.image.layer.v1.tar', 'application/vnd.docker.image.rootfs.diff.tar.gzip']) {
      expect(getLayerShape(layer(tar), tar)).toEqual({ kind: 'tar' });
    }
    expect(() => getLayerShape(layer('application/vnd.cncf.model.weight.v1.tar+zstd'), 'l')).toThrow(expect.objectContaining({ code: 'OCI_LAYER_UNSUPPORTED' }));
    expect(() => getLayerShape(layer('application/vnd.cncf.model.weight.v1.raw'), 'l')).toThrow(expect.objectContaining({ code: 'OCI_LAYER_UNSUPPORTED' }));
    for (const escape of ['../etc/passwd', '/etc/passwd', 'a/../../b', 'a\\b']) {
      expect(() => getLayerShape(layer('application/vnd.cncf.model.weight.v1.raw', { 'org.cncf.model.filepath': escape }), 'l'), escape).toThrow(expect.objectContaining({ code: 'ARCHIVE_UNSAFE' }));
    }
  });
});

describe('registry auth', () => {
  it('parses Bearer and Basic challenges, quoted commas included', () => {
    expect(parseChallenge('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"')).toEqual({
      scheme: 'bearer',
      params: { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:a/b:pull,push' },
    });
    expect(parseChallenge('Basic realm="Registry Realm"')).toEqual({ scheme: 'basic', params: { realm: 'Registry Realm' } });
  });

  it('reads the docker login from REGISTRY_AUTH_FILE, else DOCKER_CONFIG, plain auths only', () => {
    const dir = makeTempDir();
    mkdirSync(join(dir, 'docker'));
    writeFileSync(join(dir, 'docker', 'config.json'), JSON.stringify({ auths: { 'ghcr.io': { auth: Buffer.from('me:s3cr:et').toString('base64') }, 'https://index.docker.io/v1/': { username: 'hub', password: 'pw' } }, credsStore: 'desktop' }));
    writeFileSync(join(dir, 'auth.json'), JSON.stringify({ auths: { 'quay.io': { auth: Buffer.from('q:pw').toString('base64') } } }));
    const env = { DOCKER_CONFIG: join(dir, 'docker'), HOME: dir };
    expect(findLogin('ghcr.io', env)).toEqual({ username: 'me', password: 's3cr:et', from: join(dir, 'docker', 'config.json') });
    expect(findLogin('docker.io', env)).toMatchObject({ username: 'hub', password: 'pw' });
    expect(findLogin('quay.io', env)).toBeUndefined();
    expect(findLogin('quay.io', { ...env, REGISTRY_AUTH_FILE: join(dir, 'auth.json') })).toMatchObject({ username: 'q', password: 'pw' });
    writeFileSync(join(dir, 'docker', 'config.json'), '{"auths": ');
    expect(() => findLogin('ghcr.io', env)).toThrow(expect.objectContaining({ code: 'JSON_INVALID' }));
  });
});
