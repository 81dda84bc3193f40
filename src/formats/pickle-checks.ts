import { isByte, isHashable, isOpaque, type Value } from './pickle-values.js';

/**
 * Where CPython's load() raises (a stop) or where aisc cannot follow (undecidable), thrown from an
 * opcode. Nearly every byte stream that is no pickle ends in one at once, so one instance is
 * reused and records no stack: the machine copies its fields where it catches it.
 */
export class Halt extends Error {
  outcome: 'stopped' | 'undecidable' = 'stopped';
  reason = '';
}

const HALT = ((): Halt => {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  const halt = new Halt();
  Error.stackTraceLimit = limit;
  return halt;
})();

export const stop = (reason: string): never => {
  HALT.outcome = 'stopped';
  HALT.reason = reason;
  throw HALT;
};

export const undecidable = (reason: string): never => {
  HALT.outcome = 'undecidable';
  HALT.reason = reason;
  throw HALT;
};

/*
 * The type checks CPython makes where an opcode calls into an object. Each stops where CPython
 * raises and returns whether it took the branch on which CPython goes on for a value of unknown
 * type (a call's result) that the differential test's stand-ins would refuse: `assumed`.
 */

/** READONLY_BUFFER: memoryview(top) needs the buffer protocol. */
export function checkBuffer(value: Value): boolean {
  if (isOpaque(value)) return true;
  if (value.k !== 'bytes' && value.k !== 'memoryview') stop('a bytes-like object is required');
  return false;
}

/** do_append: an exact list extends; anything else needs extend() or append(). */
export function checkAppend(target: Value, items: Value[]): boolean {
  if (target.k === 'list') {
    target.len += items.length;
    return false;
  }
  if (target.k === 'bytearray') {
    if (items.some(isOpaque)) return true;
    if (!items.every(isByte)) stop('an integer in range(0, 256) is required');
    target.len += items.length;
    return false;
  }
  if (!isOpaque(target)) stop(`'${target.k}' object has no attribute 'append'`);
  return false;
}

/** do_setitems' PyObject_SetItem for one pair. */
export function checkSetItem(target: Value, key: Value, value: Value): boolean {
  switch (target.k) {
    case 'dict':
      if (!isHashable(key)) stop('unhashable type');
      target.empty = false;
      return false;
    case 'list':
    case 'bytearray': {
      if (isOpaque(key) || (target.k === 'bytearray' && isOpaque(value))) return true;
      const index = key.k === 'int' ? key.n : Number.NaN;
      if (!(Number.isInteger(index) && index >= -target.len && index < target.len)) stop('list assignment index out of range');
      if (target.k === 'bytearray' && !isByte(value)) stop('byte must be in range(0, 256)');
      return false;
    }
    case 'global':
    case 'object':
      return false;
    default:
      return stop(`'${target.k}' object does not support item assignment`);
  }
}

/** ADDITEMS: a set takes hashable items; anything else needs add(). */
export function checkAddItems(target: Value, items: Value[]): void {
  if (target.k === 'set') {
    if (!items.every(isHashable)) stop('unhashable type');
  } else if (!isOpaque(target)) stop(`'${target.k}' object has no attribute 'add'`);
}

/** load_build: __setstate__ where the object has one; built-in objects have neither it nor a __dict__, so only None or (None, {}) passes. */
export function checkBuild(inst: Value, state: Value): boolean {
  if (isOpaque(inst)) return false; // a stand-in's __setstate__ takes anything
  if (isOpaque(state)) return true;
  if (state.k === 'none') return false;
  if (state.k !== 'tuple' || state.items.length !== 2) return stop(state.k === 'dict' ? `'${inst.k}' object has no attribute '__dict__'` : 'state is not a dictionary');
  const [own, slots] = state.items as [Value, Value];
  if (isOpaque(own) || isOpaque(slots)) return true;
  if (own.k !== 'none') stop(own.k === 'dict' ? `'${inst.k}' object has no attribute '__dict__'` : 'state is not a dictionary');
  // 3.11 takes a slot state of None as one that is not a dict.
  if (slots.k === 'dict' && slots.empty) return false;
  return stop(slots.k === 'dict' ? `'${inst.k}' object has no attribute to set` : 'slot state is not a dictionary');
}

/** REDUCE: PyObject_CallObject(callable, args) wants a callable and a tuple. */
export function checkCall(callable: Value, args: Value): boolean {
  checkCallable(callable);
  if (args.k === 'global') return true;
  if (args.k !== 'tuple' && args.k !== 'object') stop('argument list must be a tuple');
  return false;
}

/** instantiate(cls, args) for OBJ and INST: cls(*args) (or cls.__new__(cls)). */
export function checkCallable(value: Value): void {
  if (!isOpaque(value)) stop(`'${value.k}' object is not callable`);
}

/** load_newobj: a type, a tuple of arguments and (NEWOBJ_EX) a dict of keywords. */
export function checkNewObj(cls: Value, args: Value, kwargs: Value | undefined): boolean {
  let assumed = false;
  if (cls.k === 'object') assumed = true;
  else if (cls.k !== 'global') stop('NEWOBJ class argument must be a type');
  if (args.k === 'global') assumed = true;
  else if (args.k !== 'tuple' && args.k !== 'object') stop('NEWOBJ args argument must be a tuple');
  if (!kwargs) return assumed;
  // A class's __new__ decides what it does with keyword names that are not str: only known at load time.
  if (isOpaque(kwargs) || (kwargs.k === 'dict' && !kwargs.empty)) return true;
  if (kwargs.k !== 'dict') stop('NEWOBJ_EX kwargs argument must be a dict');
  return assumed;
}
