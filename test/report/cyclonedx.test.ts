import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Spec, Validation } from '@cyclonedx/cyclonedx-library';
import { afterEach, describe, expect, it } from 'vitest';
import { computeRootDigest } from '../../src/lockfile/digest.js';
import type { FileArtifact, Lockfile, NpmArtifact } from '../../src/lockfile/types.js';
import { renderCycloneDx, toNpmPurl } from '../../src/report/cyclonedx.js';
import { runAiscAsync } from '../helpers/cli.js';
import { sha256, startHub, type LoopbackHub } from '../helpers/hub-server.js';
import { makeModel } from '../helpers/model.js';
import { makeTempDir } from '../helpers/temp.js';

/** The CycloneDX project's own strict validator for 1.6: null when valid, else the errors. */
async function validateBom(text: string): Promise<Bom> {
  const errors: unknown = await new Validation.JsonStrictValidator(Spec.Version.v1dot6).validate(text);
  expect(errors, JSON.stringify(errors, null, 2)).toBeNull();
  return JSON.parse(text) as Bom;
}

interface Component {
  type: string;
  'bom-ref': string;
  group?: string;
  name: string;
  version?: string;
  purl?: string;
  hashes?: { alg: string; content: string }[];
  properties?: { name: string; value: string }[];
  components?: Component[];
  externalReferences?: { type: string; url: string; hashes?: { alg: string; content: string }[] }[];
  modelCard?: unknown;
  data?: { type: string }[];
}
interface Bom {
  specVersion: string;
  serialNumber: string;
  metadata: { tools: { components: { name: string }[] } };
  components: Component[];
  dependencies: { ref: string; dependsOn: string[] }[];
}

const property = (component: Component | undefined, name: string): string | undefined => component?.properties?.find((p) => p.name === name)?.value;
const byRef = (bom: Bom, ref: string): Component | undefined => bom.components.find((c) => c['bom-ref'] === ref);

const COMMIT = 'A1b2c3d4e5f60718293a4b5c6d7e8f9012345678';

function hubModel(): FileArtifact {
  const files = [
    { path: 'README.md', size: 10, sha256: '1'.repeat(64), format: 'text' as const },
    { path: 'model.gguf', size: 1000, sha256: '2'.repeat(64), format: 'gguf' as const },
  ];
  return {
    kind: 'model',
    layout: 'directory',
    source: { type: 'huggingface', repo: 'TheOrg/llama-q4', repoType: 'model', revision: COMMIT.toLowerCase(), ref: 'main' },
    files,
    digest: computeRootDigest(files),
    format: { weights: ['gguf'], tensors: 291, parameters: 8030261248, dtypes: ['Q4_K'], architecture: 'llama', quantization: 'Q4_K_M' },
    signature: { bundle: 'sigs/llama.sig', bundleSha256: '3'.repeat(64), format: 'model-signing', signer: { kind: 'keyless', identity: 'https://github.com/TheOrg/release/.github/workflows/sign.yml@refs/heads/main', issuer: 'https://token.actions.githubusercontent.com' } },
  };
}

function npm(name: string, version: string, integrity: string, extra: Partial<NpmArtifact> = {}): NpmArtifact {
  return { kind: 'npm', package: name, version, integrity, source: { type: 'npm', packageLock: 'package-lock.json', from: 'registry', registry: 'https://registry.npmjs.org/', resolved: `https://registry.npmjs.org/${name}/-/x-${version}.tgz` }, ...extra };
}

