// The MDT care-plan view in a real browser: Debian's Chromium, headless,
// driven by puppeteer-core, against a real `reconnect serve` with a policy.
// A decision is made from every example (over gRPC, with the standard Node
// client); each page is loaded as a clinician, its alerts, plan, gaps and
// why-not are checked in the DOM, and a screenshot is saved. Then an
// override is recorded through the page's own form and seen after a reload
// and in Governance; the auditor reads without forms; other roles get 403;
// the print stylesheet gives an A4 plan.
//
//   node tests/browser/mdt_browser_test.mjs RECONNECT SOURCE_DIR WORK_DIR NPM_PREFIX
import { spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import assert from 'node:assert/strict';

const [binary, source, work, prefix] = process.argv.slice(2).map((p) => resolve(p));
const require = createRequire(join(prefix, 'package.json'));
const puppeteer = require('puppeteer-core');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const chromium = process.env.CHROMIUM || '/usr/bin/chromium';
if (!existsSync(chromium)) {
  console.log(`FAIL Chromium is not at ${chromium} (scripts/setup installs Debian's chromium)`);
  process.exit(1);
}

const issuer = 'https://login.example.test';
const audience = 'reconnect';
const screenshots = join(work, 'screenshots');
rmSync(work, { recursive: true, force: true });
mkdirSync(screenshots, { recursive: true });

// People and the EHR sign in with ES256 tokens from one test key.
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'people', alg: 'ES256', use: 'sig' };
writeFileSync(join(work, 'jwks.json'), JSON.stringify({ keys: [jwk] }));
writeFileSync(join(work, 'clients.json'), JSON.stringify({
  clients: [{ issuer: 'https://ehr.example.test', jwks: { keys: [{ ...jwk, kid: 'ehr' }] } }],
}));
writeFileSync(join(work, 'policy.json'), JSON.stringify({
  bindings: [
    { jwt_subject: 'ehr-system', roles: ['evaluator'] },
    { jwt_subject: 'dr-adams', roles: ['clinician'] },
    { jwt_subject: 'mdt-lead', roles: ['mdt'] },
    { jwt_subject: 'auditor-1', roles: ['auditor'] },
    { jwt_subject: 'ops', roles: ['admin'] },
    { jwt_subject: 'reviewer', roles: ['clinician', 'auditor'] },
  ],
}));
writeFileSync(join(work, 'patient.key'), randomBytes(48));

function token(subject) {
  const now = Math.floor(Date.now() / 1000);
  const part = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${part({ alg: 'ES256', typ: 'JWT', kid: 'people' })}.${part({
    iss: issuer, sub: subject, aud: audience, iat: now, exp: now + 600,
  })}`;
  const signature = sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  return `${input}.${signature.toString('base64url')}`;
}

// The server: gRPC and HTTP on loopback ports it picks.
const server = spawn(binary, [
  'serve', '--rules', join(source, 'rules', 'reconnect'), '--listen', '127.0.0.1:0',
  `--audit=${join(work, 'audit.db')}`, '--http_listen=127.0.0.1:0',
  `--policy=${join(work, 'policy.json')}`, `--jwks=${join(work, 'jwks.json')}`,
  `--jwt_issuer=${issuer}`, `--jwt_audience=${audience}`,
  `--cds_clients=${join(work, 'clients.json')}`, '--http_public_url=https://cds.example.test',
  `--patient_ref_key=${join(work, 'patient.key')}`,
], { stdio: ['ignore', 'ignore', 'pipe'] });
let log = '';
const [port, address] = await new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error(`the server did not start in 30 s:\n${log}`)), 30000);
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
      resolve([events.http_serving.port, events.serving.address]);
    }
  });
  server.on('exit', (code) => reject(new Error(`serve exited ${code}:\n${log}`)));
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

function call(client, method, request, subject) {
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${token(subject)}`);
  return new Promise((resolve, reject) => {
    client[method](request, metadata, { deadline: Date.now() + 10000 }, (err, response) => {
      if (err) reject(new Error(`${method}: ${grpc.status[err.code]}: ${err.details}`));
      else resolve(response);
    });
  });
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

// A decision from every example, explained, so the test knows what the
// page must say.
const examples = readdirSync(join(source, 'examples')).filter((f) => f.endsWith('.json')).sort();
const decided = {};
for (const name of examples) {
  const assessment = JSON.parse(readFileSync(join(source, 'examples', name), 'utf8'));
  assessment.patientRef = 'Patient/browser-1';
  decided[name] = await call(decisionSupport, 'Evaluate', {
    assessment, callingSystem: 'browser-test', explanation: 'EXPLANATION_WHY_NOT',
  }, 'ehr-system');
}

