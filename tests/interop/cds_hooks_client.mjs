// A CDS client as an EHR's integration engineers would write one: Node's
// fetch, and bearer tokens signed ES384 and RS384 by the `jose` library,
// against a real `reconnect serve` with CDS Hooks authentication on. It
// checks that tokens made by a standard JWT library are accepted, and the
// refusals a client can see.
//
//   node tests/interop/cds_hooks_client.mjs RECONNECT SOURCE_DIR WORK_DIR NPM_PREFIX
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';

const [binary, source, work, prefix] = process.argv.slice(2);
const require = createRequire(join(prefix, 'package.json'));
const jose = require('jose');

const issuer = 'https://ehr.example.org';
const publicUrl = 'https://cds.example.test';
const origin = 'https://sandbox.example.org';

rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
const es384 = await jose.generateKeyPair('ES384', { extractable: true });
const rs384 = await jose.generateKeyPair('RS384', { extractable: true });
const jwks = {
  keys: [
    { ...(await jose.exportJWK(es384.publicKey)), kid: 'ehr-es384', alg: 'ES384', use: 'sig' },
    { ...(await jose.exportJWK(rs384.publicKey)), kid: 'ehr-rs384', alg: 'RS384', use: 'sig' },
  ],
};
writeFileSync(join(work, 'jwks.json'), JSON.stringify(jwks));
writeFileSync(join(work, 'clients.json'),
  JSON.stringify({ clients: [{ issuer, jwks_file: 'jwks.json' }] }));
writeFileSync(join(work, 'policy.json'),
  JSON.stringify({ bindings: [{ cds_client: issuer, roles: ['evaluator'] }] }));

// The server, and the port its HTTP listener took.
const server = spawn(binary, [
  'serve', '--rules', join(source, 'rules', 'reconnect', '1.0.5'), '--listen', '127.0.0.1:0',
  `--audit=${join(work, 'audit.db')}`, '--http_listen=127.0.0.1:0',
  `--policy=${join(work, 'policy.json')}`, `--cds_clients=${join(work, 'clients.json')}`,
  `--http_public_url=${publicUrl}`, `--http_cors_origins=${origin}`,
], { stdio: ['ignore', 'ignore', 'pipe'] });
let log = '';
const port = await new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error(`no http_serving within 30 s:\n${log}`)), 30000);
  server.stderr.on('data', (chunk) => {
    log += chunk;
    const m = log.match(/"event":"http_serving"[^\n]*"port":(\d+)/);
    if (m) { clearTimeout(timer); resolve(Number(m[1])); }
  });
  server.on('exit', (code) => reject(new Error(`serve exited ${code}:\n${log}`)));
});
const base = `http://127.0.0.1:${port}`;

async function token(path, { alg = 'ES384', jti = randomUUID(), claims = {} } = {}) {
  const key = alg === 'ES384' ? es384.privateKey : rs384.privateKey;
  return new jose.SignJWT({ ...claims })
    .setProtectedHeader({ alg, typ: 'JWT', kid: alg === 'ES384' ? 'ehr-es384' : 'ehr-rs384' })
    .setIssuer(issuer).setSubject('ehr-client').setAudience(`${publicUrl}${path}`)
    .setIssuedAt().setExpirationTime('2m').setJti(jti)
    .sign(key);
}

let failures = 0;
async function check(name, fn) {
  try {
    await fn();
    console.log(`ok   ${name}`);
  } catch (e) {
    failures++;
    console.log(`FAIL ${name}: ${e.message}`);
  }
}

const example = readFileSync(join(source, 'examples', 'cds-hooks',
  'patient-view-catastrophising.json'), 'utf8');
const service = '/cds-services/reconnect-patient-view';

await check('discovery with an ES384 token from jose', async () => {
  const r = await fetch(`${base}/cds-services`, {
    headers: { authorization: `Bearer ${await token('/cds-services')}` },
  });
  assert.equal(r.status, 200);
  const body = await r.json();
  assert.ok(body.services.some((s) => s.hook === 'patient-view'));
});

await check('a service call with an RS384 token answers cards', async () => {
  const r = await fetch(`${base}${service}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await token(service, { alg: 'RS384' })}`,
      'content-type': 'application/json' },
    body: example,
  });
  assert.equal(r.status, 200);
  const body = await r.json();
  assert.ok(body.cards.length > 0);
  assert.match(body.extension.reconnect.decisionId, /.+/);
});

await check('a token sent twice is refused the second time', async () => {
  const t = await token('/cds-services');
  const first = await fetch(`${base}/cds-services`, { headers: { authorization: `Bearer ${t}` } });
  assert.equal(first.status, 200);
  const again = await fetch(`${base}/cds-services`, { headers: { authorization: `Bearer ${t}` } });
  assert.equal(again.status, 401);
  assert.equal(await again.text(), '');
});

await check('no token, and a token for another URL, are refused', async () => {
  const none = await fetch(`${base}/cds-services`);
  assert.equal(none.status, 401);
  assert.equal(none.headers.get('www-authenticate'), 'Bearer');
  const elsewhere = await fetch(`${base}${service}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await token('/cds-services')}`,
      'content-type': 'application/json' },
    body: example,
  });
  assert.equal(elsewhere.status, 401);
});

await check('a browser preflight from the allowed origin', async () => {
  const r = await fetch(`${base}${service}`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization,content-type' },
  });
  assert.equal(r.status, 204);
  assert.equal(r.headers.get('access-control-allow-origin'), origin);
});

await check('no log line holds a token', async () => {
  const t = await token('/cds-services', { claims: { tenant: 'north' } });
  await fetch(`${base}/cds-services`, { headers: { authorization: `Bearer ${t}` } });
  await fetch(`${base}/cds-services`, { headers: { authorization: `Bearer ${t}` } });
  await new Promise((r) => setTimeout(r, 200));
  assert.ok(!log.includes(t.split('.')[1]), 'a token payload is in the log');
});

server.kill('SIGTERM');
const code = await new Promise((resolve) => server.on('exit', resolve));
if (code !== 0) {
  failures++;
  console.log(`FAIL serve exited ${code}`);
}
rmSync(work, { recursive: true, force: true });
console.log(failures === 0 ? 'all passed' : `${failures} failed`);
process.exit(failures === 0 ? 0 : 1);
