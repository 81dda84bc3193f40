import { AiscError } from '../../errors.js';
import { isLoopbackHost } from '../urls.js';

/** `oci://registry/repository[:tag][@sha256:digest]`, parsed. */
export interface OciReference {
  /** host[:port], lower case, as the user named it. */
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
}

/** The OCI distribution spec's grammar for repository names and tags. */
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
export const DIGEST = /^sha256:[0-9a-f]{64}$/;
const HOST = /^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*(?::[0-9]{1,5})?$/;
const DOCKER_HUB = 'docker.io';

export function isOciSpec(spec: string): boolean {
  return spec.startsWith('oci://');
}

/**
 * Parses an oci:// spec from its text alone. Docker Hub's one-segment names are `library/…` as
 * docker pulls them; without a tag or digest the tag is `latest`, as docker's.
 */
export function parseOciSpec(spec: string): OciReference {
  const usage = (why: string): AiscError => new AiscError('USAGE', `${spec}: expected oci://REGISTRY/REPOSITORY[:TAG|@sha256:DIGEST], ${why}`);
  let rest = spec.slice('oci://'.length);
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at !== -1) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST.test(digest)) throw usage(`got the digest ${JSON.stringify(digest)} (sha256: and 64 lower-case hex digits)`);
  }
  const slash = rest.indexOf('/');
  if (slash <= 0) throw usage('got no repository');
  const registry = rest.slice(0, slash).toLowerCase();
  if (!HOST.test(registry)) throw usage(`got the registry ${JSON.stringify(rest.slice(0, slash))}`);
  let path = rest.slice(slash + 1);
  let tag: string | undefined;
  const colon = path.lastIndexOf(':');
  if (colon !== -1) {
    tag = path.slice(colon + 1);
    path = path.slice(0, colon);
    if (!TAG.test(tag)) throw usage(`got the tag ${JSON.stringify(tag)}`);
  }
  if (registry === DOCKER_HUB && !path.includes('/')) path = `library/${path}`;
  if (path.length > 255 || !path.split('/').every((part) => COMPONENT.test(part))) throw usage(`got the repository ${JSON.stringify(path)} (lower-case segments of letters, digits and . _ -)`);
  if (tag === undefined && digest === undefined) tag = 'latest';
  return { registry, repository: path, ...(tag === undefined ? {} : { tag }), ...(digest === undefined ? {} : { digest }) };
}

/** What the policy's `sources` match: `oci://registry/repository`. */
export function toOciOrigin(reference: { registry: string; repository: string }): string {
  return `oci://${reference.registry}/${reference.repository}`;
}

/** Where the distribution API is: https, or plain http to a loopback registry only. */
export function getApiBase(registry: string): string {
  if (registry === DOCKER_HUB) return 'https://registry-1.docker.io';
  const host = registry.replace(/:\d+$/, '');
  return `${isLoopbackHost(host) ? 'http' : 'https'}://${registry}`;
}

/** The keys a docker config.json may file this registry's credentials under, most specific first. */
export function getAuthKeys(registry: string): string[] {
  if (registry === DOCKER_HUB) return ['https://index.docker.io/v1/', 'index.docker.io', 'docker.io', 'registry-1.docker.io'];
  return [registry, `https://${registry}`, `http://${registry}`, `https://${registry}/v1/`, `https://${registry}/v2/`];
}
