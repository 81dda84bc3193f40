import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fulcioHandler, initializeCA, initializeCTLog, initializeTLog, initializeTSA, rekorHandler, tsaHandler, type HandlerFn } from '@sigstore/mock';
import { HashAlgorithm, PublicKeyDetails, TrustedRoot } from '@sigstore/protobuf-specs';

export interface SigstoreInstance {
  url: string;
  /** A trusted_root.json for this instance only (its CA, CT log, transparency log, TSA). */
  trustedRoot: object;
  /** How many requests each service answered. */
  requests: Record<string, number>;
  close(): Promise<void>;
}

const keyPair = (): { publicKey: KeyObject; privateKey: KeyObject } => generateKeyPairSync('ec', { namedCurve: 'P-256' });

/**
 * A throwaway Sigstore (Fulcio CA with CT log, Rekor, timestamp authority) from @sigstore/mock,
 * served for real over HTTP on 127.0.0.1, with a private trusted root for it.
 */
export async function startSigstoreInstance(): Promise<SigstoreInstance> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const ctLog = await initializeCTLog(keyPair());
  const ca = await initializeCA(keyPair(), ctLog);
  const tlog = await initializeTLog(url, keyPair());
  const tsa = await initializeTSA(keyPair());
  const routes = new Map<string, [string, HandlerFn]>();
  for (const [name, handler] of [
    ['fulcio', fulcioHandler(ca, { strict: true, subjectClaim: 'email' })],
    ['rekor', rekorHandler(tlog)],
    ['tsa', tsaHandler(tsa)],
  ] as const) {
    routes.set(handler.path, [name, handler.fn]);
  }
  const requests: Record<string, number> = { fulcio: 0, rekor: 0, tsa: 0 };
  server.on('request', (request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const route = request.method === 'POST' ? routes.get(request.url ?? '') : undefined;
      if (!route) {
        response.writeHead(404).end();
        return;
      }
      const [name, fn] = route;
      requests[name] = (requests[name] ?? 0) + 1;
      void fn(Buffer.concat(chunks).toString('utf8')).then(({ statusCode, response: body, contentType }) => {
        response.writeHead(statusCode, { 'Content-Type': contentType ?? 'text/plain' }).end(typeof body === 'string' ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength));
      });
    });
  });

  const start = new Date(Date.now() - 60 * 60 * 1000);
  const log = (publicKey: Buffer, logId: Buffer, baseUrl: string): object => ({
    baseUrl,
    hashAlgorithm: HashAlgorithm.SHA2_256,
    logId: { keyId: logId },
    publicKey: { rawBytes: publicKey, keyDetails: PublicKeyDetails.PKIX_ECDSA_P256_SHA_256, validFor: { start } },
  });
  const cert = (view: ArrayBufferView): { rawBytes: Buffer } => ({ rawBytes: Buffer.from(view.buffer, view.byteOffset, view.byteLength) });
  const trustedRoot = TrustedRoot.toJSON({
    mediaType: 'application/vnd.dev.sigstore.trustedroot+json;version=0.1',
    tlogs: [log(tlog.publicKey, createHash('sha256').update(tlog.publicKey).digest(), url)],
    ctlogs: [log(ctLog.publicKey, Buffer.from(ctLog.logID.buffer, ctLog.logID.byteOffset, ctLog.logID.byteLength), url)],
    certificateAuthorities: [{ subject: { organization: 'aisc-test', commonName: 'aisc-test' }, uri: url, certChain: { certificates: [cert(ca.rootCertificate)] }, validFor: { start } }],
    timestampAuthorities: [{ subject: { organization: 'aisc-test', commonName: 'aisc-test-tsa' }, uri: url, certChain: { certificates: [cert(tsa.intCertificate), cert(tsa.rootCertificate)] }, validFor: { start } }],
  } as unknown as TrustedRoot) as object;

  return { url, trustedRoot, requests, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** An unsigned OIDC token: the mock CA reads its claims without checking a signature. */
export function makeIdentityToken(claims: Record<string, string | boolean>): string {
  const part = (value: object): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  return `${part({ alg: 'none', typ: 'JWT' })}.${part({ aud: 'sigstore', iat: now, exp: now + 600, ...claims })}.`;
}
