import { createHash } from 'node:crypto';
import { toRecorded } from '../sources/index.js';
import type { Artifact, FileArtifact, Lockfile, NpmArtifact, RecordedSigner } from '../lockfile/types.js';
import { VERSION } from '../version.js';

/** Where the lockfile came from: its path as given and the SHA-256 of its bytes. */
export interface SbomSource {
  lockfile: string;
  sha256: string;
}

interface Property {
  name: string;
  value: string;
}

interface Hash {
  alg: 'SHA-1' | 'SHA-256' | 'SHA-384' | 'SHA-512';
  content: string;
}

interface ExternalReference {
  type: 'distribution' | 'vcs' | 'model-card';
  url: string;
  hashes?: Hash[];
}

/** The subset of a CycloneDX 1.6 component that aisc writes. */
interface Component {
  type: 'machine-learning-model' | 'data' | 'library' | 'file';
  'bom-ref': string;
  group?: string;
  name: string;
  version?: string;
  scope?: 'optional';
  hashes?: Hash[];
  purl?: string;
  externalReferences?: ExternalReference[];
  properties?: Property[];
  components?: Component[];
  modelCard?: { modelParameters: { modelArchitecture: string } };
  data?: { type: 'dataset' | 'configuration'; name: string }[];
}

/** The CycloneDX component type of each artifact kind (an ML-BOM: models as models, data as data). */
const COMPONENT_TYPES = { model: 'machine-learning-model', adapter: 'machine-learning-model', tokenizer: 'data', dataset: 'data', npm: 'library' } as const;

/** RFC 4122 URL namespace: the serial number is a name-based UUID of the lockfile's bytes. */
const URL_NAMESPACE = Buffer.from('6ba7b8119dad11d180b400c04fd430c8', 'hex');

/**
 * The lockfile as a CycloneDX 1.6 JSON ML-BOM: one component per artifact (models and adapters as
 * machine-learning-model, tokenizers and datasets as data, npm packages as library), purls for Hub
 * models and npm packages, SHA-256 of every file, signer and format facts as `aisc:` properties,
 * and an adapter's base model as a dependency. The same lockfile gives the same bytes.
 */
export function renderCycloneDx(lockfile: Lockfile, source: SbomSource): string {
  const artifacts = [...lockfile.artifacts];
  const bom = {
    $schema: 'http://cyclonedx.org/schema/bom-1.6.schema.json',
    bomFormat: 'CycloneDX',
    specVersion: '1.6',
    serialNumber: `urn:uuid:${toNameUuid(`aisc:lockfile:sha256:${source.sha256}`)}`,
    version: 1,
    metadata: {
      tools: { components: [{ type: 'application', name: 'aisc', version: VERSION }] },
      properties: [
        { name: 'aisc:lockfile', value: source.lockfile },
        { name: 'aisc:lockfile.sha256', value: source.sha256 },
      ],
    },
    components: artifacts.map(([name, artifact]) => toComponent(name, artifact)),
    dependencies: artifacts.flatMap(([name, artifact]) => (artifact.kind !== 'npm' && artifact.dependsOn?.length ? [{ ref: name, dependsOn: [...artifact.dependsOn] }] : [])),
  };
  return `${JSON.stringify(bom, null, 2)}\n`;
}

function toComponent(name: string, artifact: Artifact): Component {
  return artifact.kind === 'npm' ? toNpmComponent(name, artifact) : toFileComponent(name, artifact);
}

function toFileComponent(name: string, artifact: FileArtifact): Component {
  const recorded = toRecorded(artifact.source);
  const origin = recorded.sbom(artifact);
  const single = artifact.layout === 'file' ? artifact.files[0] : undefined;
  const bytes = artifact.files.reduce((sum, file) => sum + file.size, 0);
  const component: Component = {
    type: COMPONENT_TYPES[artifact.kind],
    'bom-ref': name,
    name,
    ...(origin.version !== undefined ? { version: origin.version } : {}),
    ...(single ? { hashes: [{ alg: 'SHA-256', content: single.sha256 }] } : {}),
    ...(origin.purl !== undefined ? { purl: origin.purl } : {}),
  };
  if (origin.references.length > 0) component.externalReferences = origin.references;
  const facts = artifact.format;
  if (facts?.architecture && COMPONENT_TYPES[artifact.kind] === 'machine-learning-model') component.modelCard = { modelParameters: { modelArchitecture: facts.architecture } };
  if (artifact.kind === 'dataset') component.data = [{ type: 'dataset', name }];
  if (artifact.kind === 'tokenizer') component.data = [{ type: 'configuration', name }];
  component.properties = [
    prop('aisc:kind', artifact.kind),
    prop('aisc:layout', artifact.layout),
    prop('aisc:source', recorded.describe()),
    prop('aisc:digest', artifact.digest),
    prop('aisc:files', String(artifact.manifest?.files ?? artifact.files.length)),
    prop('aisc:bytes', String(bytes)),
    ...(artifact.manifest ? [prop('aisc:manifest.sha256', artifact.manifest.sha256)] : []),
    ...(facts?.weights?.length ? [prop('aisc:format.weights', facts.weights.join(', '))] : []),
    ...(facts?.tensors !== undefined ? [prop('aisc:format.tensors', String(facts.tensors))] : []),
    ...(facts?.parameters !== undefined ? [prop('aisc:format.parameters', String(facts.parameters))] : []),
    ...(facts?.dtypes?.length ? [prop('aisc:format.dtypes', facts.dtypes.join(', '))] : []),
    ...(facts?.architecture ? [prop('aisc:format.architecture', facts.architecture)] : []),
    ...(facts?.quantization ? [prop('aisc:format.quantization', facts.quantization)] : []),
    ...(single?.format ? [prop('aisc:file.format', single.format)] : []),
    ...(artifact.signature
      ? [prop('aisc:signature.format', artifact.signature.format), prop('aisc:signature.bundle', artifact.signature.bundle), prop('aisc:signature.bundleSha256', artifact.signature.bundleSha256), ...toSignerProperties(artifact.signature.signer)]
      : [prop('aisc:signature', 'none')]),
  ];
  // A folder's files, each with its SHA-256; one kept in a manifest (over a thousand files) is named by the manifest's digest above.
  if (artifact.layout === 'directory' && !artifact.manifest) {
    component.components = artifact.files.map((file) => ({
      type: 'file',
      'bom-ref': `${name}#${file.path}`,
      name: file.path,
      hashes: [{ alg: 'SHA-256', content: file.sha256 }],
      properties: [prop('aisc:size', String(file.size)), ...(file.format ? [prop('aisc:file.format', file.format)] : [])],
    }));
  }
  return component;
}

