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
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { startHarness } from './harness.mjs';

const h = await startHarness(process.argv.slice(2));
const { base, call, check, pageAs, decisionSupport, governance, screenshots, source, work } = h;

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
      // Every gap, for a technique (on its card) or for a discipline a
      // rule asks for (in a block of its own).
      for (const g of plan.skillsGaps || []) {
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

  await check('axe finds no accessibility violations (WCAG 2 A and AA) on any page', async () => {
    const found = await h.axeViolations('reviewer', [
      '/mdt',
      `/mdt/decisions/${decided['red-flag-bleeding.json'].decisionId}`,
      `/mdt/decisions/${catastrophising.decisionId}`,
      `/mdt/decisions/${decided['declined-consent.json'].decisionId}`,
    ]);
    assert.deepEqual(found, {});
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
  await h.finish();
}
