import { AiscError } from '../errors.js';
import type { ScanReport } from '../scan/index.js';
import type { VerifyReport } from '../verify/findings.js';
import { renderGithubAnnotations, renderScanSummary, renderVerifySummary } from './github.js';
import type { Placement } from './locate.js';
import { renderSarif } from './sarif.js';
import { renderScanHuman, renderScanVerdict } from './scan-report.js';
import { renderVerifyHuman, renderVerifyVerdict } from './verify-report.js';

/** What a renderer may use besides the report. Renderers read no file and run nothing: all is here. */
export interface RenderContext {
  color: boolean;
  /** Where each finding points, decided once before rendering: given for the formats in PLACED_FORMATS. */
  placement?: Placement;
}

export interface Rendered {
  /** The report, for stdout. */
  stdout: string;
  /** Markdown for the job summary (GITHUB_STEP_SUMMARY), when the format has one. */
  summary?: string;
}

type Renderer<R> = (report: R, context: RenderContext) => Rendered;

/** The formats that point into the repository: their renderers need a placement. */
export const PLACED_FORMATS: ReadonlySet<string> = new Set(['sarif', 'github']);

function getPlacement(context: RenderContext): Placement {
  if (!context.placement) throw new AiscError('INTERNAL', 'a format that points into the repository was rendered without a placement');
  return context.placement;
}

/** Every `verify --format`: the choices are this table's keys. */
export const VERIFY_RENDERERS = {
  human: (report, { color }) => ({ stdout: renderVerifyHuman(report, color) }),
  json: (report) => ({ stdout: `${JSON.stringify({ reportVersion: 1, ...report }, null, 2)}\n` }),
  sarif: (_report, context) => ({ stdout: renderSarif('verify', getPlacement(context)) }),
  github: (report, context) => {
    const placement = getPlacement(context);
    return { stdout: renderGithubAnnotations(placement, renderVerifyVerdict(report)), summary: renderVerifySummary(report, placement) };
  },
} satisfies Record<string, Renderer<VerifyReport>>;

/** Every `scan --format`. */
export const SCAN_RENDERERS = {
  human: (report, { color }) => ({ stdout: renderScanHuman(report, color) }),
  json: (report) => ({ stdout: `${JSON.stringify(report, null, 2)}\n` }),
  sarif: (_report, context) => ({ stdout: renderSarif('scan', getPlacement(context)) }),
  github: (report, context) => {
    const placement = getPlacement(context);
    return { stdout: renderGithubAnnotations(placement, renderScanVerdict(report)), summary: renderScanSummary(report, placement) };
  },
} satisfies Record<string, Renderer<ScanReport>>;

export type VerifyFormat = keyof typeof VERIFY_RENDERERS;
export type ScanFormat = keyof typeof SCAN_RENDERERS;
export const VERIFY_FORMATS = Object.keys(VERIFY_RENDERERS) as VerifyFormat[];
export const SCAN_FORMATS = Object.keys(SCAN_RENDERERS) as ScanFormat[];
