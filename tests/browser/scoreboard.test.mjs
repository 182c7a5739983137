// The browser test: Debian's chromium, driven by playwright-core, opens the scoreboard page of the demo
// stack (scripts/demo: nats-server, aggregator, looping replay) in the middle of a heat. The replay starts
// (`--from`) just after a lap of a heat whose next lap comes some seconds later, so the page restores the heat
// from the snapshot. The test checks, against values computed from the recording itself:
// - the competitors' names of the heat's races;
// - every lap time shown equals Vantage's presented lap time (LastPresentedRaceLapChangedEvent) of that
//   race and lap (the page derives lap times from the lap passings; the presented ones are Vantage's own);
// - then a new lap appears, with the right time too.
// A screenshot is kept: <build>/tests/browser/artifacts/scoreboard.png (scoreboard-failure.png on failure).
// Environment: OVALSTREAM_BUILD_DIR, OVALSTREAM_BROWSER_TOOLS (node_modules with playwright-core),
// OVALSTREAM_ARTIFACTS_DIR, OVALSTREAM_CHROMIUM (default /usr/bin/chromium), OVALSTREAM_DEMO_FILE.
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { startDemo, waitFor } from './demo-process.mjs';
import { pickRecording } from './pick-recording.mjs';
import { readRecording } from './recording.mjs';
import { formatTime } from '../../examples/scoreboard/scoreboard-state.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const buildDir = process.env.OVALSTREAM_BUILD_DIR || path.join(repo, 'build');
const tools = process.env.OVALSTREAM_BROWSER_TOOLS || path.join(buildDir, 'tests/browser/tools');
const artifacts = process.env.OVALSTREAM_ARTIFACTS_DIR || path.join(buildDir, 'tests/browser/artifacts');
const chromiumPath = process.env.OVALSTREAM_CHROMIUM || '/usr/bin/chromium';
const recording = pickRecording(repo);

// The wall-clock gap the page gets between opening and the next lap: enough to load on a busy machine.
const TARGET_GAP_MS = 12_000;

// Picks a heat and a cut: just after a lap of one of its races (at least one lap done), where that heat's
// next lap comes late enough. Returns the expectations computed from the recording.
function planFrom(records) {
  const heats = new Map(); // key -> {names: Map(raceId -> competitor), laps: [{index, raceId, lapTime, recordIndex}]}
  let best = null;
  records.forEach((record, i) => {
    const e = record.event;
    const key = e.heat ? `${e.distanceId}/${e.heat.round}.${e.heat.number}` : null;
    if (e.typeName === 'HeatActivatedEvent') {
      heats.set(key, { key, names: new Map(e.races.map((r) => [r.race.id, r.race.competitor])), presented: [] });
    } else if (e.typeName === 'HeatClearedEvent' && heats.has(key)) {
      heats.get(key).presented = [];
    } else if (e.typeName === 'LastPresentedRaceLapChangedEvent' && heats.has(key) && e.lap && e.lap.lapTime !== null) {
      heats.get(key).presented.push({ raceId: e.raceId, index: e.lap.index, lapTime: e.lap.lapTime, at: i });
    }
  });
  // The cut with the most laps shown (the more lap times the page must get right, the better) after which
  // the heat's next new lap comes at least 2 s later in the recording; the replay speed makes that gap about
  // TARGET_GAP_MS of wall time.
  for (const heat of heats.values()) {
    for (let k = best ? best.k + 1 : 0; k + 1 < heat.presented.length; k += 1) {
      const cut = heat.presented[k];
      // The next new lap: a race and lap not presented before (not a photo-finish correction).
      const seen = new Set(heat.presented.slice(0, k + 1).map((p) => `${p.raceId}/${p.index}`));
      const next = heat.presented.slice(k + 1).find((p) => !seen.has(`${p.raceId}/${p.index}`));
      if (!next) continue;
      const gapMs = records[next.at].time - records[cut.at].time;
      if (gapMs >= 2000) best = { heat, k, cut, speed: Math.min(20, Math.max(1, gapMs / TARGET_GAP_MS)) };
    }
  }
  if (!best) return null;
  const { heat, cut, speed } = best;
  // Presented lap times by race and index, as of each record: the latest value per (race, index).
  return {
    heatKey: heat.key,
    names: heat.names,
    from: records[cut.at + 1]?.recordedTime ?? records[cut.at].recordedTime,
    speed: Number(speed.toFixed(2)),
    presented: heat.presented,
    cutAt: cut.at,
  };
}