function toNpmComponent(name: string, artifact: NpmArtifact): Component {
  const scoped = artifact.package.startsWith('@') ? artifact.package.split('/') : undefined;
  const hashes = artifact.integrity ? toIntegrityHashes(artifact.integrity) : [];
  const { provenance, registrySignature, source } = artifact;
  const references: ExternalReference[] = [
    ...(source.resolved && /^https?:\/\//.test(source.resolved) ? [{ type: 'distribution' as const, url: source.resolved, ...(hashes.length > 0 ? { hashes } : {}) }] : []),
    ...(provenance ? [{ type: 'vcs' as const, url: provenance.repository }] : []),
  ];
  return {
    type: 'library',
    'bom-ref': name,
    ...(scoped ? { group: scoped[0] ?? '', name: scoped[1] ?? '' } : { name: artifact.package }),
    version: artifact.version,
    ...(artifact.optional ? { scope: 'optional' as const } : {}),
    ...(hashes.length > 0 ? { hashes } : {}),
    purl: toNpmPurl(artifact.package, artifact.version),
    ...(references.length > 0 ? { externalReferences: references } : {}),
    properties: [
      prop('aisc:kind', 'npm'),
      prop('aisc:npm.from', source.from),
      ...(artifact.dev ? [prop('cdx:npm:package:development', 'true')] : []),
      ...(artifact.hasInstallScript ? [prop('aisc:npm.installScript', 'true')] : []),
      ...(registrySignature ? [prop('aisc:npm.registrySignature', registrySignature.status === 'verified' ? `verified (${registrySignature.keyid})` : 'unsigned')] : []),
      ...(provenance
        ? [
            prop('aisc:npm.provenance.repository', provenance.repository),
            ...(provenance.commit ? [prop('aisc:npm.provenance.commit', provenance.commit)] : []),
            ...(provenance.workflow ? [prop('aisc:npm.provenance.workflow', provenance.workflow)] : []),
            prop('aisc:npm.provenance.builder', provenance.builder),
            prop('aisc:signer.identity', provenance.identity),
            prop('aisc:signer.issuer', provenance.issuer),
          ]
        : []),
    ],
  };
}

function toSignerProperties(signer: RecordedSigner): Property[] {
  switch (signer.kind) {
    case 'keyless':
      return [prop('aisc:signer.kind', 'keyless'), prop('aisc:signer.identity', signer.identity), prop('aisc:signer.issuer', signer.issuer)];
    case 'key':
      return [prop('aisc:signer.kind', 'key'), prop('aisc:signer.keyFingerprint', signer.keyFingerprint)];
    case 'certificate':
      return [prop('aisc:signer.kind', 'certificate'), prop('aisc:signer.subject', signer.subject), prop('aisc:signer.certificateFingerprint', signer.certificateFingerprint)];
    default: {
      const never: never = signer;
      return never;
    }
  }
}

/** purl-spec's huggingface type: namespace the user or organization, version the lowercased commit. */
/** purl-spec's npm type: the scope's '@' is percent-encoded as %40. */
export function toNpmPurl(name: string, version: string): string {
  return `pkg:npm/${name.split('/').map(encodePurlSegment).join('/')}@${encodePurlSegment(version)}`;
}

function encodePurlSegment(segment: string): string {
  return encodeURIComponent(segment);
}

/** An SRI string (one or more `alg-base64` words) as CycloneDX hashes, hex. */
function toIntegrityHashes(integrity: string): Hash[] {
  const algorithms = { sha1: 'SHA-1', sha256: 'SHA-256', sha384: 'SHA-384', sha512: 'SHA-512' } as const;
  const hashes: Hash[] = [];
  for (const word of integrity.trim().split(/\s+/)) {
    const dash = word.indexOf('-');
    const alg = algorithms[word.slice(0, dash) as keyof typeof algorithms] as Hash['alg'] | undefined;
    if (dash <= 0 || alg === undefined) continue;
    const content = Buffer.from(word.slice(dash + 1).replace(/\?.*$/, ''), 'base64').toString('hex');
    if (content.length > 0 && !hashes.some((hash) => hash.alg === alg)) hashes.push({ alg, content });
  }
  return hashes;
}

/** An RFC 4122 version-5 (name-based, SHA-1) UUID. */
function toNameUuid(name: string): string {
  const bytes = createHash('sha1').update(URL_NAMESPACE).update(name).digest().subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x50;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function prop(name: string, value: string): Property {
  return { name, value };
}

/** Every `sbom --format`. */
export const SBOM_RENDERERS = {
  cyclonedx: renderCycloneDx,
} satisfies Record<string, (lockfile: Lockfile, source: SbomSource) => string>;

export type SbomFormat = keyof typeof SBOM_RENDERERS;
export const SBOM_FORMATS = Object.keys(SBOM_RENDERERS) as SbomFormat[];
