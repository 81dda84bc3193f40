import { createHash } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { FINDING_CODES, FINDING_INFO, type Finding, type Severity } from '../findings.js';
import { VERSION } from '../version.js';
import type { Placement } from './locate.js';

/** GitHub's security-severity bands: critical ≥ 9.0, high ≥ 7.0, medium ≥ 4.0, low below. */
const SECURITY_SEVERITY: Record<Severity, string> = { critical: '9.5', high: '8.0', medium: '5.5', low: '3.0' };
const SRCROOT = '%SRCROOT%';

/**
 * A SARIF 2.1.0 log of one run: one rule per finding code (descriptions and help from the
 * finding table), one result per finding pointing into the repository, with a fingerprint that
 * stays the same from run to run (code, artifact, path, rule) so code scanning tracks alerts.
 */
export function renderSarif(command: 'verify' | 'scan', placement: Placement): string {
  const ruleIndex = new Map(FINDING_CODES.map((code, index) => [code, index]));
  const log = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'aisc',
            semanticVersion: VERSION,
            version: VERSION,
            rules: FINDING_CODES.map((code) => toRule(code)),
          },
        },
        automationDetails: { id: `aisc/${command}/` },
        originalUriBaseIds: { [SRCROOT]: { uri: toFolderUri(placement.repoRoot) } },
        results: placement.located.map(({ finding, location }) => ({
          ruleId: finding.code,
          ruleIndex: ruleIndex.get(finding.code) ?? 0,
          level: 'error',
          message: { text: describe(finding) },
          ...(location ? { locations: [{ physicalLocation: { artifactLocation: { uri: encodeUri(location.file), uriBaseId: SRCROOT }, region: { startLine: location.line } } }] } : {}),
          partialFingerprints: { 'aiscFinding/v1': getFingerprint(finding) },
          properties: { severity: finding.severity, ...(finding.artifact !== undefined ? { artifact: finding.artifact } : {}), ...(finding.path !== undefined ? { path: finding.path } : {}), ...(finding.rule !== undefined ? { policyRule: finding.rule } : {}) },
        })),
      },
    ],
  };
  return `${JSON.stringify(log, null, 2)}\n`;
}

function toRule(code: (typeof FINDING_CODES)[number]): object {
  const info = FINDING_INFO[code];
  return {
    id: code,
    name: toPascalCase(code),
    shortDescription: { text: info.title },
    fullDescription: { text: info.description },
    help: { text: info.help, markdown: `**${info.title}.** ${info.description}\n\n${info.help}` },
    defaultConfiguration: { level: 'error' },
    properties: { tags: ['security', 'supply-chain'], precision: 'very-high', 'security-severity': SECURITY_SEVERITY[info.severity], problem: { severity: 'error' } },
  };
}

/** What a reader of the alert needs in one line: which artifact and file, what, and the values. */
export function describe(finding: Finding): string {
  const where = [finding.artifact, finding.path].filter((part) => part !== undefined).join(': ');
  const values = finding.expected !== undefined && finding.actual !== undefined ? ` (expected ${String(finding.expected)}, got ${String(finding.actual)})` : '';
  const rule = finding.rule !== undefined ? ` [policy rule ${finding.rule}]` : '';
  return `${where ? `${where}: ` : ''}${finding.message}${values}${rule}`;
}

export function getFingerprint(finding: Finding): string {
  return createHash('sha256')
    .update([finding.code, finding.artifact ?? '', finding.path ?? '', String(finding.rule ?? '')].join('\0'))
    .digest('hex')
    .slice(0, 32);
}

function toPascalCase(code: string): string {
  return code
    .toLowerCase()
    .split('_')
    .map((word) => (word[0] ?? '').toUpperCase() + word.slice(1))
    .join('');
}

function toFolderUri(path: string): string {
  const uri = pathToFileURL(path).href;
  return uri.endsWith('/') ? uri : `${uri}/`;
}

/** A relative URI reference: each path segment percent-encoded (spaces, #, ? and non-ASCII). */
function encodeUri(path: string): string {
  return path.split('/').map(encodeURIComponent).join('/');
}