function expectedName(competitor) {
  const parts = [competitor.firstName, competitor.infix, competitor.lastName].filter(Boolean);
  return parts.length ? parts : [competitor.fullName || competitor.name];
}

function presentedAsOf(plan, recordIndex) {
  const map = new Map();
  for (const p of plan.presented) if (p.at <= recordIndex) map.set(`${p.raceId}/${p.index}`, p.lapTime);
  return map;
}

// Every lap time Vantage presented for each race and lap of the heat, formatted: a lap may be presented twice
// (a transponder time, then the photo-finish correction), and the page shows whichever it has seen last.
function presentedValues(plan) {
  const map = new Map();
  for (const p of plan.presented) {
    const key = `${p.raceId}/${p.index}`;
    if (!map.has(key)) map.set(key, new Set());
    map.get(key).add(formatTime(p.lapTime));
  }
  return map;
}

function assertPresented(values, cell, what) {
  const allowed = values.get(`${cell.raceId}/${cell.index}`);
  assert.ok(allowed, `${what}: lap ${cell.index} of race ${cell.raceId} shown but never presented`);
  assert.ok(allowed.has(cell.text), `${what}: lap ${cell.index} of race ${cell.raceId} shows ${cell.text}, presented ${[...allowed].join(' or ')}`);
}

async function shownLapTimes(page) {
  return page.$$eval('section.heat td.lap-time', (cells) =>
    cells.map((c) => ({ raceId: c.dataset.raceId, index: Number(c.dataset.lapIndex), text: c.textContent.trim() })).filter((c) => c.index >= 0),
  );
}