const browser = await puppeteer.launch({
  executablePath: chromium,
  headless: true,
  // The container runs as root, where Chromium's sandbox cannot start.
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});

async function pageAs(subject, width = 1280, height = 900) {
  const page = await browser.newPage();
  await page.setViewport({ width, height });
  if (subject) await page.setExtraHTTPHeaders({ Authorization: `Bearer ${token(subject)}` });
  // Nothing on the pages may break the Content-Security-Policy or fail.
  page.problems = [];
  page.on('console', (m) => { if (m.type() === 'error') page.problems.push(m.text()); });
  page.on('pageerror', (e) => page.problems.push(e.message));
  return page;
}

try {
  const clinician = await pageAs('dr-adams');

  for (const name of examples) {
    await check(`${name}: the care plan reads as the decision says`, async () => {
      const response = decided[name];
      const plan = response.recommendation;
      const answer = await clinician.goto(`${base}/mdt/decisions/${response.decisionId}`);
      assert.equal(answer.status(), 200);
      const dom = await clinician.evaluate(() => ({
        alerts: [...document.querySelectorAll('[data-alert]')].map((a) => ({
          code: a.dataset.alert,
          text: a.innerText,
        })),
        techniques: [...document.querySelectorAll('[data-technique] h4')].map((h) => h.innerText),
        gaps: [...document.querySelectorAll('.gap')].map((g) => g.innerText),
        whyNot: [...document.querySelectorAll('details[data-why-not]')].map((d) => d.dataset.whyNot),
        alertsBeforePlan: document.querySelector('#alerts').compareDocumentPosition(
          document.querySelector('#plan')) === Node.DOCUMENT_POSITION_FOLLOWING,
        footer: document.querySelector('footer.print-only').textContent,
      }));
      assert.ok(dom.alertsBeforePlan, 'alerts come before the plan');
      const alerts = plan.alerts || [];
      assert.deepEqual(dom.alerts.map((a) => a.code).sort(), alerts.map((a) => a.code).sort());
      for (const a of alerts) {
        const shown = dom.alerts.find((d) => d.code === a.code);
        assert.ok(shown.text.includes(a.title), `alert ${a.code} shows its title`);
        if (a.severity === 'SEVERITY_CRITICAL') {
          assert.match(shown.text, /CRITICAL/, `alert ${a.code} says it is critical in words`);
        }
      }
      const techniques = (plan.components || []).flatMap((c) => (c.techniques || []).map((t) => t.display));
      assert.deepEqual(dom.techniques, techniques);
      for (const g of (plan.skillsGaps || []).filter((g) => g.kind === 'ITEM_KIND_TECHNIQUE')) {
        assert.ok(dom.gaps.some((t) => t.includes(g.suggestion)), `gap ${g.code} is shown`);
      }
      const expected = new Set();
      for (const x of response.whyNot || []) {
        if (x.outcome === 'HELD') continue;
        for (const item of x.wouldAdd || []) {
          if (item.kind === 'ITEM_KIND_TECHNIQUE') expected.add(item.code);
        }
      }
      assert.deepEqual(new Set(dom.whyNot), expected);
      assert.ok(dom.footer.includes(response.decisionId) && dom.footer.includes(response.ruleSet.digest),
        'the print footer names the decision and the digest');
      // Why not, on demand: a closed section opens on a click, with its clause.
      if (expected.size > 0) {
        const code = [...expected][0];
        const opened = await clinician.evaluate((c) => {
          const d = document.querySelector(`details[data-why-not="${c}"]`);
          const closed = !d.open;
          d.querySelector('summary').click();
          return { closed, open: d.open, text: d.innerText };
        }, code);
        assert.ok(opened.closed && opened.open, 'why-not opens on demand');
        assert.match(opened.text, /would suggest it, but/);
      }
      assert.deepEqual(clinician.problems, []);
      await clinician.screenshot({ path: join(screenshots, name.replace('.json', '.png')), fullPage: true });
    });
  }

  const catastrophising = decided['catastrophising-performance-beliefs.json'];
  const firstTechnique = catastrophising.recommendation.components[0].techniques[0];

  await check('an override recorded on the page is shown after a reload and in Governance', async () => {
    const url = `${base}/mdt/decisions/${catastrophising.decisionId}`;
    await clinician.goto(url);
    const form = `form[data-item="technique/${firstTechnique.code}"]`;
    // Keyboard only: open the section, choose Decline, a reason, a comment.
    await clinician.focus(`article[data-technique="${firstTechnique.code}"] details.screen-only summary`);
    await clinician.keyboard.press('Enter');
    await clinician.click(`${form} input[value="declined"]`);
    await clinician.select(`${form} select[name="reason"]`, 'does-not-align-preferences');
    await clinician.type(`${form} textarea[name="comment"]`, 'Patient prefers to start in the new year.');
    await Promise.all([
      clinician.waitForNavigation(),
      clinician.click(`${form} button[type="submit"]`),
    ]);
    const decided1 = await clinician.$eval(`article[data-technique="${firstTechnique.code}"] .decided`,
      (e) => e.innerText);
    assert.match(decided1, /Declined by jwt:dr-adams/);
    assert.match(decided1, /Patient prefers to start in the new year\./);
    await clinician.reload();
    const table = await clinician.$eval('#recorded + table, section[aria-labelledby="recorded"] table',
      (t) => t.innerText);
    assert.match(table, /Declined/);
    assert.match(table, /jwt:dr-adams/);
    const listed = await call(governance, 'ListFeedback', { decisionId: catastrophising.decisionId }, 'auditor-1');
    const mdt = (listed.feedback || []).filter((f) => f.service === 'mdt');
    assert.equal(mdt.length, 1);
    assert.equal(mdt[0].outcome, 'overridden');
    assert.equal(mdt[0].cardItem, `technique/${firstTechnique.code}`);
    assert.equal(mdt[0].caller, 'jwt:dr-adams');
    await clinician.screenshot({ path: join(screenshots, 'recorded.png'), fullPage: true });
  });

  await check('a refused entry says why on the page and stores nothing', async () => {
    await clinician.goto(`${base}/mdt/decisions/${catastrophising.decisionId}`);
    const second = catastrophising.recommendation.components[0].techniques[1]
      || catastrophising.recommendation.components[1].techniques[0];
    const form = `form[data-item="technique/${second.code}"]`;
    await clinician.evaluate((f) => { document.querySelector(f).closest('details').open = true; }, form);
    await clinician.click(`${form} input[value="modified"]`);  // without its text
    await clinician.click(`${form} button[type="submit"]`);
    await clinician.waitForFunction((f) => document.querySelector(`${f} .status.error`), {}, form);
    const status = await clinician.$eval(`${form} .status`, (s) => s.innerText);
    assert.match(status, /needs its 'modification'/);
  });

  await check('the auditor reads the plan without forms', async () => {
    const auditor = await pageAs('auditor-1');
    const answer = await auditor.goto(`${base}/mdt/decisions/${catastrophising.decisionId}`);
    assert.equal(answer.status(), 200);
    assert.equal(await auditor.$$eval('form.record', (f) => f.length), 0);
    assert.match(await auditor.$eval('#plan', (e) => e.parentElement.innerText), new RegExp(firstTechnique.display));
    await auditor.close();
  });

  await check('a user without the role gets 403, and no token 401', async () => {
    for (const [subject, status] of [['ops', 403], ['ehr-system', 403], ['', 401]]) {
      const other = await pageAs(subject);
      const answer = await other.goto(`${base}/mdt/decisions/${catastrophising.decisionId}`);
      assert.equal(answer.status(), status, subject || 'no token');
      assert.equal(await other.$('#plan'), null);
      await other.close();
    }
  });

  await check('a patient is found by reference, and the address holds only its HMAC', async () => {
    await clinician.goto(`${base}/mdt`);
    await clinician.type('input[name="ref"]', 'Patient/browser-1');
    await Promise.all([
      clinician.waitForNavigation(),
      clinician.click('form[action="/mdt/patients"] button'),
    ]);
    assert.match(clinician.url(), /\/mdt\/patients\/hmac-sha256:[0-9a-f]{64}$/);
    const rows = await clinician.$$eval('table.decisions tbody tr', (r) => r.length);
    assert.equal(rows, examples.length);
    assert.ok(!(await clinician.content()).includes('browser-1'));
    await clinician.screenshot({ path: join(screenshots, 'patient.png'), fullPage: true });
  });

  await check('printing gives an A4 plan without forms, with the footer', async () => {
    const red = decided['red-flag-bleeding.json'];
    await clinician.goto(`${base}/mdt/decisions/${red.decisionId}`);
    await clinician.emulateMediaType('print');
    const printed = await clinician.evaluate(() => ({
      forms: [...document.querySelectorAll('details.screen-only')].every(
        (d) => getComputedStyle(d).display === 'none'),
      footer: getComputedStyle(document.querySelector('footer.print-only')).display,
      nav: getComputedStyle(document.querySelector('header.page nav')).display,
    }));
    assert.deepEqual(printed, { forms: true, footer: 'block', nav: 'none' });
    await clinician.pdf({ path: join(work, 'care-plan.pdf'), format: 'A4', printBackground: true });
    await clinician.emulateMediaType('screen');
  });

  await check('governance: rules in practice charts the decisions, for the auditor only', async () => {
    const auditor = await pageAs('auditor-1', 1280, 900);
    const answer = await auditor.goto(`${base}/governance/rules`);
    assert.equal(answer.status(), 200);
    const marks = await auditor.evaluate(() => ({
      days: document.querySelectorAll('#daily-chart rect.bar').length,
      fired: document.querySelectorAll('svg.rules rect.fired').length,
      rows: document.querySelectorAll('tr[data-rule]').length,
      redFlag: document.querySelector('tr[data-rule="safety.red_flag"] td:nth-child(2)').innerText,
      total: document.querySelector('#daily').innerText,
    }));
    assert.equal(marks.days, 30);
    assert.ok(marks.rows > 0 && marks.fired === marks.rows, 'one bar per rule');
    assert.match(marks.redFlag, /^1 \(/);
    assert.match(marks.total, new RegExp(`${examples.length} in all`));
    assert.deepEqual(auditor.problems, []);
    await auditor.screenshot({ path: join(screenshots, 'governance-rules.png'), fullPage: true });
    await auditor.close();
    const clinicianThere = await pageAs('dr-adams');
    assert.equal((await clinicianThere.goto(`${base}/governance/rules`)).status(), 403);
    await clinicianThere.close();
  });

  await check('axe finds no accessibility violations (WCAG 2 A and AA) on any page', async () => {
    // axe is injected as a script, which the pages' CSP rightly refuses: this
    // one page bypasses it for the check.
    const axePage = await pageAs('reviewer');
    await axePage.setBypassCSP(true);
    const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
    const urls = [
      '/mdt',
      `/mdt/decisions/${decided['red-flag-bleeding.json'].decisionId}`,
      '/governance/rules',
      `/mdt/decisions/${catastrophising.decisionId}`,
      `/mdt/decisions/${decided['declined-consent.json'].decisionId}`,
    ];
    for (const url of urls) {
      await axePage.goto(`${base}${url}`);
      // Open every collapsed part, so that the forms are checked too.
      await axePage.evaluate(() => document.querySelectorAll('details').forEach((d) => { d.open = true; }));
      await axePage.addScriptTag({ content: axeSource });
      const violations = await axePage.evaluate(async () => {
        const result = await window.axe.run(document, {
          runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
        });
        return result.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.length}: ${
          v.nodes.slice(0, 2).map((n) => n.target.join(' ')).join(', ')})`);
      });
      assert.deepEqual(violations, [], url);
    }
    await axePage.close();
  });

  await check('a meeting-room screen and a laptop both show the plan', async () => {
    const red = decided['red-flag-bleeding.json'];
    for (const [width, height, file] of [[1920, 1080, 'meeting-room.png'], [1280, 800, 'laptop.png']]) {
      await clinician.setViewport({ width, height });
      await clinician.goto(`${base}/mdt/decisions/${red.decisionId}`);
      const overflow = await clinician.evaluate(
        () => document.documentElement.scrollWidth > document.documentElement.clientWidth);
      assert.equal(overflow, false, `no sideways scrolling at ${width}px`);
      await clinician.screenshot({ path: join(screenshots, file) });
    }
    // Reduced, for the README (service/web/care-plan.png is a copy).
    await clinician.setViewport({ width: 1280, height: 1000, deviceScaleFactor: 0.6 });
    await clinician.goto(`${base}/mdt/decisions/${red.decisionId}`);
    await clinician.screenshot({ path: join(screenshots, 'readme.png') });
  });
} finally {
  await browser.close();
  decisionSupport.close();
  governance.close();
  server.kill('SIGTERM');
}

console.log(`screenshots: ${screenshots}`);
if (failures > 0) {
  console.log(`${failures} check(s) failed`);
  process.exit(1);
}
