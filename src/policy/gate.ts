import type { Change } from '../diff/types.js';
import { parseDuration, type ValidApproval } from './approval.js';
import { matchesArtifact } from './match.js';
import type { LoadedPolicy } from './types.js';

export interface GateFinding {
  code: 'APPROVALS_MISSING';
  class: Change['class'];
  artifact?: string;
  /** 1-based index of the approval rule in the base policy. */
  rule: number;
  required: number;
  from: string[];
  approvedBy: string[];
  message: string;
}

/**
 * Judges every change by the base policy's approval rules: each rule that covers the change needs
 * `count` distinct reviewers from its groups with a valid approval. A reviewer counts once,
 * however many approvals or keys. Pure.
 */
export function evaluateApprovals(changes: readonly Change[], basePolicy: LoadedPolicy, approvals: readonly ValidApproval[], now: Date): GateFinding[] {
  const findings: GateFinding[] = [];
  const reviewers = basePolicy.policy.reviewers ?? {};
  (basePolicy.policy.approvals ?? []).forEach((rule, index) => {
    const maxAge = parseDuration(rule.maxAge);
    const qualified = new Set(
      approvals
        .filter((a) => maxAge === undefined || now.getTime() - new Date(a.approvedAt).getTime() <= maxAge)
        .filter((a) => rule.require.from.includes(a.reviewer) || (reviewers[a.reviewer]?.groups ?? []).some((g) => rule.require.from.includes(g)))
        .map((a) => a.reviewer),
    );
    const approvedBy = [...qualified].sort();
    for (const change of changes) {
      if (!rule.on.includes(change.class)) continue;
      const covered = change.artifact === undefined ? rule.match === undefined : matchesArtifact(rule.match, { name: change.artifact, kind: change.kind ?? '' });
      if (!covered || qualified.size >= rule.require.count) continue;
      const subject = change.artifact === undefined ? change.class : `${change.class} on ${change.artifact}`;
      findings.push({
        code: 'APPROVALS_MISSING',
        class: change.class,
        artifact: change.artifact,
        rule: index + 1,
        required: rule.require.count,
        from: rule.require.from,
        approvedBy,
        message: `${subject} needs ${rule.require.count} approval${rule.require.count === 1 ? '' : 's'} from ${rule.require.from.join(' or ')} (approval rule ${index + 1}); has ${approvedBy.length}${approvedBy.length > 0 ? `: ${approvedBy.join(', ')}` : ''}`,
      });
    }
  });
  return findings;
}
