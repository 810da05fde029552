// The web console in a real browser (Debian's chromium driven by playwright-core; no browser
// download ever): the API over the embedded store holding the alerts of a known capture, the
// page loaded over a real socket, asked for its token, then checked the way an analyst uses it:
// the alerts and the timeline, a filter, one alert's evidence and recommendation, an
// acknowledgement that must reach the store, the certificate list, and hostile text.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from '../../src/api/app';
import { CONSOLE_CSP } from '../../src/api/console';
import type { Alert } from '../../src/alerts/types';
import { createEmbeddedStore, type EmbeddedStore } from '../../src/store/embedded/embedded-store';
import { tlsRow } from '../store/alert-fixtures';
import { plantAttackAlerts } from './plant-alerts';

export const CHROMIUM = '/usr/bin/chromium';
export const MISSING_CHROMIUM = `${CHROMIUM} not found: apt-get install chromium (Debian's package; .ci/run installs it)`;
const TOKEN = 'console-test-token-0123456789';
const DAY_US = 86_400_000_000;

const root = mkdtempSync(join(tmpdir(), 'iotwatch-console-'));
const shots = process.env.IOTWATCH_SCREENSHOTS ?? join(root, 'shots');
let store: EmbeddedStore;
let app: FastifyInstance;
let base: string;
let context: BrowserContext;
let page: Page;
let alerts: Alert[];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(MISSING_CHROMIUM);
  mkdirSync(shots, { recursive: true });
  alerts = await plantAttackAlerts();
  store = createEmbeddedStore({ dir: join(root, 'store') });
  await store.init();
  await store.putAlerts(alerts, 'plant-1');
  const now = Date.now() * 1000;
  await store.putRecords({
    tls: [
      tlsRow({ sensor: 'plant-1', server: '127.0.0.1:8883', sni: 'broker.plant', sha256: 'a'.repeat(64), subject: 'CN=broker.plant', notAfter: now + 200 * DAY_US + DAY_US / 2 }),
      tlsRow({ sensor: 'plant-1', server: '127.0.0.2:8883', sni: 'old.plant', sha256: 'b'.repeat(64), subject: 'CN=old.plant', selfSigned: true, notAfter: now - 10 * DAY_US - DAY_US / 2 }),
      // A DTLS PSK server: an endpoint without a certificate, as the recorder writes it.
      tlsRow({ sensor: 'plant-1', server: '127.0.0.1:5684', sni: '', sha256: '', subject: '', issuer: '', notBefore: 0, notAfter: 0 }),
    ],
  });

  // build() registers the console (consolePlugin) beside the API routes.
  app = build({ store, tokens: { token: TOKEN }, rateLimit: false });
  base = await app.listen({ host: '127.0.0.1', port: 0 });

  context = await chromium.launchPersistentContext(join(root, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
    viewport: { width: 1440, height: 1000 },
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (err) => { pageErrors.push(err.message); });
  page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(m.text()); });
}, 120_000);

const pageErrors: string[] = [];

afterAll(async () => {
  await context?.close();
  await app?.close();
  await store?.close();
  if (!process.env.IOTWATCH_SCREENSHOTS) rmSync(root, { recursive: true, force: true });
});

const rows = () => page.locator('#alerts tbody tr');