describe('renderCycloneDx', () => {
  it('writes a valid 1.6 ML-BOM with purls, hashes, signer and format facts, and the base model as a dependency', async () => {
    const dataFile = [{ path: 'eval.jsonl', size: 9, sha256: '4'.repeat(64), format: 'json' as const }];
    const adapterFiles = [{ path: 'adapter_model.safetensors', size: 64, sha256: '5'.repeat(64), format: 'safetensors' as const }];
    const lockfile: Lockfile = {
      lockfileVersion: 1,
      artifacts: new Map<string, FileArtifact | NpmArtifact>([
        ['llama', hubModel()],
        ['lora', { kind: 'adapter', layout: 'directory', source: { type: 'local', path: 'adapters/lora' }, files: adapterFiles, digest: computeRootDigest(adapterFiles), dependsOn: ['llama'] }],
        ['evals', { kind: 'dataset', layout: 'file', source: { type: 'url', url: 'https://data.example/eval.jsonl', path: 'data/eval.jsonl' }, files: dataFile, digest: computeRootDigest(dataFile) }],
        ['squad', { kind: 'dataset', layout: 'directory', source: { type: 'huggingface', repo: 'rajpurkar/squad', repoType: 'dataset', revision: 'b'.repeat(40), ref: 'b'.repeat(40) }, files: dataFile, digest: computeRootDigest(dataFile) }],
        ['npm:@sigstore/verify@4.1.3', npm('@sigstore/verify', '4.1.3', `sha512-${Buffer.alloc(64, 7).toString('base64')}`, { dev: true, provenance: { predicateType: 'https://slsa.dev/provenance/v1', repository: 'https://github.com/sigstore/sigstore-js', commit: 'c'.repeat(40), builder: 'https://github.com/actions/runner/github-hosted', identity: 'https://github.com/sigstore/sigstore-js/.github/workflows/release.yml@refs/heads/main', issuer: 'https://token.actions.githubusercontent.com' } })],
        ['npm:left-pad@1.3.0', npm('left-pad', '1.3.0', `sha1-${Buffer.alloc(20, 9).toString('base64')}`, { optional: true })],
      ]),
    };
    const text = renderCycloneDx(lockfile, { lockfile: 'aisc.lock.json', sha256: 'f'.repeat(64) });
    const bom = await validateBom(text);
    // The validator can fail: a component type 1.6 does not have.
    expect(await new Validation.JsonStrictValidator(Spec.Version.v1dot6).validate(text.replace('"machine-learning-model"', '"ml-model"'))).not.toBeNull();
    expect(bom.specVersion).toBe('1.6');
    expect(bom.serialNumber).toMatch(/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(renderCycloneDx(lockfile, { lockfile: 'aisc.lock.json', sha256: 'f'.repeat(64) })).toBe(text);
    expect((JSON.parse(renderCycloneDx(lockfile, { lockfile: 'aisc.lock.json', sha256: 'e'.repeat(64) })) as Bom).serialNumber).not.toBe(bom.serialNumber);

    const llama = byRef(bom, 'llama');
    expect(llama).toMatchObject({ type: 'machine-learning-model', version: COMMIT.toLowerCase(), purl: `pkg:huggingface/TheOrg/llama-q4@${COMMIT.toLowerCase()}`, modelCard: { modelParameters: { modelArchitecture: 'llama' } } });
    expect(llama?.externalReferences).toEqual([
      { type: 'distribution', url: `https://huggingface.co/TheOrg/llama-q4/tree/${COMMIT.toLowerCase()}` },
      { type: 'model-card', url: `https://huggingface.co/TheOrg/llama-q4/blob/${COMMIT.toLowerCase()}/README.md` },
    ]);
    expect(llama?.components?.map((c) => `${c.type} ${c.name} ${c.hashes?.[0]?.alg ?? ''}:${c.hashes?.[0]?.content.slice(0, 4) ?? ''} ${property(c, 'aisc:file.format') ?? ''}`)).toEqual(['file README.md SHA-256:1111 text', 'file model.gguf SHA-256:2222 gguf']);
    expect(property(llama, 'aisc:signer.identity')).toBe('https://github.com/TheOrg/release/.github/workflows/sign.yml@refs/heads/main');
    expect(property(llama, 'aisc:signer.issuer')).toBe('https://token.actions.githubusercontent.com');
    expect(property(llama, 'aisc:format.quantization')).toBe('Q4_K_M');
    expect(property(llama, 'aisc:format.parameters')).toBe('8030261248');
    expect(property(llama, 'aisc:digest')).toBe(hubModel().digest);

    expect(byRef(bom, 'lora')).toMatchObject({ type: 'machine-learning-model' });
    expect(property(byRef(bom, 'lora'), 'aisc:signature')).toBe('none');
    expect(bom.dependencies).toEqual([{ ref: 'lora', dependsOn: ['llama'] }]);

    const evals = byRef(bom, 'evals');
    expect(evals).toMatchObject({ type: 'data', data: [{ type: 'dataset' }], hashes: [{ alg: 'SHA-256', content: '4'.repeat(64) }] });
    expect(evals?.externalReferences).toEqual([{ type: 'distribution', url: 'https://data.example/eval.jsonl', hashes: [{ alg: 'SHA-256', content: '4'.repeat(64) }] }]);
    // A Hub dataset has no purl type: its commit is in the version and the link.
    expect(byRef(bom, 'squad')).toMatchObject({ type: 'data', version: 'b'.repeat(40), externalReferences: [{ type: 'distribution', url: `https://huggingface.co/datasets/rajpurkar/squad/tree/${'b'.repeat(40)}` }] });
    expect(byRef(bom, 'squad')?.purl).toBeUndefined();

    const scoped = byRef(bom, 'npm:@sigstore/verify@4.1.3');
    expect(scoped).toMatchObject({ type: 'library', group: '@sigstore', name: 'verify', version: '4.1.3', purl: 'pkg:npm/%40sigstore/verify@4.1.3', hashes: [{ alg: 'SHA-512', content: '07'.repeat(64) }] });
    expect(property(scoped, 'cdx:npm:package:development')).toBe('true');
    expect(property(scoped, 'aisc:npm.provenance.repository')).toBe('https://github.com/sigstore/sigstore-js');
    expect(scoped?.externalReferences?.map((r) => r.type)).toEqual(['distribution', 'vcs']);
    expect(byRef(bom, 'npm:left-pad@1.3.0')).toMatchObject({ name: 'left-pad', purl: 'pkg:npm/left-pad@1.3.0', scope: 'optional', hashes: [{ alg: 'SHA-1', content: '09'.repeat(20) }] });
  });

  it('names a Hub mirror in the purl, and encodes npm names as purl-spec says', () => {
    const model = hubModel();
    const mirrored: FileArtifact = { ...model, source: { type: 'huggingface', repo: 'gpt2', repoType: 'model', revision: 'd'.repeat(40), ref: 'main', endpoint: 'https://hub.internal:8443' } };
    const bom = JSON.parse(renderCycloneDx({ lockfileVersion: 1, artifacts: new Map([['gpt2', mirrored]]) }, { lockfile: 'x', sha256: '0'.repeat(64) })) as Bom;
    expect(bom.components[0]?.purl).toBe(`pkg:huggingface/gpt2@${'d'.repeat(40)}?repository_url=https%3A%2F%2Fhub.internal%3A8443`);
    expect(toNpmPurl('@types/node', '22.0.0-rc.1+build')).toBe('pkg:npm/%40types/node@22.0.0-rc.1%2Bbuild');
  });
});

describe('aisc sbom', () => {
  let hub: LoopbackHub | undefined;
  afterEach(async () => {
    await hub?.close();
    hub = undefined;
  });

  it('describes a real lockfile: a signed local model, its adapter, a dataset, a Hub tokenizer; to stdout or --output', async () => {
    const config = Buffer.from('{"model_type": "gpt2"}\n');
    const tokenizer = Buffer.from('{"model": {"type": "BPE"}}\n');
    hub = await startHub({ 'openai-community/gpt2': { type: 'model', refs: { main: 'e'.repeat(40) }, commits: { ['e'.repeat(40)]: [{ path: 'config.json', content: config }, { path: 'tokenizer.json', content: tokenizer }] } } });
    const dir = makeTempDir();
    const env = { HF_ENDPOINT: hub.endpoint, HF_HUB_CACHE: join(dir, 'hf-cache'), HF_HOME: join(dir, 'hf-home'), HF_TOKEN: '', HF_HUB_OFFLINE: '' };
    const run = async (...args: string[]) => {
      const result = await runAiscAsync(args, dir, env);
      expect(result.status, result.stderr).toBe(0);
      return result;
    };
    makeModel(dir);
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(join(dir, 'signer.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(join(dir, 'signer.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
    await run('sign', 'tiny', '--key', 'signer.pem', '--output', 'tiny.sig');
    await run('lock', 'tiny', '--kind', 'model', '--signature', 'tiny.sig', '--key', 'signer.pub');
    mkdirSync(join(dir, 'lora'));
    writeFileSync(join(dir, 'lora', 'adapter_config.json'), '{"r": 8}\n');
    await run('lock', 'lora', '--kind', 'adapter', '--depends-on', 'tiny');
    writeFileSync(join(dir, 'eval.jsonl'), '{"q": 1}\n');
    await run('lock', 'eval.jsonl', '--kind', 'dataset', '--name', 'evals');
    await run('lock', 'hf://openai-community/gpt2', '--kind', 'tokenizer', '--name', 'gpt2-tokenizer');

    const printed = await run('sbom');
    const bom = await validateBom(printed.stdout);
    expect(bom.metadata.tools.components[0]?.name).toBe('aisc');
    expect(bom.components.map((c) => `${c['bom-ref']} ${c.type}`)).toEqual(['evals data', 'gpt2-tokenizer data', 'lora machine-learning-model', 'tiny machine-learning-model']);
    const tiny = byRef(bom, 'tiny');
    expect(property(tiny, 'aisc:signer.kind')).toBe('key');
    expect(property(tiny, 'aisc:signer.keyFingerprint')).toMatch(/^[0-9a-f]{64}$/);
    expect(property(tiny, 'aisc:format.weights')).toBe('safetensors');
    expect(tiny?.components?.find((c) => c.name === 'config.json')?.hashes).toEqual([{ alg: 'SHA-256', content: sha256(readFileSync(join(dir, 'tiny', 'config.json'))) }]);
    expect(byRef(bom, 'evals')?.hashes).toEqual([{ alg: 'SHA-256', content: sha256('{"q": 1}\n') }]);
    expect(byRef(bom, 'gpt2-tokenizer')?.purl).toBe(`pkg:huggingface/openai-community/gpt2@${'e'.repeat(40)}?repository_url=${encodeURIComponent(hub.endpoint)}`);
    expect(bom.dependencies).toEqual([{ ref: 'lora', dependsOn: ['tiny'] }]);

    writeFileSync(join(dir, 'sbom.json'), 'old');
    const written = await run('sbom', '--output', 'sbom.json', '--format', 'cyclonedx');
    expect(written.stdout).toBe('');
    expect(readFileSync(join(dir, 'sbom.json'), 'utf8')).toBe(printed.stdout);

    expect((await runAiscAsync(['sbom', '--format', 'spdx'], dir)).status).toBe(2);
    writeFileSync(join(dir, 'broken.lock.json'), '{"lockfileVersion": 1, "artifacts": {"x": {}}}');
    const broken = await runAiscAsync(['sbom', '--lockfile', 'broken.lock.json', '--output', 'sbom.json'], dir);
    expect(broken.status).toBe(2);
    expect(broken.stderr).toMatch(/^aisc: LOCKFILE_INVALID /);
    expect(readFileSync(join(dir, 'sbom.json'), 'utf8')).toBe(printed.stdout);
  });
});
