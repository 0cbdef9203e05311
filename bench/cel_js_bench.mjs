// Evaluates a rule set's definitions and conditions with @marcbachmann/cel-js
// on every example, the work BM_Conditions gives the engine, and checks that
// both find the same rules met. Also times conditions plus rationale (each
// met rule's reason rendered from its template), the CEL part of a decision.
//
//   node bench/cel_js_bench.mjs EXPORT.json CEL_JS_DIR [--min_time=SECONDS]
//       [--json=OUT.json]
//
// EXPORT.json comes from reconnect_cel_js_export; CEL_JS_DIR is the
// installed package (bench/engine_bench.sh installs it into the build tree).
//
// Kept as close to the engine's work as cel-js allows:
//   - params and enum constants become literals in the text, as the engine
//     folds them at load;
//   - each expression is parsed once, before timing;
//   - definitions are computed when first read and at most once per
//     evaluation, as the engine's are: `defs` is a type registered with
//     cel-js whose fields are memoising getters.

import {readFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {pathToFileURL} from 'node:url';

function fail(message) {
  console.error(`cel_js_bench: ${message}`);
  process.exit(1);
}

const args = process.argv.slice(2);
const positional = args.filter((a) => !a.startsWith('--'));
if (positional.length !== 2) {
  fail('usage: cel_js_bench.mjs EXPORT.json CEL_JS_DIR [--min_time=S] [--json=F]');
}
const option = (name, fallback) => {
  const a = args.find((x) => x.startsWith(`--${name}=`));
  return a === undefined ? fallback : a.slice(name.length + 3);
};
const minTime = Number(option('min_time', '0.5'));
const jsonOut = option('json', '');

const [exportPath, celJsDir] = positional;
const pkg = JSON.parse(readFileSync(join(celJsDir, 'package.json'), 'utf8'));
const {Environment} =
    await import(pathToFileURL(join(celJsDir, 'lib', 'index.js')).href);
const data = JSON.parse(readFileSync(exportPath, 'utf8'));

// Constants as literals. An int param is a CEL int literal; a double one
// keeps a decimal point so that it stays a double.
function literal(param) {
  if (param.type === 'double') {
    const s = String(param.value);
    return /[.eE]/.test(s) ? s : `${s}.0`;
  }
  if (param.type === 'int') return String(param.value);
  if (param.type === 'string') return JSON.stringify(param.value);
  if (param.type === 'bool') return String(param.value);
  fail(`param type ${param.type} is not supported`);
}

function substitute(text, where) {
  return text
      .replace(/\bparams\.([A-Za-z_][A-Za-z0-9_]*)/g, (m, name) => {
        const p = data.params[name];
        if (p === undefined) fail(`${where}: unknown param ${name}`);
        return literal(p);
      })
      .replace(/\b([A-Z][A-Za-z0-9]*(?:\.[A-Z][A-Za-z0-9]*)*)\.([A-Z][A-Z0-9_]*)\b/g,
               (m) => (m in data.enums ? String(data.enums[m]) : m));
}

// Facts as cel-js values: marked ints become BigInts (CEL ints), numbers
// stay doubles.
function toCel(v) {
  if (Array.isArray(v)) return v.map(toCel);
  if (v !== null && typeof v === 'object') {
    if ('$int' in v) return BigInt(v.$int);
    const out = {};
    for (const [k, x] of Object.entries(v)) out[k] = toCel(x);
    return out;
  }
  return v;
}

// `defs`: one memoising getter per definition, on a type cel-js knows.
class Defs {
  constructor(context) {
    this.context = context;
    this.values = new Array(data.defs.length);
  }
}
const defFields = {};
const defPrograms = [];
data.defs.forEach((d, i) => {
  defFields[d.name] = 'bool';
  Object.defineProperty(Defs.prototype, d.name, {
    get() {
      let v = this.values[i];
      if (v === undefined) v = this.values[i] = defPrograms[i](this.context);
      return v;
    },
  });
});
const env = new Environment({unlistedVariablesAreDyn: true})
                .registerType('Defs', {ctor: Defs, fields: defFields})
                .registerVariable('defs', 'Defs');

function compile(text, where) {
  try {
    return env.parse(substitute(text, where));
  } catch (e) {
    fail(`${where}: ${e.message}`);
  }
}
for (const d of data.defs) defPrograms.push(compile(d.expr, `def ${d.name}`));
const rules = data.rules.map((r) => ({
  id: r.id,
  when: compile(r.when, `rule ${r.id}`),
  // Literal text and compiled {{ expressions }}, alternately.
  rationale: r.rationale.split(/\{\{(.*?)\}\}/s).map(
      (part, i) => i % 2 === 0 ? part : compile(part, `rationale of ${r.id}`)),
}));

function conditions(assessment, met) {
  const context = {assessment, defs: null};
  context.defs = new Defs(context);
  for (let i = 0; i < rules.length; ++i) {
    let v;
    try {
      v = rules[i].when(context);
    } catch (e) {
      v = false;  // an error does not fire, as in the engine
    }
    met[i] = v === true;
  }
  return context;
}

function render(value) {
  if (typeof value === 'bigint' || typeof value === 'number') {
    return String(value);
  }
  if (typeof value === 'string') return value;
  return JSON.stringify(value, (k, v) => typeof v === 'bigint' ? String(v) : v);
}

function conditionsAndRationale(assessment, met, reasons) {
  const context = conditions(assessment, met);
  let n = 0;
  for (let i = 0; i < rules.length; ++i) {
    if (!met[i]) continue;
    let text = '';
    for (const part of rules[i].rationale) {
      if (typeof part === 'string') {
        text += part;
      } else {
        try {
          text += render(part(context));
        } catch (e) {
          text += '(not available)';
        }
      }
    }
    reasons[n++] = text;
  }
  return n;
}

// Nanoseconds per call of `fn`, from batches run until `minTime` has passed
// (after a warm-up of the same length, for the JIT).
function time(fn) {
  const run = (seconds) => {
    let calls = 0;
    let batch = 64;
    const start = process.hrtime.bigint();
    const until = start + BigInt(Math.round(seconds * 1e9));
    let now = start;
    while (now < until) {
      for (let i = 0; i < batch; ++i) fn();
      calls += batch;
      batch = Math.min(batch * 2, 4096);
      now = process.hrtime.bigint();
    }
    return Number(now - start) / calls;
  };
  run(minTime);
  return run(minTime);
}

const expressions = data.defs.length + data.rules.length;
const results = [];
let mismatches = 0;
for (const example of data.examples) {
  const assessment = toCel(example.facts);
  const met = new Array(rules.length).fill(false);
  const reasons = new Array(rules.length);
  conditions(assessment, met);
  const ours = rules.filter((r, i) => met[i]).map((r) => r.id).sort();
  const theirs = [...example.met].sort();
  if (JSON.stringify(ours) !== JSON.stringify(theirs)) {
    ++mismatches;
    console.error(`cel_js_bench: ${example.name}: cel-js met [${ours}] but ` +
                  `the engine met [${theirs}]`);
  }
  const conditionsNs = time(() => conditions(assessment, met));
  const withRationaleNs =
      time(() => conditionsAndRationale(assessment, met, reasons));
  results.push({
    example: example.name,
    rules_met: ours.length,
    conditions_ns: conditionsNs,
    conditions_and_rationale_ns: withRationaleNs,
    ns_per_expression: conditionsNs / expressions,
  });
}

console.log(`${pkg.name} ${pkg.version} on ${data.rule_set}: ` +
            `${data.defs.length} defs, ${data.rules.length} conditions`);
for (const r of results) {
  console.log(`  ${r.example.padEnd(44)} ${(r.conditions_ns / 1000).toFixed(2)}` +
              ` us conditions, ${(r.conditions_and_rationale_ns / 1000).toFixed(2)}` +
              ` us with rationale, ${r.ns_per_expression.toFixed(0)} ns/expression` +
              `, ${r.rules_met} met`);
}
if (jsonOut !== '') {
  writeFileSync(jsonOut, JSON.stringify({
    implementation: `${pkg.name} ${pkg.version}`,
    rule_set: data.rule_set,
    expressions,
    results,
  }, null, 1));
}
if (mismatches > 0) fail(`${mismatches} example(s) met different rules`);
