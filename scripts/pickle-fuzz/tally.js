// What a fuzz run counts: CPython's outcomes, how the model agreed, and the disagreements grouped
// by kind (the two outcomes and CPython's message with its numbers and names blurred).

const bump = (map, key) => map.set(key, (map.get(key) ?? 0) + 1);

export class Tally {
  streams = 0;
  oracle = new Map();
  agreement = new Map();
  groups = new Map();
  /** Streams CPython took long over (the oracle says how long past half a second). */
  slow = [];

  add(stream, oracle, model, kind) {
    this.streams++;
    bump(this.oracle, oracle.outcome);
    bump(this.agreement, kind);
    if (oracle.seconds !== undefined && this.slow.length < 10) this.slow.push(`${oracle.seconds} s: ${Buffer.from(stream.bytes).toString('hex').slice(0, 80)}`);
    if (kind !== 'disagree') return;
    const key = groupOf(oracle, model);
    const group = this.groups.get(key) ?? { count: 0, example: stream };
    group.count++;
    this.groups.set(key, group);
  }

  get disagreements() {
    return this.agreement.get('disagree') ?? 0;
  }

  print(log) {
    log(`streams: ${this.streams}`);
    log(`CPython outcomes: ${format(this.oracle)}`);
    log(`agreement: ${format(this.agreement)}`);
    for (const slow of this.slow) log(`  slow in CPython: ${slow}`);
    const groups = [...this.groups].sort((a, b) => b[1].count - a[1].count);
    for (const [key, { count, example }] of groups.slice(0, 40)) log(`  ${count}× ${key}\n      e.g. ${example.encoding} persistent_load=${example.persistentLoad} ${Buffer.from(example.bytes).toString('hex')}`);
    if (groups.length > 40) log(`  … and ${groups.length - 40} more kinds`);
  }
}

const format = (map) => [...map].map(([key, n]) => `${key} ${n}`).join(', ');

function groupOf(oracle, model) {
  const said = oracle.outcome === 'stopped' ? `stopped (${oracle.error}: ${blur(oracle.message ?? '')})` : oracle.outcome;
  const imports = oracle.imports.length === model.imports.length ? '' : ` imports ${oracle.imports.length} vs ${model.imports.length}`;
  const modelSaid = model.outcome === 'threw' ? `threw ${blur(model.reason)}` : `${model.outcome}${model.assumed ? ' (assumed)' : ''} (${blur(model.reason)})`;
  return `CPython ${said}, model ${modelSaid}${imports}`;
}

/** A message with its numbers, quoted parts and type names blurred, so that like stops group. */
function blur(message) {
  return message
    .replace(/'[^']*'|"[^"]*"/g, "'…'")
    .replace(/0x[0-9a-f]+|\d+/gi, 'N')
    .replace(/not \w+/g, 'not T')
    .slice(0, 90);
}
