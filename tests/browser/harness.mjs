// What the browser tests share: a real `reconnect serve` with a policy, the
// people and the EHR signing in with tokens from one test key, the standard
// Node gRPC client, Debian's Chromium driven headless by puppeteer-core, and
// named checks that are counted rather than stopping at the first failure.
//
//   const h = await startHarness(process.argv.slice(2), extraFlags);
//   ... await h.check('name', async () => { ... });
//   await h.finish();   // closes everything; exits 1 when a check failed
import { spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes, randomUUID, sign } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';

const issuer = 'https://login.example.test';
const audience = 'reconnect';
export const ehrIssuer = 'https://ehr.example.test';
export const publicUrl = 'https://cds.example.test';

// People (by JWT subject) and the roles the policy binds to them.
export const people = {
  'ehr-system': ['evaluator'],
  'dr-adams': ['clinician'],
  'mdt-lead': ['mdt'],
  'auditor-1': ['auditor'],
  ops: ['admin'],
  reviewer: ['clinician', 'auditor'],
};

// A rules directory of two versions in WORK/rules: the bundled rule set as
// `current`, and beside it `next`, a draft 9.0.0-draft of it, whose files
// `edit(dir)` may change further. Returns the directory, for `options.rules`.
export function versionsBeside(work, source, edit = () => {}) {
  const root = join(work, 'rules');
  cpSync(join(source, 'rules', 'reconnect', '1.0.5'), join(root, 'current'), { recursive: true });
  cpSync(join(source, 'rules', 'reconnect', '1.0.5'), join(root, 'next'), { recursive: true });
  const metadata = join(root, 'next', 'ruleset.json');
  writeFileSync(metadata, readFileSync(metadata, 'utf8')
    .replace(/"version": "[^"]+"/, '"version": "9.0.0-draft"')
    .replace('"status": "active"', '"status": "draft"'));
  edit(join(root, 'next'));
  return root;
}

function base64url(o) {
  return Buffer.from(JSON.stringify(o)).toString('base64url');
}

