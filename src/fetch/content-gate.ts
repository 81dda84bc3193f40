import { AiscError } from '../errors.js';
import { ContentInspector, getDeniableFormats, judgeContent, WEIGHT_FORMATS, type Inspection } from '../formats/index.js';
import type { loadRules } from '../lock/rules.js';
import type { FileArtifact } from '../lockfile/types.js';
import { toRecorded, type ContentGate } from '../sources/index.js';

export type Rules = Awaited<ReturnType<typeof loadRules>>;

/**
 * What `aisc lock` would refuse, judged on the bytes as they land: an unsafe or undecidable
 * pickle (beyond aisc's allowlist and the policy's `allow.pickleImports` for this artifact), a
 * container that cannot be opened, a malformed weight header, a pickle under a code-free name, and
 * a weight format the policy's `denyFormats` denies. The lockfile's say (a lock with --force, a
 * Hub file whose bytes lock never read) changes nothing: there is no --force here.
 */
export function toContentGate(name: string, artifact: FileArtifact, rules: Rules): ContentGate {
  const allowed = rules ? rules.allowedImports(rules.policy, name, artifact.kind, toRecorded(artifact.source).origin) : new Set<string>();
  return (path, size, already) => {
    const inspector = new ContentInspector(size, path);
    return {
      feed: (chunk) => inspector.feed(chunk),
      verify: () => {
        const inspection = inspector.end();
        const refusals = getRefusals(name, artifact, rules, path, inspection, allowed);
        const [first, ...rest] = refusals;
        if (!first) return inspection;
        const why = [first.message, ...rest.map((r) => (r.code === first.code ? r.message : `${r.message} [${r.code}]`))].join('; ');
        const fate = already === undefined ? 'not placed' : `it was already at ${already} before this fetch (aisc removes nothing it did not write: delete it)`;
        throw new AiscError(first.code as 'PICKLE_UNSAFE', `${name}: ${path}: ${why}; ${fate}`);
      },
    };
  };
}

function getRefusals(name: string, artifact: FileArtifact, rules: Rules, path: string, inspection: Inspection, allowed: ReadonlySet<string>): { code: string; message: string }[] {
  const refusals: { code: string; message: string }[] = judgeContent(path, inspection, allowed);
  const weights = getDeniableFormats(inspection).filter((format) => WEIGHT_FORMATS.has(format as never));
  if (!rules || weights.length === 0) return refusals;
  // denyFormats as lock applies it, to this file's weight formats alone.
  const probe: FileArtifact = { ...artifact, format: { weights } };
  for (const finding of rules.evaluate(rules.policy, { lockfileVersion: 1, artifacts: new Map([[name, probe]]) })) {
    if (finding.code === 'POLICY_FORMAT') refusals.push({ code: 'POLICY_VIOLATION', message: `${finding.message} (${rules.policy.where})` });
  }
  return refusals;
}
