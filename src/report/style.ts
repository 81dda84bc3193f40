/** Colour for the human reports: only on a terminal, never with NO_COLOR (no-color.org) or TERM=dumb. */
export function useColor(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && !env.NO_COLOR && env.TERM !== 'dumb';
}

export interface Paint {
  ok(text: string): string;
  fail(text: string): string;
  dim(text: string): string;
}

const plain = (text: string): string => text;
const sgr = (open: number, close: number) => (text: string) => `\x1b[${open}m${text}\x1b[${close}m`;

export function getPaint(color: boolean): Paint {
  return color ? { ok: sgr(32, 39), fail: sgr(31, 39), dim: sgr(2, 22) } : { ok: plain, fail: plain, dim: plain };
}
