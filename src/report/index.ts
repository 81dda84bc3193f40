export { formatBytes, formatDuration } from './format.js';
export { startProgress, type ProgressLine } from './progress.js';
export { describeFinding, renderVerifyHuman, renderVerifyVerdict } from './verify-report.js';
export { renderNpmFindings, renderNpmLocked } from './npm-report.js';
export { PLACED_FORMATS, SCAN_FORMATS, SCAN_RENDERERS, VERIFY_FORMATS, VERIFY_RENDERERS, type RenderContext, type Rendered, type ScanFormat, type VerifyFormat } from './renderers.js';
export { placeScanFindings, placeVerifyFindings, type Located, type Location, type Placement, type Workspace } from './locate.js';
export { getRepoRoot, getScanPlacement, getVerifyPlacement, readWorkspace } from './workspace.js';
export { useColor } from './style.js';
export { renderCycloneDx, SBOM_FORMATS, SBOM_RENDERERS, toNpmPurl, type SbomFormat, type SbomSource } from './cyclonedx.js';