test('the scoreboard page, opened mid-heat, shows the replayed skaters and lap times, then a new lap', { timeout: 115_000, skip: recording.skip }, async (t) => {
  assert.ok(fs.existsSync(chromiumPath), `no browser at ${chromiumPath}: scripts/setup installs Debian's chromium (or set OVALSTREAM_CHROMIUM)`);
  const { chromium } = await import(pathToFileURL(path.join(tools, 'node_modules/playwright-core/index.mjs')).href);
  fs.mkdirSync(artifacts, { recursive: true });
  for (const name of ['scoreboard.png', 'scoreboard-disconnected.png', 'scoreboard-failure.png']) fs.rmSync(path.join(artifacts, name), { force: true });
  const records = readRecording(recording.file, { withTime: true });
  const plan = planFrom(records);
  assert.ok(plan, `${recording.file} has no heat with two laps some seconds apart`);
  t.diagnostic(`recording ${recording.file}: heat ${plan.heatKey}, replay --from ${plan.from} at ${plan.speed}x`);

  // The browser first (its start is the slow part), then the stack.
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    timeout: 60_000,
  });
  let demo = null;
  let page = null;
  let stopped = false;
  try {
    demo = await startDemo({
      repo,
      buildDir,
      args: ['--file', recording.file, '--speed', String(plan.speed), '--from', plan.from],
      log: (line) => t.diagnostic(line),
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const pageErrors = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await waitFor('the aggregator to serve the competition', 30_000, async () => {
      const list = await (await fetch(`${demo.base}/v1/competitions`)).json();
      return list.some((c) => c.competitionId === recording.competitionId);
    });
    // Opened at "/", the page picks the only competition and remembers it in the URL.
    await page.goto(`${demo.base}/`, { timeout: 30_000 });
    await page.waitForFunction((id) => location.hash === `#${id}`, recording.competitionId, { timeout: 20_000 });

    // The heat restored from the snapshot: its races and their names.
    const heatSelector = `section.heat[data-heat="${plan.heatKey.split('/')[1]}"]`;
    await page.waitForSelector(`${heatSelector} td.lap-time`, { timeout: 30_000 });
    for (const [raceId, competitor] of plan.names) {
      const name = await page.textContent(`${heatSelector} [data-race-id="${raceId}"] [data-testid="race-name"]`, { timeout: 10_000 });
      for (const part of expectedName(competitor)) assert.ok(name.includes(part), `race ${raceId}: shown "${name}", expected ${JSON.stringify(part)}`);
    }

    // Every lap time shown is Vantage's presented lap time of that race and lap.
    const values = presentedValues(plan);
    // Each race's latest lap before the cut (a pairs heat shows every lap, a mass start the latest); the
    // snapshot's frames may still be arriving: wait (bounded) until every one of them is on the page.
    const latestAtCut = new Map();
    for (const key of presentedAsOf(plan, plan.cutAt).keys()) {
      const [raceId, index] = key.split('/');
      latestAtCut.set(raceId, Math.max(Number(index), latestAtCut.get(raceId) ?? -1));
    }
    const allRestored = (cells) => [...latestAtCut].every(([raceId, index]) => cells.some((c) => c.raceId === raceId && c.index >= index && c.text));
    const initial = await waitFor('the laps done before the page opened', 20_000, async () => {
      const cells = await shownLapTimes(page);
      return allRestored(cells) && cells;
    });
    for (const cell of initial) assertPresented(values, cell, 'opened mid-heat');
    const shownKeys = new Set(initial.map((c) => `${c.raceId}/${c.index}`));

    // Then a new lap appears (bounded wait), with its presented time.
    const fresh = await waitFor('a new lap on the page', 60_000, async () => {
      const cells = await shownLapTimes(page);
      return cells.find((c) => !shownKeys.has(`${c.raceId}/${c.index}`) && c.text);
    }, 250);
    assertPresented(values, fresh, 'the new lap');
    assert.equal(await page.getAttribute('#connection', 'data-state'), 'live');
    assert.deepEqual(pageErrors, []);
    const shot = path.join(artifacts, 'scoreboard.png');
    await page.screenshot({ path: shot, fullPage: true });
    t.diagnostic(`screenshot: ${shot}`);

    // The connection lost: the page says so (the stack stops under it).
    const result = await demo.stop();
    stopped = true;
    assert.deepEqual(result.leftover, []);
    await page.waitForFunction(() => document.getElementById('connection').dataset.state !== 'live', null, { timeout: 20_000 });
    await page.waitForSelector('#banner:not([hidden])', { timeout: 20_000 });
    assert.match(await page.textContent('#banner'), /Connection to the server lost|Reconnecting/);
    await page.screenshot({ path: path.join(artifacts, 'scoreboard-disconnected.png'), fullPage: true });

    // The server back on the same port: the page reconnects by itself (backoff capped at 15 s) and restores
    // the heat from the new snapshot.
    demo = await startDemo({
      repo,
      buildDir,
      args: ['--file', recording.file, '--speed', String(plan.speed), '--from', plan.from],
      log: (line) => t.diagnostic(line),
      ports: { port: demo.port, metricsPort: demo.metricsPort },
    });
    stopped = false;
    await page.waitForFunction(() => document.getElementById('connection').dataset.state === 'live', null, { timeout: 30_000 });
    await page.waitForSelector(`${heatSelector} td.lap-time`, { timeout: 20_000 });
    assert.equal(await page.isHidden('#banner'), true, 'the lost-connection banner is gone');
    const restored = await waitFor('the laps restored after reconnecting', 20_000, async () => {
      const cells = await shownLapTimes(page);
      return allRestored(cells) && cells;
    });
    for (const cell of restored) assertPresented(values, cell, 'after reconnecting');
    const final = await demo.stop();
    stopped = true;
    assert.deepEqual(final.leftover, []);
  } catch (error) {
    if (page) await page.screenshot({ path: path.join(artifacts, 'scoreboard-failure.png'), fullPage: true }).catch(() => {});
    throw error;
  } finally {
    if (demo && !stopped) await demo.abort();
    await browser.close();
  }
});
