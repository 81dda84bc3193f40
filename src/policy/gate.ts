import type { Change } from '../diff/types.js';
import { toFinding, type Finding } from '../findings.js';
import { parseDuration, type ValidApproval } from './approval.js';
import { matchesArtifact } from './match.js';
import type { LoadedPolicy, PolicyReviewer } from './types.js';

/**
 * A rename is reviewed at least as strictly as the removal and the addition it amounts to: a rule
 * on either covers it (so renaming out of a `name:` glob is not a way around approvals).
 */
function getClassesCovering(change: Change): Change['class'][] {
  return change.class === 'artifact-renamed' ? ['artifact-renamed', 'artifact-added', 'artifact-removed'] : [change.class];
}

/**
 * Judges every change by the base policy's approval rules: each rule that covers the change needs
 * `count` distinct reviewers from its groups with a valid approval. A reviewer counts once,
 * however many approvals or keys. Each rule a change does not meet is an APPROVALS_MISSING finding
 * on the change's artifact: `rule` the approval rule (1-based), `expected` how many from whom,
 * `actual` who approved. Pure.
 */
export function evaluateApprovals(changes: readonly Change[], basePolicy: LoadedPolicy, approvals: readonly ValidApproval[], now: Date): Finding[] {
  const findings: Finding[] = [];
  const reviewers = basePolicy.policy.reviewers ?? new Map<string, PolicyReviewer>();
  (basePolicy.policy.approvals ?? []).forEach((rule, index) => {
    const maxAge = parseDuration(rule.maxAge);
    const qualified = new Set(
      approvals
        .filter((a) => maxAge === undefined || now.getTime() - new Date(a.approvedAt).getTime() <= maxAge)
        .filter((a) => rule.require.from.includes(a.reviewer) || (reviewers.get(a.reviewer)?.groups ?? []).some((g) => rule.require.from.includes(g)))
        .map((a) => a.reviewer),
    );
    const approvedBy = [...qualified].sort();
    for (const change of changes) {
      if (!getClassesCovering(change).some((cls) => rule.on.includes(cls))) continue;
      const names = [change.artifact, change.class === 'artifact-renamed' && typeof change.from === 'string' ? change.from : undefined].filter((n): n is string => n !== undefined);
      const covered = names.length === 0 ? rule.match === undefined : names.some((name) => matchesArtifact(rule.match, { name, kind: change.kind ?? '' }));
      if (!covered || qualified.size >= rule.require.count) continue;
      const subject = change.artifact === undefined ? change.class : `${change.class} on ${change.artifact}`;
      findings.push(
        toFinding({
          code: 'APPROVALS_MISSING',
          artifact: change.artifact,
          rule: index + 1,
          message: `${subject} needs ${rule.require.count} approval${rule.require.count === 1 ? '' : 's'} from ${rule.require.from.join(' or ')} (approval rule ${index + 1}); has ${approvedBy.length}${approvedBy.length > 0 ? `: ${approvedBy.join(', ')}` : ''}`,
          expected: `${rule.require.count} from ${rule.require.from.join(', ')}`,
          actual: approvedBy.length > 0 ? approvedBy.join(', ') : 'none',
        }),
      );
    }
  });
  return findings;
}
