import type { ProgressSource } from '../hashing/index.js';
import { formatBytes, formatDuration } from './format.js';

export interface ProgressLine {
  stop(): void;
}

/**
 * A progress line on stderr (bytes, rate, ETA), redrawn 5 times a second, only when stderr is a
 * terminal: pipelines and logs get no noise.
 */
export function startProgress(stream: NodeJS.WriteStream, label: string, source: ProgressSource, totalBytes: number): ProgressLine {
  if (!stream.isTTY || totalBytes === 0) return { stop: () => undefined };
  const started = performance.now();
  const draw = (): void => {
    const done = Math.min(source.bytesDone(), totalBytes);
    const seconds = (performance.now() - started) / 1000;
    const rate = seconds > 0 ? done / seconds : 0;
    const eta = rate > 0 ? (totalBytes - done) / rate : Number.POSITIVE_INFINITY;
    stream.write(`\r\x1b[2K${label} ${formatBytes(done)} / ${formatBytes(totalBytes)}  ${formatBytes(rate)}/s  ETA ${formatDuration(eta)}`);
  };
  const timer = setInterval(draw, 200);
  timer.unref();
  return {
    stop: () => {
      clearInterval(timer);
      stream.write('\r\x1b[2K');
    },
  };
}
