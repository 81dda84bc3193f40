import type { LoadVerdict } from '../src/formats/pickle-scan.js';

/** What scripts/pickle-oracle.py says one `Unpickler(file, encoding=…).load()` did under CPython. */
export interface OracleVerdict {
  imports: [module: string, name: string][];
  outcome: 'unsafe' | 'ok' | 'stopped' | 'timeout';
  /** The exception's type and message, when stopped. */
  error?: string;
  message?: string;
}

export type Agreement = 'equal' | 'computed' | 'limit' | 'assumed' | 'timeout' | 'disagree';

export function compareVerdicts(model: LoadVerdict, oracle: OracleVerdict): Agreement;
