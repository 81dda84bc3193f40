/**
 * What the unpickler model keeps of each object on CPython's stack and in its memo: its type, and
 * of that only what decides whether a later opcode raises (a list's length for SETITEM, a tuple's
 * hashability for a dict key, a str's value for STACK_GLOBAL). Mutable objects are shared by
 * reference, as the memo shares them in CPython.
 */
export type Value =
  | { k: 'none' | 'float' | 'bytes' | 'set' | 'frozenset' | 'memoryview' }
  /** int and bool; `n` is exact while it is a safe integer. */
  | { k: 'int'; n: number }
  /** `s` is undefined when the value is not kept (too long, or it depends on the loader's encoding). */
  | { k: 'str'; s: string | undefined }
  | { k: 'bytearray'; len: number }
  | { k: 'tuple'; items: Value[]; hashable: boolean }
  | { k: 'list'; len: number }
  | { k: 'dict'; empty: boolean }
  /**
   * What find_class returned (`global`) or a call, persistent load or instantiation made
   * (`object`): aisc cannot know its type. CPython's stand-ins in the differential test are a
   * class, and a hashable, callable tuple subclass with append/extend/add/__setitem__/__setstate__.
   */
  | { k: 'global' | 'object' };

export const NONE: Value = { k: 'none' };
export const FLOAT: Value = { k: 'float' };
export const BYTES: Value = { k: 'bytes' };
export const FROZENSET: Value = { k: 'frozenset' };
export const MEMORYVIEW: Value = { k: 'memoryview' };
export const GLOBAL: Value = { k: 'global' };
export const OBJECT: Value = { k: 'object' };

export function isOpaque(v: Value): v is { k: 'global' | 'object' } {
  return v.k === 'global' || v.k === 'object';
}

/** Whether hash(v) succeeds: lists, dicts, sets and bytearrays raise, a tuple raises when an item does. */
export function isHashable(v: Value): boolean {
  switch (v.k) {
    case 'list':
    case 'dict':
    case 'set':
    case 'bytearray':
      return false;
    case 'tuple':
      return v.hashable;
    default:
      return true;
  }
}

export function toTuple(items: readonly Value[]): Value {
  return { k: 'tuple', items: [...items], hashable: items.every(isHashable) };
}

export function toInt(n: number): Value {
  return { k: 'int', n };
}

/** Whether v is an int (or bool) in 0..255, as bytearray accepts an item. */
export function isByte(v: Value): boolean {
  return v.k === 'int' && Number.isInteger(v.n) && v.n >= 0 && v.n <= 255;
}
