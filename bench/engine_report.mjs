// Prints the engine's figures beside the performance targets, from one run
// of reconnect_bench (its JSON output) and of cel_js_bench.mjs (its --json):
//
//   node bench/engine_report.mjs ENGINE.json CEL_JS.json [EXAMPLE]
//
// EXAMPLE (default: the catastrophising one) is the example the single
// figures are read from; the conditions are compared on every example.

import {readFileSync} from 'node:fs';

const [enginePath, celJsPath, example =
           'catastrophising-performance-beliefs.json'] = process.argv.slice(2);
const engine = JSON.parse(readFileSync(enginePath, 'utf8'));
const celJs = JSON.parse(readFileSync(celJsPath, 'utf8'));

const units = {ns: 1e-3, us: 1, ms: 1e3, s: 1e6};
// The run of benchmark `name` (which Google Benchmark may suffix, as in
// "BM_AuditAppend/process_time/real_time").
function find(name) {
  return engine.benchmarks.find(
      (x) => x.name === name || x.name.startsWith(`${name}/`));
}
// Microseconds per iteration of `name` (real time; CPU time when `cpu`).
function micros(name, cpu = false) {
  const b = find(name);
  if (b === undefined) return undefined;
  return (cpu ? b.cpu_time : b.real_time) * units[b.time_unit];
}
function counter(name, key) {
  return find(name)?.[key];
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
