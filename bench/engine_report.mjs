// Prints the engine's figures beside the performance targets, from runs of
// reconnect_bench (its JSON output) and of cel_js_bench.mjs (its --json):
//
//   node bench/engine_report.mjs ENGINE.json[,ENGINE.json...] \
//       CEL_JS.json[,CEL_JS.json...] [EXAMPLE]
//
// With several runs of each (alternated, as bench/engine_bench.sh runs
// them), each figure is the best of its runs: on a shared machine, noise
// only ever slows a run down. EXAMPLE (default: the catastrophising one) is
// the example the single figures are read from; the conditions are compared
// on every example.

import {readFileSync} from 'node:fs';

const [enginePaths, celJsPaths, example =
           'catastrophising-performance-beliefs.json'] = process.argv.slice(2);
const read = (p) => JSON.parse(readFileSync(p, 'utf8'));
const engineRuns = enginePaths.split(',').map(read);
const celJsRuns = celJsPaths.split(',').map(read);

// The best (least) of the runs' values, each given by `get` (undefined
// where a run lacks it).
function best(runs, get) {
  const values = runs.map(get).filter((v) => v !== undefined && !Number.isNaN(v));
  return values.length === 0 ? undefined : Math.min(...values);
}

// cel-js's figures per example, the best of its runs.
const celJs = {
  implementation: celJsRuns[0].implementation,
  expressions: celJsRuns[0].expressions,
  results: celJsRuns[0].results.map((r) => {
    const of = (key) => best(celJsRuns, (run) =>
        run.results.find((x) => x.example === r.example)?.[key]);
    return {
      example: r.example,
      conditions_ns: of('conditions_ns'),
      conditions_and_rationale_ns: of('conditions_and_rationale_ns'),
    };
  }),
};

const units = {ns: 1e-3, us: 1, ms: 1e3, s: 1e6};
// The result of benchmark `name` in `run` (Google Benchmark may suffix the
// name, as in "BM_AuditAppend/process_time/real_time").
function find(run, name) {
  return run.benchmarks.find(
      (x) => x.name === name || x.name.startsWith(`${name}/`));
}
// Microseconds per iteration of `name` (real time; CPU time when `cpu`).
function micros(name, cpu = false) {
  return best(engineRuns, (run) => {
    const b = find(run, name);
    return b && (cpu ? b.cpu_time : b.real_time) * units[b.time_unit];
  });
}
function counter(name, key) {
  return best(engineRuns, (run) => find(run, name)?.[key]);
}

const rows = [];
// `shown` is the figure as printed; `measure` is compared with `limit`, the
// most the target allows (printed as `limitText`).
function row(figure, shown, measure, limit, limitText) {
  rows.push({figure, shown, measure, limit, limitText});
}
const fmt = (v, unit) => `${v.toFixed(v < 10 ? 2 : 1)} ${unit}`;

console.log(`Conditions only (${celJs.expressions} expressions), ` +
            `this engine against ${celJs.implementation}:`);
for (const r of celJs.results) {
  const ours = micros(`BM_Conditions/${r.example}`);
  if (ours === undefined) continue;
  const theirs = r.conditions_ns / 1000;
  console.log(`  ${r.example.padEnd(44)} ${fmt(ours, 'us').padStart(9)} ` +
              `vs ${fmt(theirs, 'us').padStart(9)}: ` +
              `${(ours / theirs).toFixed(2)}x`);
}
console.log('');

const js = celJs.results.find((r) => r.example === example);
const conditions = micros(`BM_Conditions/${example}`);
if (js !== undefined && conditions !== undefined) {
  const ratio = conditions / (js.conditions_ns / 1000);
  row('conditions / cel-js conditions', `${ratio.toFixed(2)}x`, ratio, 0.1,
      '0.1x');
  const perExpression = conditions * 1000 / celJs.expressions;
  row('conditions per expression', fmt(perExpression, 'ns'), perExpression,
      15, '15 ns');
}
const decide = micros(`BM_Decide/${example}`);
if (decide !== undefined) {
  row('BM_Decide', fmt(decide, 'us'), decide, 4, '4 us');
  if (js !== undefined) {
    const ratio = decide / (js.conditions_and_rationale_ns / 1000);
    row('BM_Decide / cel-js conditions + rationale', `${ratio.toFixed(2)}x`,
        ratio, 0.4, '0.4x');
  }
}
const evaluate = micros(`BM_EvaluateRuleSet/${example}`);
if (evaluate !== undefined) row('BM_EvaluateRuleSet', fmt(evaluate, 'us'));
const append = micros('BM_AuditAppend', true);
if (append !== undefined) {
  row('BM_AuditAppend CPU per record', fmt(append, 'us'), append, 20, '20 us');
  const kib = counter('BM_AuditAppend', 'stored_bytes_per_record') / 1024;
  if (!Number.isNaN(kib)) {
    row('BM_AuditAppend stored per record', fmt(kib, 'KiB'), kib, 2.5,
        '2.5 KiB');
  }
}
const load = micros('BM_Load150Rules');
if (load !== undefined) {
  row('BM_Load150Rules', fmt(load / 1000, 'ms'), load / 1000, 10, '10 ms');
}

console.log(`Figures for ${example}, each beside its target (at most):`);
for (const r of rows) {
  const verdict = r.limit === undefined ?
      '' :
      `target ${r.limitText.padStart(7)}: ${
          (r.measure / r.limit).toFixed(2)} of it, ${
          r.measure <= r.limit ? 'met' : 'not met'}`;
  console.log(`  ${r.figure.padEnd(42)} ${r.shown.padStart(10)}  ${verdict}`);
}
