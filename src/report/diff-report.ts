import type { FileChange, LockfileDiff } from '../diff/types.js';
import { formatBytes } from './format.js';
import { escapeMarkdown, toCodeSpan } from './markdown.js';

export type DiffFormat = 'human' | 'markdown' | 'json';

export interface DiffContext {
  base: string;
  next: string;
}

/** `aisc diff` output. JSON: {reportVersion, base, new, changeDigest, changes[]}, documented in README. */
export function renderDiff(diff: LockfileDiff, format: DiffFormat, context: DiffContext): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify({ reportVersion: 1, base: context.base, new: context.next, changeDigest: diff.changeDigest, changes: diff.changes }, null, 2)}\n`;
    case 'markdown':
      return renderMarkdown(diff, context);
    case 'human':
      return renderHuman(diff, context);
    default: {
      const never: never = format;
      return never;
    }
  }
}

function renderHuman(diff: LockfileDiff, context: DiffContext): string {
  if (diff.changes.length === 0) return `no changes between ${context.base} and ${context.next}\n`;
  const lines = [`${diff.changes.length} change${diff.changes.length === 1 ? '' : 's'} from ${context.base} to ${context.next} (change digest ${diff.changeDigest}):`];
  const width = Math.max(...diff.changes.map((change) => change.class.length));
  for (const change of diff.changes) {
    lines.push(`  ${change.class.padEnd(width)} ${change.artifact ?? '(policy)'}: ${change.summary}`);
    for (const file of change.files ?? []) lines.push(`      ${sign(file.change)} ${file.path}${describeSizes(file.before?.size, file.after?.size)}${describeChunks(file)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** For a pull request comment: names, paths and summaries (which quote them) escaped or in code spans they cannot close. */
function renderMarkdown(diff: LockfileDiff, context: DiffContext): string {
  const lines = ['### aisc: artifact changes', ''];
  if (diff.changes.length === 0) return `${lines.join('\n')}No changes between ${toCodeSpan(context.base)} and ${toCodeSpan(context.next)}.\n`;
  lines.push('| change | artifact | kind | summary |', '|---|---|---|---|');
  for (const change of diff.changes) lines.push(`| ${toCodeSpan(change.class, { inTable: true })} | ${escapeMarkdown(change.artifact ?? '(policy)')} | ${escapeMarkdown(change.kind ?? '')} | ${escapeMarkdown(change.summary)} |`);
  lines.push('', '<details><summary>Details</summary>', '');
  for (const change of diff.changes) {
    lines.push(`#### ${toCodeSpan(change.class)} ${escapeMarkdown(change.artifact ?? '(policy)')}`, '');
    if (change.files) {
      for (const file of change.files) lines.push(`- ${file.change} ${toCodeSpan(file.path)}${describeSizes(file.before?.size, file.after?.size)}${file.after ? ` sha256 ${toCodeSpan(`${file.after.sha256.slice(0, 16)}…`)}` : ''}${escapeMarkdown(describeChunks(file))}`);
    } else {
      lines.push(`- ${escapeMarkdown(change.summary)}`);
    }
    lines.push('');
  }
  lines.push('</details>', '', `Change digest: ${toCodeSpan(diff.changeDigest)} (${toCodeSpan(context.base)} → ${toCodeSpan(context.next)}). Approve with \`aisc approve\`.`);
  return `${lines.join('\n')}\n`;
}

/**
 * What moved in a modified file's chunk digests when its SHA-256 did not: verify accepts bytes that
 * match the chunks, so chunks that appear or change under a known digest must be reviewed.
 */
function describeChunks(file: FileChange): string {
  const [before, after] = [file.before, file.after];
  if (file.change !== 'modified' || !before || !after || before.sha256 !== after.sha256 || before.chunks === after.chunks) return '';
  const what = before.chunks === undefined ? 'added' : after.chunks === undefined ? 'removed' : 'changed';
  return `; same SHA-256, chunk digests ${what} (verify checks the chunks: make sure they are of these bytes)`;
}

function sign(change: string): string {
  return change === 'added' ? '+' : change === 'removed' ? '-' : '~';
}

function describeSizes(before: number | undefined, after: number | undefined): string {
  if (before !== undefined && after !== undefined) return ` (${formatBytes(before)} → ${formatBytes(after)})`;
  const size = after ?? before;
  return size === undefined ? '' : ` (${formatBytes(size)})`;
}
