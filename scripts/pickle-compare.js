// When aisc's model of one load() agrees with CPython's: shared by scripts/fuzz-pickle.js and
// test/formats/pickle-differential.test.ts, so that the fuzzer and the corpus judge alike.

const sameImports = (a, b) => a.length === b.length && isPrefix(a, b);
const isPrefix = (a, b) => a.length <= b.length && a.every(([module, name], i) => b[i][0] === module && b[i][1] === name);

/**
 * How `model` (a LoadVerdict) stands to `oracle` (what scripts/pickle-oracle.py said): 'equal'
 * (same outcome, same imports); 'computed' (undecidable where CPython stops because a STACK_GLOBAL
 * operand is not a str); 'limit' (undecidable at one of aisc's limits: agrees with anything);
 * 'assumed' (the model let a value of unknown type pass a check, and CPython stopped somewhere
 * on the way to the model's imports); 'timeout' (the oracle gave up: no verdict to judge by);
 * 'disagree' otherwise.
 */
export function compareVerdicts(model, oracle) {
  if (oracle.outcome === 'timeout') return 'timeout';
  if (model.outcome === oracle.outcome && sameImports(model.imports, oracle.imports)) return 'equal';
  if (model.outcome === 'undecidable' && model.reason.startsWith('limit:')) return 'limit';
  const computed = model.outcome === 'undecidable' && model.reason.startsWith('computed:');
  if (computed && oracle.outcome === 'stopped' && oracle.message === 'STACK_GLOBAL requires str' && sameImports(model.imports, oracle.imports)) return 'computed';
  if (model.assumed && oracle.outcome === 'stopped' && isPrefix(oracle.imports, model.imports)) return 'assumed';
  return 'disagree';
}
