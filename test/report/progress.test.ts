import { describe, expect, it, vi } from 'vitest';
import { startProgress } from '../../src/report/progress.js';

function fakeStream(isTTY: boolean): NodeJS.WriteStream & { text: string } {
  const stream = { isTTY, text: '', write: (chunk: string) => ((stream.text += chunk), true) };
  return stream as unknown as NodeJS.WriteStream & { text: string };
}

describe('startProgress', () => {
  it('draws bytes, rate and ETA on a terminal, and clears the line when stopped', () => {
    vi.useFakeTimers();
    try {
      const stream = fakeStream(true);
      let done = 0;
      const line = startProgress(stream, 'hashing', { bytesDone: () => done }, 4 * 1024 ** 3);
      done = 1024 ** 3;
      vi.advanceTimersByTime(1000);
      expect(stream.text).toMatch(/hashing 1\.0 GiB \/ 4\.0 GiB .*\/s {2}ETA \d+/);
      line.stop();
      expect(stream.text.endsWith('\r\x1b[2K')).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });

  it('writes nothing when stderr is not a terminal', () => {
    vi.useFakeTimers();
    try {
      const stream = fakeStream(false);
      const line = startProgress(stream, 'hashing', { bytesDone: () => 5 }, 10);
      vi.advanceTimersByTime(1000);
      line.stop();
      expect(stream.text).toBe('');
    } finally {
      vi.useRealTimers();
    }
  });
});
