import { existsSync } from 'node:fs';
import type { LoadedPolicy } from '../policy/types.js';

/**
 * The policy a lock must meet, when there is one, with the functions that judge against it. Its
 * own module: `lock package-lock.json` needs it without the file sources, archives and hashing.
 */
export async function loadRules(options: { policy?: string; policyRequired?: boolean }): Promise<
  | {
      policy: LoadedPolicy;
      evaluate: typeof import('../policy/evaluate.js').evaluateRules;
      allowedImports: typeof import('../policy/evaluate.js').getAllowedImports;
      sourceRefusal: typeof import('../policy/evaluate.js').getSourceRefusal;
      requiredSigners: typeof import('../policy/evaluate.js').getRequiredSigners;
    }
  | undefined
> {
  const path = options.policy ?? 'aisc.policy.yaml';
  // No policy file, nothing to load: the YAML and policy modules stay out of plain locks.
  if (!options.policyRequired && !existsSync(path)) return undefined;
  const { loadOptionalPolicy } = await import('../policy/change-set.js');
  const { loadPolicy } = await import('../policy/read.js');
  const policy = options.policyRequired ? await loadPolicy(path) : await loadOptionalPolicy(path);
  if (!policy) return undefined;
  const { evaluateRules, getAllowedImports, getRequiredSigners, getSourceRefusal } = await import('../policy/evaluate.js');
  return { policy, evaluate: evaluateRules, allowedImports: getAllowedImports, sourceRefusal: getSourceRefusal, requiredSigners: getRequiredSigners };
}
