import type { Envelope } from '@sigstore/bundle';
import { parseJsonStrict } from '../io/index.js';
import { signatureInputError } from './errors.js';

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
const STATEMENT_TYPES = ['https://in-toto.io/Statement/v1', 'https://in-toto.io/Statement/v0.1'];

export interface InTotoStatement {
  _type: string;
  subject: { name: string; digest: Record<string, string | undefined> }[];
  predicateType: string;
  predicate: unknown;
}

/** The in-toto statement inside a DSSE envelope, checked for shape before anything reads it. */
export function parseStatement(envelope: Envelope): InTotoStatement {
  if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) {
    throw signatureInputError('PAYLOAD_INVALID', `expected DSSE payload type ${IN_TOTO_PAYLOAD_TYPE}, got ${JSON.stringify(envelope.payloadType)}`);
  }
  let json: unknown;
  try {
    json = parseJsonStrict(envelope.payload.toString('utf8'), 'DSSE payload');
  } catch (error) {
    throw signatureInputError('PAYLOAD_INVALID', (error as Error).message, error);
  }
  const statement = json as Partial<InTotoStatement>;
  const subjectsOk =
    Array.isArray(statement.subject) &&
    statement.subject.every((s) => typeof s === 'object' && s !== null && typeof s.name === 'string' && typeof s.digest === 'object' && s.digest !== null && Object.values(s.digest).every((d) => typeof d === 'string'));
  if (typeof json !== 'object' || json === null || !STATEMENT_TYPES.includes(statement._type ?? '') || !subjectsOk || typeof statement.predicateType !== 'string') {
    throw signatureInputError('PAYLOAD_INVALID', 'expected an in-toto statement with _type, subject[{name, digest}] and predicateType');
  }
  return statement as InTotoStatement;
}
