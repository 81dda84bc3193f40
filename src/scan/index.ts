export { listScanFindings, scanPaths, type ScannedFile, type ScanOptions, type ScanReport } from './scan-paths.js';
