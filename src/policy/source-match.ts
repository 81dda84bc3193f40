import { posix } from 'node:path';

/**
 * Whether a recorded source lies under an allowed one, on whole segments: `./data` admits
 * `data/x` but never `data-evil/x`; `https://registry.example` admits that origin's paths but never
 * `https://registry.example.evil.test/`. URLs match on scheme and host (and port) exactly, then on
 * path segments; paths match on `/`-separated segments after normalising `./` and `a/../`.
 */
export function isUnderSource(source: string, allowed: string): boolean {
  const allowedUrl = toUrl(allowed);
  if (allowedUrl) {
    const sourceUrl = toUrl(source);
    if (!sourceUrl || sourceUrl.protocol !== allowedUrl.protocol || sourceUrl.host !== allowedUrl.host) return false;
    if (sourceUrl.username !== '' || sourceUrl.password !== '') return false;
    return isUnderSegments(sourceUrl.pathname, allowedUrl.pathname);
  }
  if (toUrl(source)) return false;
  const [from, under] = [normalizePath(source), normalizePath(allowed)];
  if (from.absolute !== under.absolute) return false;
  return isUnderSegments(from.path, under.path);
}

function toUrl(text: string): URL | undefined {
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(text)) return undefined;
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

function normalizePath(path: string): { absolute: boolean; path: string } {
  const normal = posix.normalize(path.replaceAll('\\', '/'));
  return { absolute: normal.startsWith('/'), path: normal === '.' || normal === './' ? '' : normal };
}

/** `a/b/c` is under `a/b` and `a/b/`; `a/bc` is not; everything is under '' or '/'. */
function isUnderSegments(path: string, prefix: string): boolean {
  const split = (p: string): string[] => p.split('/').filter((segment) => segment !== '' && segment !== '.');
  const [segments, wanted] = [split(path), split(prefix)];
  // A path that climbs out ('..' left after normalising) is under nothing but an equal climb.
  return wanted.length <= segments.length && wanted.every((segment, i) => segments[i] === segment);
}
