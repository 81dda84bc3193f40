export { formatBytes, formatDuration } from './format.js';
export { startProgress, type ProgressLine } from './progress.js';
export { describeFinding, renderVerifyReport, VERIFY_FORMATS, type VerifyFormat } from './verify-report.js';
export { renderNpmFindings, renderNpmLocked } from './npm-report.js';
