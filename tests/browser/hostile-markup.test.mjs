// The scoreboard page against hostile events: every string field of every event of the example competition
// (ids, which route the event, aside) gets markup appended, and the numbers the page prints (passedLength,
// roundsToGo, startNumber, ...) become markup strings. Replayed through the demo stack, the page must show the
// markup as text and interpret none of it: no element from an event, no handler run. The page is also opened
// with ?server= pointing at another origin (a loopback port), which it must ignore.
// Environment: as scoreboard.test.mjs (OVALSTREAM_BUILD_DIR, OVALSTREAM_BROWSER_TOOLS, OVALSTREAM_CHROMIUM).
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { startDemo, waitFor } from './demo-process.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const buildDir = process.env.OVALSTREAM_BUILD_DIR || path.join(repo, 'build');
const tools = process.env.OVALSTREAM_BROWSER_TOOLS || path.join(buildDir, 'tests/browser/tools');
const chromiumPath = process.env.OVALSTREAM_CHROMIUM || '/usr/bin/chromium';

const MARKUP = '<img src=x data-injected onerror=__xss=1>'; // short: the largest event has 7,000 strings
// Numbers the page prints: sent as markup strings, as a hostile publisher may (heat round and number
// route the event and stay numbers).
const PRINTED_NUMBERS = new Set(['passedLength', 'roundsToGo', 'startNumber', 'points', 'ranking']);

function isRouting(key) {
  return key === 'typeName' || key === '_time' || /id$/i.test(key);
}

function poison(value, key = '') {
  if (Array.isArray(value)) return value.map((item) => poison(item, key));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, poison(v, k)]));
  }
  if (isRouting(key)) return value;
  if (typeof value === 'string') return `${value}${MARKUP}`;
  if (typeof value === 'number' && PRINTED_NUMBERS.has(key)) return `${value}${MARKUP}`;
  return value;
}

test('markup in every event string field is shown as text, never interpreted; ?server= of another origin is ignored', { timeout: 140_000 }, async (t) => {
  assert.ok(fs.existsSync(chromiumPath), `no browser at ${chromiumPath}: scripts/setup installs Debian's chromium (or set OVALSTREAM_CHROMIUM)`);
  const { chromium } = await import(pathToFileURL(path.join(tools, 'node_modules/playwright-core/index.mjs')).href);

  const source = fs.readFileSync(path.join(repo, 'examples/competition.jsonl'), 'utf8').split('\n').filter(Boolean);
  const poisoned = source.map((line) => JSON.stringify(poison(JSON.parse(line))));
  const competitionId = JSON.parse(source.find((line) => line.includes('"CompetitionActivatedEvent"'))).competitionId;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ovalstream-hostile-markup-'));
  const file = path.join(work, 'hostile.jsonl');
  fs.writeFileSync(file, `${poisoned.join('\n')}\n`);

  const browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    timeout: 60_000,
  });
  let demo = null;
  try {
    demo = await startDemo({ repo, buildDir, args: ['--file', file, '--speed', '40'], log: (line) => t.diagnostic(line) });
    await waitFor('the aggregator to serve the competition', 30_000, async () => {
      const list = await (await fetch(`${demo.base}/v1/competitions`)).json();
      return list.some((c) => c.competitionId === competitionId);
    });
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const pageErrors = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    // Another origin (loopback, a port nobody listens on): the page must stay on its own.
    await page.goto(`${demo.base}/?server=${encodeURIComponent('ws://127.0.0.1:9')}#${competitionId}`, { timeout: 30_000 });
    assert.equal(await page.evaluate(() => document.body.dataset.serverRefused), 'true', '?server= of another origin is refused');
    await page.waitForFunction(() => document.getElementById('connection').dataset.state === 'live', null, { timeout: 20_000 });

    // The poisoned texts arrive and are shown literally: the competition's name and a heat's skaters.
    await page.waitForFunction(() => document.getElementById('competition-name').textContent.includes('<img src=x'), null, { timeout: 30_000 });
    await page.waitForSelector('section.heat [data-testid="race-name"], section.heat td.name', { timeout: 60_000 });
    await page.waitForFunction(
      () => [...document.querySelectorAll('section.heat [data-testid="laps-done"]')].some((cell) => cell.textContent.includes('<b data-injected')) ||
        [...document.querySelectorAll('section.heat .stats')].some((cell) => cell.textContent.includes('<img')),
      null,
      { timeout: 60_000 },
    ).catch(() => t.diagnostic('no lap with a poisoned passedLength shown within 60 s; checking what is shown'));

    const found = await page.evaluate(() => ({
      injected: document.querySelectorAll('[data-injected]').length,
      images: document.querySelectorAll('img').length,
      handlerRan: window.__xss ?? 0,
      nameText: document.getElementById('competition-name').textContent,
      raceNames: [...document.querySelectorAll('[data-testid="race-name"]')].map((n) => n.textContent).slice(0, 4),
      options: [...document.querySelectorAll('#competition-picker option')].map((o) => o.textContent),
    }));
    t.diagnostic(JSON.stringify(found));
    if (pageErrors.length) t.diagnostic(`page errors: ${pageErrors.join(' | ')}`);
    assert.equal(found.injected, 0, 'no element from an event exists');
    assert.equal(found.images, 0, 'no <img> from an event exists');
    assert.equal(found.handlerRan, 0, 'no handler from an event ran');
    assert.ok(found.nameText.includes(MARKUP), 'the competition name shows the markup as text');
    assert.ok(found.raceNames.some((name) => name.includes('<img src=x')), 'skaters\' names show the markup as text');
    assert.ok(found.options.some((text) => text.includes('<img src=x')), 'the picker shows the markup as text');
    const result = await demo.stop();
    demo = null;
    assert.deepEqual(result.leftover, []);
  } finally {
    if (demo) await demo.abort();
    await browser.close();
    fs.rmSync(work, { recursive: true, force: true });
  }
});
