import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A certificate made by the openssl command line, with its key: both PEM files. */
export interface Issued {
  name: string;
  key: string;
  cert: string;
  pem: string;
}

export type Curve = 'P-256' | 'P-384' | 'P-521';

/** X.509v3 extensions as openssl config lines. */
export const CA_EXTENSIONS = ['basicConstraints = critical,CA:TRUE', 'keyUsage = critical,keyCertSign,cRLSign'];
export const CODE_SIGNING_EXTENSIONS = ['basicConstraints = CA:FALSE', 'keyUsage = critical,digitalSignature', 'extendedKeyUsage = codeSigning'];

function openssl(args: readonly string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: 'pipe' });
}

function newKey(dir: string, name: string, curve: Curve): string {
  const key = join(dir, `${name}.key`);
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', `ec_paramgen_curve:${curve}`, '-out', key], dir);
  return key;
}

/** A self-signed certificate (a root CA, or a leaf that is its own anchor), valid for a day. */
export function makeSelfSigned(dir: string, name: string, curve: Curve, extensions: readonly string[] = CA_EXTENSIONS): Issued {
  const key = newKey(dir, name, curve);
  const cert = join(dir, `${name}.pem`);
  openssl(['req', '-x509', '-new', '-key', key, '-out', cert, '-subj', `/CN=${name}`, '-days', '1', ...extensions.flatMap((e) => ['-addext', e.replace(/\s*=\s*/, '=')])], dir);
  return { name, key, cert, pem: readFileSync(cert, 'utf8') };
}

/**
 * A certificate for a new key, issued by `issuer` through `openssl ca` (which takes explicit
 * start and end dates, so an expired certificate is a real one).
 */
export function makeIssued(dir: string, name: string, curve: Curve, issuer: Issued, options: { extensions?: readonly string[]; start?: string; end?: string } = {}): Issued {
  const key = newKey(dir, name, curve);
  const csr = join(dir, `${name}.csr`);
  openssl(['req', '-new', '-key', key, '-out', csr, '-subj', `/CN=${name}`], dir);
  const db = join(dir, `${name}-ca`);
  mkdirSync(db);
  writeFileSync(join(db, 'index.txt'), '');
  writeFileSync(join(db, 'serial'), `${Date.now().toString(16).padStart(16, '0')}\n`);
  const config = join(db, 'ca.cnf');
  writeFileSync(config, ['[ca]', 'default_ca = d', '[d]', `database = ${join(db, 'index.txt')}`, `new_certs_dir = ${db}`, `serial = ${join(db, 'serial')}`, 'default_md = sha256', 'policy = p', 'unique_subject = no', '[p]', 'commonName = supplied', '[ext]', ...(options.extensions ?? CODE_SIGNING_EXTENSIONS), ''].join('\n'));
  const cert = join(dir, `${name}.pem`);
  const start = options.start ?? new Date(Date.now() - 60_000).toISOString().replace(/[-:T]/g, '').replace(/\.\d+Z$/, 'Z');
  const end = options.end ?? new Date(Date.now() + 86_400_000).toISOString().replace(/[-:T]/g, '').replace(/\.\d+Z$/, 'Z');
  openssl(['ca', '-batch', '-config', config, '-cert', issuer.cert, '-keyfile', issuer.key, '-in', csr, '-out', cert, '-startdate', start, '-enddate', end, '-extensions', 'ext', '-notext'], dir);
  return { name, key, cert, pem: readFileSync(cert, 'utf8') };
}

/** root → intermediate → leaf (code signing), each on `curve`. */
export function makeThreeLevel(dir: string, curve: Curve): { root: Issued; intermediate: Issued; leaf: Issued } {
  const root = makeSelfSigned(dir, 'root', curve);
  const intermediate = makeIssued(dir, 'intermediate', curve, root, { extensions: CA_EXTENSIONS });
  const leaf = makeIssued(dir, 'leaf', curve, intermediate);
  return { root, intermediate, leaf };
}
