import type { ScanReport } from '../scan/index.js';
import { listScanFindings } from '../scan/index.js';
import type { VerifyReport } from '../verify/findings.js';
import { renderGithubAnnotations, renderScanSummary, renderVerifySummary } from './github.js';
import { placeScanFindings, placeVerifyFindings, type Placement } from './locate.js';
import { renderSarif } from './sarif.js';
import { renderScanHuman, renderScanVerdict } from './scan-report.js';
import { renderVerifyHuman, renderVerifyVerdict } from './verify-report.js';

/** What a renderer may use besides the report: where the findings point, and whether to colour. */
export interface RenderContext {
  /** The folder paths in the report are relative to (the process's working folder). */
  cwd: string;
  color: boolean;
}

export interface Rendered {
  /** The report, for stdout. */
  stdout: string;
  /** Markdown for the job summary (GITHUB_STEP_SUMMARY), when the format has one. */
  summary?: string;
}

type Renderer<R> = (report: R, context: RenderContext) => Rendered;

const placeVerify = (report: VerifyReport, context: RenderContext): Placement => placeVerifyFindings(report, context.cwd);
const placeScan = (report: ScanReport, context: RenderContext): Placement => placeScanFindings(listScanFindings(report), context.cwd);

/** Every `verify --format`: the choices are this table's keys. */
export const VERIFY_RENDERERS = {
  human: (report, { color }) => ({ stdout: renderVerifyHuman(report, color) }),
  json: (report) => ({ stdout: `${JSON.stringify({ reportVersion: 1, ...report }, null, 2)}\n` }),
  sarif: (report, context) => ({ stdout: renderSarif('verify', placeVerify(report, context)) }),
  github: (report, context) => {
    const placement = placeVerify(report, context);
    return { stdout: renderGithubAnnotations(placement, renderVerifyVerdict(report)), summary: renderVerifySummary(report, placement) };
  },
} satisfies Record<string, Renderer<VerifyReport>>;

/** Every `scan --format`. */
export const SCAN_RENDERERS = {
  human: (report, { color }) => ({ stdout: renderScanHuman(report, color) }),
  json: (report) => ({ stdout: `${JSON.stringify(report, null, 2)}\n` }),
  sarif: (report, context) => ({ stdout: renderSarif('scan', placeScan(report, context)) }),
  github: (report, context) => {
    const placement = placeScan(report, context);
    return { stdout: renderGithubAnnotations(placement, renderScanVerdict(report)), summary: renderScanSummary(report, placement) };
  },
} satisfies Record<string, Renderer<ScanReport>>;

export type VerifyFormat = keyof typeof VERIFY_RENDERERS;
export type ScanFormat = keyof typeof SCAN_RENDERERS;
export const VERIFY_FORMATS = Object.keys(VERIFY_RENDERERS) as VerifyFormat[];
export const SCAN_FORMATS = Object.keys(SCAN_RENDERERS) as ScanFormat[];
