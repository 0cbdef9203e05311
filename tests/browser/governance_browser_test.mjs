// The governance console in a real browser: Debian's Chromium, headless,
// driven by puppeteer-core, against a real `reconnect serve` with a policy.
// The store is filled by real evaluations (gRPC, every example), a CDS Hooks
// call whose card the EHR then overrides, and a technique declined at the
// MDT. Each page is loaded as the auditor; its charts must have one mark per
// day, rule or outcome the store holds; roles are enforced; screenshots are
// saved.
//
//   node tests/browser/governance_browser_test.mjs RECONNECT SOURCE_DIR WORK_DIR NPM_PREFIX
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { startHarness, versionsBeside } from './harness.mjs';

// Two versions: the bundled one, and a draft of the next beside it, which
// the admin activates.
const h = await startHarness(process.argv.slice(2), {
  rules: (work, source) => versionsBeside(work, source),
});
const { base, call, check, pageAs, decisionSupport, governance, screenshots, source } = h;

const examples = readdirSync(join(source, 'examples')).filter((f) => f.endsWith('.json')).sort();
const decided = {};
for (const name of examples) {
  const assessment = JSON.parse(readFileSync(join(source, 'examples', name), 'utf8'));
  assessment.patientRef = 'Patient/governance-1';
  decided[name] = await call(decisionSupport, 'Evaluate', {
    assessment, callingSystem: 'browser-test',
  }, 'ehr-system');
}

// Through CDS Hooks: a call, then the EHR's override of its plan card.
const service = '/cds-services/reconnect-patient-view';
const hook = await h.cdsCall(service, JSON.parse(readFileSync(
  join(source, 'examples', 'cds-hooks', 'patient-view-catastrophising.json'), 'utf8')));
assert.equal(hook.status, 200, hook.text);
const card = hook.json.cards[hook.json.cards.length - 1];
const cdsComment = 'Discussed at the MDT: not before the pelvic-floor review.';
const overridden = await h.cdsCall(`${service}/feedback`, {
  feedback: [{
    card: card.uuid,
    outcome: 'overridden',
    overrideReason: {
      reason: {
        system: 'http://terminology.hl7.org/CodeSystem/non-adherence-reason-codes',
        code: 'cds-not-applicable',
        display: 'PC CDS does not apply to patient',
      },
      userComment: cdsComment,
    },
    outcomeTimestamp: new Date().toISOString(),
  }],
});
assert.equal(overridden.status, 200, overridden.text);

