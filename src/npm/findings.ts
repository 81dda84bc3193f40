import { AiscError } from '../errors.js';
import type { NpmFindingCode } from '../findings.js';

/** A package that fails a check: thrown where the check stops, caught where it becomes a Finding (exit 1). */
export class NpmFinding extends AiscError<NpmFindingCode> {}
