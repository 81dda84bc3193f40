// A module of its own: the policy compares repositories without loading Sigstore (~90 ms).

/** https://github.com/Owner/Repo.git and git+https://github.com/owner/repo compare equal. */
export function normalizeRepository(url: string): string {
  return url
    .replace(/^git\+/, '')
    .replace(/\.git$/, '')
    .replace(/\/+$/, '')
    .replace(/^(https?:\/\/[^/]+)(.*)$/i, (_, host: string, path: string) => host.toLowerCase() + (/github\.com|gitlab\.com/i.test(host) ? path.toLowerCase() : path));
}