// argv: RECONNECT SOURCE_DIR WORK_DIR NPM_PREFIX. `options.rules(work,
// source)` may lay out a rules directory in the fresh work directory and
// return it (default: the bundled rule set); `options.flags` are added.
export async function startHarness(argv, options = {}) {
  const [binary, source, work, prefix] = argv.map((p) => resolve(p));
  const require = createRequire(join(prefix, 'package.json'));
  const puppeteer = require('puppeteer-core');
  const grpc = require('@grpc/grpc-js');
  const protoLoader = require('@grpc/proto-loader');

  const chromium = process.env.CHROMIUM || '/usr/bin/chromium';
  if (!existsSync(chromium)) {
    console.log(`FAIL Chromium is not at ${chromium} (scripts/setup installs Debian's chromium)`);
    process.exit(1);
  }
  const screenshots = join(work, 'screenshots');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(screenshots, { recursive: true });

  // People sign in with ES256 tokens; the EHR signs its CDS Hooks calls
  // with the same key under its own issuer.
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'people', alg: 'ES256', use: 'sig' };
  writeFileSync(join(work, 'jwks.json'), JSON.stringify({ keys: [jwk] }));
  writeFileSync(join(work, 'clients.json'), JSON.stringify({
    clients: [{ issuer: ehrIssuer, jwks: { keys: [{ ...jwk, kid: 'ehr' }] } }],
  }));
  writeFileSync(join(work, 'policy.json'), JSON.stringify({
    bindings: [
      ...Object.entries(people).map(([subject, roles]) => ({ jwt_subject: subject, roles })),
      { cds_client: ehrIssuer, roles: ['evaluator'] },
    ],
  }));
  writeFileSync(join(work, 'patient.key'), randomBytes(48));
  const rules = options.rules ? options.rules(work, source) : join(source, 'rules', 'reconnect');

  function signed(header, claims) {
    const input = `${base64url(header)}.${base64url(claims)}`;
    const signature = sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' });
    return `${input}.${signature.toString('base64url')}`;
  }
  const now = () => Math.floor(Date.now() / 1000);
  // A person's bearer token.
  const token = (subject) => signed({ alg: 'ES256', typ: 'JWT', kid: 'people' }, {
    iss: issuer, sub: subject, aud: audience, iat: now(), exp: now() + 600,
  });
  // The EHR's token for a CDS Hooks call to `path` (e.g. /cds-services/x).
  const ehrToken = (path) => signed({ alg: 'ES256', typ: 'JWT', kid: 'ehr' }, {
    iss: ehrIssuer, sub: 'ehr-client', aud: `${publicUrl}${path}`, iat: now(),
    exp: now() + 120, jti: randomUUID(),
  });

  const server = spawn(binary, [
    'serve', '--rules', rules, '--listen', '127.0.0.1:0',
    `--audit=${join(work, 'audit.db')}`, '--http_listen=127.0.0.1:0',
    `--policy=${join(work, 'policy.json')}`, `--jwks=${join(work, 'jwks.json')}`,
    `--jwt_issuer=${issuer}`, `--jwt_audience=${audience}`,
    `--cds_clients=${join(work, 'clients.json')}`, `--http_public_url=${publicUrl}`,
    `--patient_ref_key=${join(work, 'patient.key')}`, ...(options.flags || []),
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  const [port, address] = await new Promise((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`the server did not start in 30 s:\n${log}`)), 30000);
    server.stderr.on('data', (chunk) => {
      log += chunk;
      const events = {};
      for (const line of log.split('\n')) {
        try {
          const e = JSON.parse(line);
          events[e.event] = e;
        } catch {
          // a line still being written
        }
      }
      if (events.http_serving && events.serving) {
        clearTimeout(timer);
        done([events.http_serving.port, events.serving.address]);
      }
    });
    server.on('exit', (code) => fail(new Error(`serve exited ${code}:\n${log}`)));
  });
  const base = `http://127.0.0.1:${port}`;

  const definition = protoLoader.loadSync(
    ['reconnect/v1/decision_support.proto', 'reconnect/v1/governance.proto'], {
      includeDirs: [join(source, 'proto'), '/usr/include'],
      keepCase: false, longs: String, enums: String, defaults: false, oneofs: true,
    });
  const { reconnect } = grpc.loadPackageDefinition(definition);
  const credentials = grpc.credentials.createInsecure();
  const decisionSupport = new reconnect.v1.DecisionSupport(address, credentials);
  const governance = new reconnect.v1.Governance(address, credentials);

  // A unary gRPC call as `subject`.
  function call(client, method, request, subject) {
    const metadata = new grpc.Metadata();
    metadata.set('authorization', `Bearer ${token(subject)}`);
    return new Promise((done, fail) => {
      client[method](request, metadata, { deadline: Date.now() + 10000 }, (err, response) => {
        if (err) fail(new Error(`${method}: ${grpc.status[err.code]}: ${err.details}`));
        else done(response);
      });
    });
  }

  // An HTTP call as the EHR (CDS Hooks): the parsed answer and its status.
  async function cdsCall(path, body) {
    const answer = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${ehrToken(path)}` },
      body: JSON.stringify(body),
    });
    const text = await answer.text();
    let json = null;
    try { json = JSON.parse(text); } catch { /* not JSON: the text says why */ }
    return { status: answer.status, json, text };
  }

  const browser = await puppeteer.launch({
    executablePath: chromium,
    headless: true,
    // The container runs as root, where Chromium's sandbox cannot start.
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });

  // A browser tab signed in as `subject` (none: no token). Nothing on the
  // pages may break the Content-Security-Policy or fail: `page.problems`.
  async function pageAs(subject, width = 1280, height = 900) {
    const page = await browser.newPage();
    await page.setViewport({ width, height });
    if (subject) await page.setExtraHTTPHeaders({ Authorization: `Bearer ${token(subject)}` });
    page.problems = [];
    page.on('console', (m) => { if (m.type() === 'error') page.problems.push(m.text()); });
    page.on('pageerror', (e) => page.problems.push(e.message));
    return page;
  }

  // axe's WCAG 2 A and AA violations on each of `urls`, read as `subject`,
  // with every collapsed part opened so that forms are checked too. axe is
  // injected as a script, which the pages' CSP rightly refuses: this one tab
  // bypasses it for the check.
  async function axeViolations(subject, urls) {
    const page = await pageAs(subject);
    await page.setBypassCSP(true);
    const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
    const found = {};
    for (const url of urls) {
      await page.goto(`${base}${url}`);
      await page.evaluate(() => document.querySelectorAll('details').forEach((d) => { d.open = true; }));
      await page.addScriptTag({ content: axeSource });
      const violations = await page.evaluate(async () => {
        const result = await window.axe.run(document, {
          runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
        });
        return result.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.length}: ${
          v.nodes.slice(0, 2).map((n) => n.target.join(' ')).join(', ')})`);
      });
      if (violations.length > 0) found[url] = violations;
    }
    await page.close();
    return found;
  }

  let failures = 0;
  async function check(name, fn) {
    try {
      await fn();
      console.log(`ok   ${name}`);
    } catch (e) {
      failures++;
      console.log(`FAIL ${name}: ${e.stack || e.message}`);
    }
  }

  async function finish() {
    await browser.close();
    decisionSupport.close();
    governance.close();
    server.kill('SIGTERM');
    console.log(`screenshots: ${screenshots}`);
    if (failures > 0) {
      console.log(`${failures} check(s) failed`);
      process.exit(1);
    }
  }

  return {
    binary, source, work, screenshots, base, token, call, cdsCall, decisionSupport, governance,
    pageAs, axeViolations, check, finish,
  };
}
