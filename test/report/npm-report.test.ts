import { describe, expect, it } from 'vitest';
import { toFinding, type Finding } from '../../src/findings.js';
import { renderNpmFindings } from '../../src/report/npm-report.js';

describe('renderNpmFindings', () => {
  // Before: one line per package, 252 near-identical lines for a registry that signs nothing.
  it('groups packages that failed the same way, and keeps distinct failures apart', () => {
    const unsigned = (name: string, version: string): Finding => toFinding({ code: 'NPM_UNSIGNED', artifact: `npm:${name}@${version}`, message: `${name}@${version}: https://mirror.example/ serves no registry signature for ${name}-${version}.tgz` });
    const findings = [
      ...Array.from({ length: 252 }, (_, i) => unsigned(`pkg-${i}`, `1.${i}.0`)),
      unsigned('@scope/x', '2.0.0'),
      toFinding({ code: 'NPM_INTEGRITY_MISMATCH', artifact: 'npm:evil@1.0.0', message: 'evil@1.0.0: package-lock.json pins sha512-a but the registry publishes sha512-b' }),
    ];
    const lines = renderNpmFindings('package-lock.json', findings).trimEnd().split('\n');
    expect(lines).toEqual([
      'FAIL npm:pkg-0@1.0.0: NPM_UNSIGNED: pkg-0@1.0.0: https://mirror.example/ serves no registry signature for pkg-0-1.0.0.tgz',
      '     and the same for 252 more: pkg-1@1.1.0, pkg-2@1.2.0, pkg-3@1.3.0, pkg-4@1.4.0, pkg-5@1.5.0 and 247 more',
      'FAIL npm:evil@1.0.0: NPM_INTEGRITY_MISMATCH: evil@1.0.0: package-lock.json pins sha512-a but the registry publishes sha512-b',
      'FAILED: 254 findings in package-lock.json; nothing was written',
    ]);
  });
});
