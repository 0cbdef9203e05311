// Exports the CEL conformance suite from the pinned @bufbuild/cel-spec
// package into files the C++ runner reads:
//   OUT/descriptors.pb   a FileDescriptorSet: the test messages, TestAllTypes
//                        (proto2 and proto3) and everything they import
//   OUT/<file>.pb        one cel.expr.conformance.test.SimpleTestFile per
//                        file of the suite (basic, macros, ...)
//   OUT/files.txt        the file names, one a line
//   OUT/parsing.json     the parsing suite: expressions, and cel-go's errors
//   OUT/checking.pb      the checking suite's tests, as one SimpleTestFile
//   OUT/checking.json    for each of them in order, cel-go's type or errors
//
//   node tests/conformance/export.mjs NODE_PREFIX OUT
import { createRequire } from 'node:module';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [prefix, out] = process.argv.slice(2);
if (!prefix || !out) {
  console.error('usage: node export.mjs NODE_PREFIX OUT');
  process.exit(2);
}
const require = createRequire(join(prefix, 'package.json'));
const { create, toBinary } = require('@bufbuild/protobuf');
const { FileDescriptorSetSchema } = require('@bufbuild/protobuf/wkt');
const { getConformanceSuite, getParsingSuite, getCheckingSuite } = require('@bufbuild/cel-spec/testdata/tests.js');
const simple = require('@bufbuild/cel-spec/cel/expr/conformance/test/simple_pb.js');
const proto3 = require('@bufbuild/cel-spec/cel/expr/conformance/proto3/test_all_types_pb.js');
const proto2 = require('@bufbuild/cel-spec/cel/expr/conformance/proto2/test_all_types_pb.js');
const ext = require('@bufbuild/cel-spec/cel/expr/conformance/proto2/test_all_types_extensions_pb.js');

// Files in dependency order, each once.
const files = [];
const seen = new Set();
function add(file) {
  if (seen.has(file.name)) return;
  seen.add(file.name);
  for (const dep of file.dependencies) add(dep);
  files.push(file.proto);
}
for (const f of [simple.file_cel_expr_conformance_test_simple,
                 proto3.file_cel_expr_conformance_proto3_test_all_types,
                 proto2.file_cel_expr_conformance_proto2_test_all_types,
                 ext.file_cel_expr_conformance_proto2_test_all_types_extensions]) {
  add(f);
}
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'descriptors.pb'),
              toBinary(FileDescriptorSetSchema, create(FileDescriptorSetSchema, { file: files })));

// Flattens nested suites below a file into named sections.
function sections(suite, prefixName, acc) {
  if (suite.tests.length > 0) {
    acc.push({ name: prefixName, test: suite.tests.map((t) => t.original) });
  }
  for (const s of suite.suites) sections(s, prefixName ? `${prefixName}/${s.name}` : s.name, acc);
  return acc;
}
const names = [];
for (const fileSuite of getConformanceSuite().suites) {
  const testFile = create(simple.SimpleTestFileSchema, {
    name: fileSuite.name,
    section: sections(fileSuite, '', []),
  });
  writeFileSync(join(out, `${fileSuite.name}.pb`), toBinary(simple.SimpleTestFileSchema, testFile));
  names.push(fileSuite.name);
}
writeFileSync(join(out, 'files.txt'), names.join('\n') + '\n');

// The parsing suite (expressions from cel-go's parser tests): each with the
// AST when cel-go parsed it, and otherwise cel-go's errors with positions.
function flatten(suite, prefixName, acc) {
  for (const t of suite.tests) {
    acc.push({ section: prefixName, name: t.name, expr: t.original.expr,
               parsed: t.ast !== undefined, error: t.error ?? '' });
  }
  for (const s of suite.suites) flatten(s, prefixName ? `${prefixName}/${s.name}` : s.name, acc);
  return acc;
}
const parsing = flatten(getParsingSuite(), '', []);
writeFileSync(join(out, 'parsing.json'), JSON.stringify(parsing, null, 1));

// The checking suite (from cel-go's checker tests): each test with the type
// cel-go deduced, or cel-go's errors with positions.
const checking = flatten(getCheckingSuite(), '', []);
const checkingTests = [];
const checkingExpected = [];
(function collect(suite) {
  for (const t of suite.tests) {
    checkingTests.push(t.original);
    checkingExpected.push({ name: t.name, type: t.type ?? '', error: t.error ?? '' });
  }
  for (const s of suite.suites) collect(s);
})(getCheckingSuite());
writeFileSync(join(out, 'checking.pb'), toBinary(simple.SimpleTestFileSchema,
  create(simple.SimpleTestFileSchema, {
    name: 'checking',
    section: [{ name: 'checking', test: checkingTests }],
  })));
writeFileSync(join(out, 'checking.json'), JSON.stringify(checkingExpected, null, 1));
console.log(`exported ${names.length} conformance files, ${parsing.length} parsing tests, ` +
            `${checking.length} checking tests and ${files.length} descriptors to ${out}`);
