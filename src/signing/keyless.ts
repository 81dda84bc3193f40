import { open } from 'node:fs/promises';
import { bundleToJSON } from '@sigstore/bundle';
import { CIContextProvider, DSSEBundleBuilder, FulcioSigner, MessageSignatureBundleBuilder, RekorWitness, TSAWitness, type IdentityProvider, type Witness } from '@sigstore/sign';
import { AiscError } from '../errors.js';
import { IN_TOTO_PAYLOAD_TYPE } from './statement.js';

export const PUBLIC_GOOD_FULCIO = 'https://fulcio.sigstore.dev';
export const PUBLIC_GOOD_REKOR = 'https://rekor.sigstore.dev';
const MAX_MESSAGE_BYTES = 256 * 1024 * 1024;

export interface KeylessOptions {
  fulcioUrl?: string;
  rekorUrl?: string;
  /** Also get an RFC 3161 timestamp from this timestamp authority. */
  tsaUrl?: string;
  /** An OIDC identity token; default: ambient (SIGSTORE_ID_TOKEN, GitHub Actions, Buildkite). */
  identityToken?: string;
  timeoutMs?: number;
}

/**
 * Keyless signing through Sigstore: an ephemeral key, a Fulcio certificate for the ambient OIDC
 * identity, a Rekor entry (and a TSA timestamp when asked). Defaults to the public-good instance.
 */
async function toBuilderOptions(options: KeylessOptions): Promise<{ signer: FulcioSigner; witnesses: Witness[] }> {
  const fetch = { timeout: options.timeoutMs ?? 30_000, retry: { retries: 2 } };
  // Fetched first, so a missing token is a clear usage error rather than a wrapped failure.
  const token = options.identityToken ?? (await getAmbientToken());
  const identityProvider: IdentityProvider = { getToken: () => Promise.resolve(token) };
  const witnesses: Witness[] = [new RekorWitness({ rekorBaseURL: options.rekorUrl ?? PUBLIC_GOOD_REKOR, entryType: 'intoto', ...fetch })];
  if (options.tsaUrl) witnesses.push(new TSAWitness({ tsaBaseURL: options.tsaUrl, ...fetch }));
  return { signer: new FulcioSigner({ fulcioBaseURL: options.fulcioUrl ?? PUBLIC_GOOD_FULCIO, identityProvider, ...fetch }), witnesses };
}

async function getAmbientToken(): Promise<string> {
  try {
    return await new CIContextProvider('sigstore').getToken();
  } catch (error) {
    throw new AiscError('USAGE', '--keyless: no OIDC identity token (set SIGSTORE_ID_TOKEN, or run in GitHub Actions with id-token: write)', { cause: error });
  }
}

export async function signPayloadKeyless(payload: Buffer, options: KeylessOptions): Promise<object> {
  const builder = new DSSEBundleBuilder(await toBuilderOptions(options));
  const bundle = await run(() => builder.create({ data: payload, type: IN_TOTO_PAYLOAD_TYPE }));
  return bundleToJSON(bundle);
}

/** A message signature over a file; Sigstore's signer takes the bytes whole, so files are capped at 256 MiB. */
export async function signFileKeyless(path: string, options: KeylessOptions): Promise<object> {
  const data = await readCapped(path);
  const builder = new MessageSignatureBundleBuilder(await toBuilderOptions(options));
  const bundle = await run(() => builder.create({ data }));
  return bundleToJSON(bundle);
}

async function readCapped(path: string): Promise<Buffer> {
  const handle = await open(path, 'r').catch((error: unknown) => {
    throw new AiscError('SOURCE_NOT_FOUND', `${path}: cannot open (${(error as Error).message})`, { cause: error });
  });
  try {
    const { size } = await handle.stat();
    if (size > MAX_MESSAGE_BYTES) throw new AiscError('USAGE', `${path}: keyless signing takes a file whole; over ${MAX_MESSAGE_BYTES} bytes, sign its folder (OpenSSF Model Signing) instead`);
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

async function run<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof AiscError) throw error;
    const cause = (error as { cause?: unknown }).cause;
    const detail = `${error instanceof Error ? error.message : String(error)}${cause instanceof Error ? ` (${cause.message})` : ''}`;
    // sigstore-js puts the identity token in some messages: a credential never reaches a log.
    throw new AiscError('SIGNING_FAILED', `keyless signing failed: ${redactTokens(detail)}`);
  }
}

/** JWTs (three base64url parts, the first a JSON header) are replaced wherever they appear. */
export function redactTokens(text: string): string {
  return text.replace(/eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*/g, '[identity token redacted]');
}