// At the MDT: a technique declined.
const catastrophising = decided['catastrophising-performance-beliefs.json'];
const technique = catastrophising.recommendation.components[0].techniques[0];
const declined = await fetch(`${base}/mdt/decisions/${catastrophising.decisionId}/feedback`, {
  method: 'POST',
  headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${h.token('mdt-lead')}` },
  body: JSON.stringify({
    item: `technique/${technique.code}`, outcome: 'declined',
    reason: 'does-not-align-preferences', comment: 'Prefers to start later.',
  }),
});
assert.equal(declined.status, 201, await declined.text());

// What the store says the feedback was on: the truth the page must chart.
const feedback = (await call(governance, 'ListFeedback', {}, 'auditor-1')).feedback || [];
assert.equal(feedback.length, 2);
const overriddenRules = new Set(feedback.flatMap((f) => f.ruleIds || []));

try {
  await check('rules in practice: one mark per day, rule and outcome', async () => {
    const auditor = await pageAs('auditor-1', 1280, 900);
    const answer = await auditor.goto(`${base}/governance/rules`);
    assert.equal(answer.status(), 200);
    const dom = await auditor.evaluate(() => ({
      days: document.querySelectorAll('#daily-chart rect.bar').length,
      fired: document.querySelectorAll('svg.rules rect.fired').length,
      rows: document.querySelectorAll('tr[data-rule]').length,
      redFlag: document.querySelector('tr[data-rule="safety.red_flag"] td:nth-child(2)').innerText,
      total: document.querySelector('#daily').innerText,
      feedbackDays: [...document.querySelectorAll('#feedback-chart rect')].map(
        (r) => [r.getAttribute('class'), r.textContent]),
      overriddenMarks: [...document.querySelectorAll('svg.feedback rect.overridden')].map(
        (r) => r.textContent.split(':')[0]),
      rates: Object.fromEntries([...document.querySelectorAll('tr[data-rule]')].map(
        (tr) => [tr.dataset.rule, tr.querySelector('td.rates').innerText])),
      reasons: document.querySelector('table.decisions').innerText,
    }));
    assert.equal(dom.days, 30);
    assert.ok(dom.rows > 0 && dom.fired === dom.rows, 'one bar per rule');
    // The examples with a red flag (1.0.5, which serves here, has no
    // red-flag reviews: a cleared one still fires the rule).
    const redFlagged = examples.filter(
      (f) => (JSON.parse(readFileSync(join(source, 'examples', f), 'utf8')).redFlags || []).length > 0).length;
    assert.match(dom.redFlag, new RegExp(`^${redFlagged} \\(`));
    // Every decision: the examples and the CDS Hooks call.
    assert.match(dom.total, new RegExp(`${examples.length + 1} in all`));
    // Both answers today: one stacked mark, for two overrides.
    assert.deepEqual(dom.feedbackDays, [['overridden', `${new Date().toISOString().slice(0, 10)}: 2 overridden`]]);
    // One override mark per rule either answer was on.
    assert.deepEqual(new Set(dom.overriddenMarks), overriddenRules);
    assert.equal(dom.overriddenMarks.length, overriddenRules.size);
    for (const rule of overriddenRules) {
      assert.match(dom.rates[rule], /^0 \/ 0 \/ [12] \(100% overridden\)$/, rule);
    }
    // The reasons in their words, and (for the auditor) the comments.
    assert.match(dom.reasons, /PC CDS does not apply to patient \(1\)/);
    assert.match(dom.reasons, /Recommendation does not align with patient preferences or values \(1\)/);
    assert.ok(dom.reasons.includes(cdsComment), 'the CDS Hooks comment is shown');
    assert.ok(dom.reasons.includes('Prefers to start later.'), 'the MDT comment is shown');
    assert.deepEqual(auditor.problems, []);
    await auditor.screenshot({ path: join(screenshots, 'governance-rules.png'), fullPage: true });
    // Reduced, for the README (service/web/governance-console.png is a copy).
    await auditor.setViewport({ width: 1280, height: 1100, deviceScaleFactor: 0.6 });
    await auditor.goto(`${base}/governance/rules`);
    await auditor.screenshot({ path: join(screenshots, 'readme.png') });
    await auditor.close();
  });

  await check('rules in practice: comments only for the auditor; other roles refused', async () => {
    const admin = await pageAs('ops');
    assert.equal((await admin.goto(`${base}/governance/rules`)).status(), 200);
    const text = await admin.$eval('main', (m) => m.innerText);
    assert.ok(!text.includes('Prefers to start later.'), 'no comment for the admin role');
    assert.ok(!text.includes(cdsComment), 'no comment for the admin role');
    assert.match(text, /shown to the auditor role only/);
    assert.match(text, /PC CDS does not apply to patient \(1\)/);
    await admin.close();
    for (const [subject, status] of [['dr-adams', 403], ['mdt-lead', 403], ['ehr-system', 403], ['', 401]]) {
      const other = await pageAs(subject);
      assert.equal((await other.goto(`${base}/governance/rules`)).status(), status, subject || 'no token');
      assert.equal((await other.goto(`${base}/governance/rules.csv`)).status(), status, subject || 'no token');
      await other.close();
    }
  });

  const active = await call(decisionSupport, 'Evaluate', {
    assessment: JSON.parse(readFileSync(join(source, 'examples', examples[0]), 'utf8')),
    callingSystem: 'browser-test',
  }, 'ehr-system');
  const current = active.ruleSet;

  await check('versions: the admin activates a version after confirming, and it is recorded', async () => {
    const admin = await pageAs('ops', 1280, 900);
    assert.equal((await admin.goto(`${base}/governance/versions`)).status(), 200);
    const versions = await admin.$$eval('article.version-entry', (a) => a.map((e) => e.dataset.version));
    assert.deepEqual(versions, [`reconnect 9.0.0-draft`, `reconnect ${current.version}`]);
    const form = 'article[data-version="reconnect 9.0.0-draft"] form.admin-action';
    // Cancelled in the dialog: nothing changes.
    let asked = '';
    admin.once('dialog', (d) => { asked = d.message(); d.dismiss(); });
    await admin.click(`${form} button`);
    await admin.waitForFunction((f) => document.querySelector(`${f} .status`).textContent !== '', {}, form);
    assert.match(asked, /Make reconnect 9\.0\.0-draft the active version\?/);
    assert.match(await admin.$eval(`${form} .status`, (e) => e.textContent), /Cancelled/);
    // Confirmed: the page reloads with the draft active.
    admin.once('dialog', (d) => d.accept());
    await Promise.all([admin.waitForNavigation(), admin.click(`${form} button`)]);
    const after = await admin.evaluate(() => ({
      active: document.querySelector('article.version-entry .badge.active')
        .closest('article').dataset.version,
      event: document.querySelector('tr[data-event]').innerText,
    }));
    assert.equal(after.active, 'reconnect 9.0.0-draft');
    assert.match(after.event, /Activation\s+jwt:ops\s+Done\s+reconnect 9\.0\.0-draft/);
    assert.deepEqual(admin.problems, []);
    await admin.close();
  });

  await check('versions: the timeline has a bar per version used and a mark per activation', async () => {
    // A decision under the newly active draft.
    const next = await call(decisionSupport, 'Evaluate', {
      assessment: JSON.parse(readFileSync(join(source, 'examples', examples[0]), 'utf8')),
      callingSystem: 'browser-test',
    }, 'ehr-system');
    assert.equal(next.ruleSet.version, '9.0.0-draft');
    const auditor = await pageAs('auditor-1', 1280, 900);
    assert.equal((await auditor.goto(`${base}/governance/versions`)).status(), 200);
    const dom = await auditor.evaluate(() => ({
      used: [...document.querySelectorAll('#timeline rect.used')].map((r) => r.textContent),
      activations: document.querySelectorAll('#timeline rect.activation').length,
      forms: document.querySelectorAll('form.admin-action').length,
      events: [...document.querySelectorAll('tr[data-event] td:nth-child(2)')].map((t) => t.innerText),
    }));
    assert.equal(dom.used.length, 2);
    assert.match(dom.used.join('\n'), /reconnect 9\.0\.0-draft: 1 decision,/);
    assert.match(dom.used.join('\n'), new RegExp(`reconnect ${current.version}: ${examples.length + 2} decisions,`));
    assert.equal(dom.activations, 1);
    assert.equal(dom.forms, 0, 'the auditor has no admin buttons');
    assert.deepEqual(dom.events, ['Activation', 'Reload']);
    assert.deepEqual(auditor.problems, []);
    await auditor.screenshot({ path: join(screenshots, 'governance-versions.png'), fullPage: true });
    // The auditor cannot act, even by posting directly.
    const refused = await fetch(`${base}/governance/versions/reload`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${h.token('auditor-1')}` },
      body: '{}',
    });
    assert.equal(refused.status, 403);
    await auditor.close();
  });

  await check('diff: the draft beside the current version, field by field', async () => {
    const auditor = await pageAs('auditor-1', 1280, 900);
    await auditor.goto(`${base}/governance/diff`);
    // Chosen by default: the version before the active one, and the active one.
    const chosen = await auditor.evaluate(() => [...document.querySelectorAll('select')].map(
      (s) => s.selectedOptions[0].textContent));
    assert.deepEqual(chosen, [`reconnect ${current.version}`, 'reconnect 9.0.0-draft']);
    const dom = await auditor.evaluate(() => ({
      summary: document.querySelector('p.summary').innerText,
      rows: [...document.querySelectorAll('table.diff tbody tr')].map((r) => [...r.cells].map((c) => c.innerText)),
    }));
    assert.match(dom.summary, /^0 rule\(s\) added, 0 removed, 0 changed; 2 other change/);
    assert.deepEqual(dom.rows, [
      ['ruleset.status', '"active"', '"draft"'],
      ['ruleset.version', `"${current.version}"`, '"9.0.0-draft"'],
    ]);
    assert.deepEqual(auditor.problems, []);
    await auditor.screenshot({ path: join(screenshots, 'governance-diff.png'), fullPage: true });
    // Swapped through the form.
    const draft = await auditor.$eval('select[name="to"]', (s) => s.value);
    await auditor.select('select[name="from"]', draft);
    await auditor.select('select[name="to"]', current.digest);
    await Promise.all([auditor.waitForNavigation(), auditor.click('form.search button')]);
    const swapped = await auditor.$$eval('table.diff tbody tr', (rows) => rows.map((r) => r.cells[2].innerText));
    assert.deepEqual(swapped, ['"active"', `"${current.version}"`]);
    await auditor.close();
  });

  await check('trail: checked on demand, intact, with the head hash gRPC gives', async () => {
    const auditor = await pageAs('auditor-1', 1280, 900);
    await auditor.goto(`${base}/governance/trail`);
    assert.match(await auditor.$eval('#check', (h) => h.parentElement.innerText), /Not checked since/);
    await Promise.all([auditor.waitForNavigation(), auditor.click('form.job button')]);
    await auditor.waitForSelector('#trail-result[data-outcome]', { timeout: 30000 });
    const dom = await auditor.evaluate(() => ({
      outcome: document.querySelector('#trail-result').dataset.outcome,
      records: document.querySelector('#trail-records').textContent,
      hash: document.querySelector('#head-hash').textContent,
      copy: document.querySelectorAll('button.copy').length,
    }));
    const verified = await call(governance, 'VerifyAuditTrail', {}, 'auditor-1');
    assert.equal(verified.intact, true);
    assert.deepEqual(dom, { outcome: 'intact', records: String(verified.records), hash: verified.headHash, copy: 2 });
    assert.deepEqual(auditor.problems, []);
    await auditor.screenshot({ path: join(screenshots, 'governance-trail.png'), fullPage: true });
    await auditor.close();
  });

  await check('versions: a refused reload is shown with its problems, and the version before serves on', async () => {
    const catalog = join(h.work, 'rules', 'next', 'catalog.json');
    writeFileSync(catalog, readFileSync(catalog, 'utf8').replace('"components"', '"components" x'));
    const admin = await pageAs('ops', 1280, 900);
    await admin.goto(`${base}/governance/versions`);
    admin.once('dialog', (d) => d.accept());
    await Promise.all([admin.waitForNavigation(), admin.click('form[action="/governance/versions/reload"] button')]);
    const dom = await admin.evaluate(() => ({
      refused: document.querySelector('#refused').parentElement.innerText,
      active: document.querySelector('article.version-entry .badge.active').closest('article').dataset.version,
      // The admin's reload (the server's own poll may also have seen the
      // edited file and reloaded, as 'files changed').
      event: [...document.querySelectorAll('tr[data-event]')].map((r) => r.innerText)
        .find((t) => /^\S+ \S+ UTC\s+Reload\s+jwt:ops/.test(t)),
    }));
    assert.match(dom.refused, /next/);
    assert.match(dom.refused, /catalog\.json:\d+:\d+: invalid JSON/);
    assert.equal(dom.active, 'reconnect 9.0.0-draft');
    assert.match(dom.event, /Reload\s+jwt:ops\s+Done\s+reconnect 9\.0\.0-draft\s+1/);
    assert.deepEqual(admin.problems, []);
    await admin.screenshot({ path: join(screenshots, 'governance-versions-refused.png'), fullPage: true });
    await admin.close();
  });

  await check('report: one self-contained file that reads as the console, with no script', async () => {
    const today = new Date().toISOString().slice(0, 10);
    const file = join(h.work, 'report.html');
    writeFileSync(file, execFileSync(h.binary, ['report', join(h.work, 'audit.db'), '--from', today, '--to', today]));
    const reader = await pageAs('', 1280, 900);
    await reader.setJavaScriptEnabled(false);
    const requests = [];
    reader.on('request', (r) => requests.push(r.url()));
    await reader.goto(`file://${file}`);
    assert.deepEqual(requests, [`file://${file}`], 'nothing else is fetched');
    const dom = await reader.evaluate(() => ({
      parts: [...document.querySelectorAll('h2.part')].map((e) => e.textContent),
      days: document.querySelectorAll('#daily-chart rect.bar').length,
      used: document.querySelectorAll('#timeline rect.used').length,
      activations: document.querySelectorAll('#timeline rect.activation').length,
      overridden: document.querySelectorAll('#feedback-chart rect.overridden').length,
      diffRows: document.querySelectorAll('table.diff tbody tr').length,
      trail: document.querySelector('#trail-result').dataset.outcome,
      text: document.body.innerText,
      styled: getComputedStyle(document.querySelector('h1')).fontFamily,
    }));
    assert.deepEqual(dom.parts, ['Rule-set versions', 'What changed between two versions',
      'Is the audit trail intact?', 'Rules in practice']);
    assert.deepEqual([dom.days, dom.used, dom.activations, dom.overridden], [1, 2, 1, 1]);
    assert.equal(dom.diffRows, 2);  // the draft's status and version
    assert.equal(dom.trail, 'intact');
    assert.ok(!dom.text.includes(cdsComment), 'no comments unless asked for');
    assert.match(dom.styled, /system-ui|sans/);
    await reader.screenshot({ path: join(screenshots, 'report.png'), fullPage: true });
    await reader.close();
  });

  await check('axe finds no accessibility violations (WCAG 2 A and AA) on the console', async () => {
    assert.deepEqual(await h.axeViolations('reviewer', ['/governance/rules', '/governance/versions', '/governance/diff', '/governance/trail']), {});
    assert.deepEqual(await h.axeViolations('ops', ['/governance/versions']), {});
  });
} finally {
  await h.finish();
}