describe('web console', () => {
  it('serves the page without a token, with a strict content security policy', async () => {
    for (const [url, type] of [['/', 'text/html'], ['/console/app.js', 'text/javascript'], ['/console/app.css', 'text/css']]) {
      const res = await fetch(base + url);
      expect(res.status, url).toBe(200);
      expect(res.headers.get('content-type'), url).toContain(type);
      expect(res.headers.get('content-security-policy'), url).toBe(CONSOLE_CSP);
      expect((await res.text()).length, url).toBeGreaterThan(100);
    }
    // The API behind it still wants the token.
    const refused = await fetch(`${base}/api/v1/alerts`);
    expect(refused.status).toBe(401);
    expect((await refused.json()).error.code).toBe('unauthorized');
    // The console's files are not API operations.
    const doc = await (await fetch(`${base}/api/v1/openapi.json`, { headers: { authorization: `Bearer ${TOKEN}` } })).json();
    expect(Object.keys(doc.paths).filter((p) => !p.startsWith('/api/v1/') && p !== '/metrics')).toEqual([]);
  });

  it('asks for the token, then lists the alerts of the capture with their detectors', async () => {
    await page.goto(base + '/');
    await page.locator('#token-form').waitFor({ state: 'visible' });
    await page.fill('#token-input', TOKEN);
    await page.click('#token-form button[type=submit]');
    await expect.poll(() => rows().count(), { timeout: 10_000 }).toBe(alerts.length);
    const detectors = await rows().evaluateAll((trs) => trs.map((tr) => (tr as HTMLElement).dataset.detector));
    expect(new Set(detectors)).toEqual(new Set(alerts.map((a) => a.detector)));
    expect(await page.textContent('#alert-count')).toBe(`${alerts.length} alerts`);
    // Every alert's summary is on the page, as text.
    const summaries = await page.locator('#alerts td.summary').allTextContents();
    expect(summaries.sort()).toEqual(alerts.map((a) => a.summary).sort());
    expect(await page.textContent('#health')).toContain('embedded store');
  });

  it('draws the timeline from /api/v1/stats: every alert in one bar segment', async () => {
    await page.locator('#timeline svg rect.bar').first().waitFor();
    const counts = await page.locator('#timeline svg rect.bar').evaluateAll((rs) => rs.map((r) => Number(r.getAttribute('data-count'))));
    expect(counts.reduce((a, b) => a + b, 0)).toBe(alerts.length);
    const bySeverity = await page.locator('#timeline svg rect.bar').evaluateAll((rs) => {
      const m: Record<string, number> = {};
      for (const r of rs) m[r.getAttribute('data-severity')!] = (m[r.getAttribute('data-severity')!] ?? 0) + Number(r.getAttribute('data-count'));
      return m;
    });
    const want: Record<string, number> = {};
    for (const a of alerts) want[a.severity] = (want[a.severity] ?? 0) + 1;
    expect(bySeverity).toEqual(want);
    await page.screenshot({ path: join(shots, 'console-alerts.png'), fullPage: true });
  });

  it('filters by detector (list and timeline)', async () => {
    const detector = 'mqtt.auth_bruteforce';
    const want = alerts.filter((a) => a.detector === detector).length;
    expect(want).toBeGreaterThan(0);
    await page.selectOption('#f-detector', detector);
    await expect.poll(() => rows().count()).toBe(want);
    const shown = await rows().evaluateAll((trs) => trs.map((tr) => (tr as HTMLElement).dataset.detector));
    expect(new Set(shown)).toEqual(new Set([detector]));
    await expect.poll(async () => (await page.locator('#timeline svg rect.bar').evaluateAll((rs) =>
      rs.reduce((n, r) => n + Number(r.getAttribute('data-count')), 0)))).toBe(want);
  });

  it('opens an alert: its evidence and recommendation', async () => {
    const a = alerts.find((x) => x.detector === 'mqtt.auth_bruteforce')!;
    await page.click(`#alerts tbody tr[data-id="${a.id}"]`);
    await page.locator(`#detail[data-id="${a.id}"]`).waitFor();
    expect(await page.textContent('#detail .detail-summary')).toBe(a.summary);
    expect(await page.textContent('#recommendation')).toBe(a.recommendation);
    const evidence = Object.fromEntries(await page.locator('#evidence tr').evaluateAll((trs) =>
      trs.map((tr) => [tr.querySelector('th')!.textContent, tr.querySelector('td')!.textContent])));
    expect(evidence.observed).toBe(String(a.evidence.observed));
    expect(evidence.threshold).toBe(String(a.evidence.threshold));
    expect(Object.keys(evidence)).toEqual(expect.arrayContaining(['observed', 'baseline', 'threshold', 'window']));
    const endpoints = await page.locator('#detail .endpoints li').allTextContents();
    expect(endpoints).toEqual(a.endpoints);
  });

  it('acknowledges it, and the acknowledgement reaches the store', async () => {
    const a = alerts.find((x) => x.detector === 'mqtt.auth_bruteforce')!;
    expect((await store.getAlert(a.id))?.status).toBe('open');
    await page.fill('#status-by', 'night shift');
    await page.fill('#status-note', 'known pen test');
    await page.click('#set-acknowledged');
    await expect.poll(() => page.textContent('#detail-status')).toBe('acknowledged');
    const stored = await store.getAlert(a.id);
    expect(stored).toMatchObject({ status: 'acknowledged', statusBy: 'night shift', statusNote: 'known pen test' });
    // The list row follows, and the status filter finds it.
    expect(await page.textContent(`#alerts tbody tr[data-id="${a.id}"] .status`)).toBe('acknowledged');
    await page.selectOption('#f-status', 'acknowledged');
    await expect.poll(() => rows().count()).toBe(1);
    await page.screenshot({ path: join(shots, 'console-detail.png'), fullPage: true });
    await page.click('#reset-filters');
    await expect.poll(() => rows().count()).toBe(alerts.length);
  });

  it('lists certificates by days to expiry, the expired one first, and not endpoints without one', async () => {
    await page.click('#tab-certificates');
    await expect.poll(() => page.locator('#certificates tbody tr').count()).toBe(2);
    const cells = await page.locator('#certificates tbody tr').evaluateAll((trs) => trs.map((tr) => [tr.children[0].textContent, tr.children[2].textContent]));
    expect(cells).toEqual([['expired 11 d ago', 'old.plant'], ['200 d', 'broker.plant']]);
    expect(await page.textContent('#cert-count')).toBe('2 certificates; 1 endpoint without a certificate (PSK) not listed');
    await page.screenshot({ path: join(shots, 'console-certificates.png'), fullPage: true });
    await page.click('#tab-alerts');
  });

  it('shows hostile alert text as text, never as markup', async () => {
    const hostile = '<img src=x onerror="document.body.dataset.pwned=1">';
    await store.putAlerts([{ ...alerts[0], id: 'f'.repeat(32), summary: `client ${hostile}`, entity: { kind: 'client_id', value: hostile } }], 'plant-1');
    await page.reload();
    await expect.poll(() => rows().count()).toBe(alerts.length + 1);
    expect(await page.textContent(`#alerts tbody tr[data-id="${'f'.repeat(32)}"] td.summary`)).toBe(`client ${hostile}`);
    expect(await page.locator('#alerts img').count()).toBe(0);
    expect(await page.evaluate(() => document.body.dataset.pwned)).toBeUndefined();
  });

  it('logged no script error', () => {
    // The only console errors allowed are the 401s before the token was entered.
    expect(pageErrors.filter((e) => !/401/.test(e))).toEqual([]);
  });

  it('finds its files from the compiled dist/ layout too', () => {
    const compiled = join(__dirname, '..', '..', 'dist', 'src', 'api', 'console.js');
    expect(existsSync(compiled), `${compiled} missing: run tsc first (npm test does)`).toBe(true);
    const r = spawnSync(process.execPath, ['-e', `process.stdout.write(require(${JSON.stringify(compiled)}).consoleDir())`], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(existsSync(join(r.stdout, 'app.js'))).toBe(true);
  });
});
