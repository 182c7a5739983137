// The browser test: Debian's chromium, driven by playwright-core, opens the scoreboard page of the demo
// stack (scripts/demo: nats-server, aggregator, looping replay) in the middle of a heat. The replay starts
// (`--from`) just after a lap of a heat whose next lap comes some seconds later, so the page restores the heat
// from the snapshot. The test checks, against values computed from the recording itself:
// - the competitors' names of the heat's races;
// - every lap time shown equals Vantage's presented lap time (LastPresentedRaceLapChangedEvent) of that
//   race and lap (the page derives lap times from the lap passings; the presented ones are Vantage's own);
// - then a new lap appears, with the right time too, and flashes (it came live);
// - resume: the page is served through a TCP proxy that the test cuts just before a lap of the heat; a direct
//   websocket sees the lap the page missed; once the proxy is back, the page resumes exactly (no reset,
//   counted by the aggregator), shows the missed lap with its presented time and did not animate it (it came
//   in the catch-up); a fresh page opened directly shows the same board at the same position;
// - the whole stack stopped and started again (a new stream, so a new epoch): the page gets a reset and
//   restores the heat from the snapshot.
// Screenshots are kept: <build>/tests/browser/artifacts/scoreboard.png (scoreboard-failure.png on failure).
// Environment: OVALSTREAM_BUILD_DIR, OVALSTREAM_BROWSER_TOOLS (node_modules with playwright-core),
// OVALSTREAM_ARTIFACTS_DIR, OVALSTREAM_CHROMIUM (default /usr/bin/chromium), OVALSTREAM_DEMO_FILE.
// Run with node --experimental-websocket (node 20's WebSocket, for the direct socket).
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { startDemo, waitFor, sleep } from './demo-process.mjs';
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
// After that new lap, the lap the page is to miss: a first presentation of a (race, lap) this much later in
// wall time (room for the checks and the screenshot before the cut), at most MISSED_MAX_MS.
const MISSED_MIN_MS = 5_000;
const MISSED_MAX_MS = 30_000;
// The cut comes this long before the lap to miss, so that it is short: the page's retries (0.5 s, 1 s,
// 2 s...) stay frequent and it is back within seconds of the restore.
const CUT_LEAD_MS = 3_000;
// The bound on waiting, while cut, for a lap the page did not see.
const MISSED_WAIT_MS = 45_000;
// The recording must go on this long after the lap to miss: the looping replay must not start over (and
// run the same laps again) while the test looks at the resumed page.
const RUN_ON_MS = 100_000;

// Picks a heat and a cut: just after a lap of one of its races (at least one lap done), where that heat's
// next lap comes late enough, and a later lap for the page to miss. Returns the expectations computed from
// the recording.
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
  // TARGET_GAP_MS of wall time. Then a new lap MISSED_MIN_MS to MISSED_MAX_MS of wall time after that one, with
  // RUN_ON_MS of recording after it.
  const end = records[records.length - 1].time;
  for (const heat of heats.values()) {
    // A new lap: the first presentation of a race and lap (not a photo-finish correction).
    const firstAt = new Map();
    for (const p of heat.presented) if (!firstAt.has(`${p.raceId}/${p.index}`)) firstAt.set(`${p.raceId}/${p.index}`, p.at);
    const isNew = (p) => firstAt.get(`${p.raceId}/${p.index}`) === p.at;
    for (let k = best ? best.k + 1 : 0; k + 1 < heat.presented.length; k += 1) {
      const cut = heat.presented[k];
      const next = heat.presented.slice(k + 1).find(isNew);
      if (!next) continue;
      const gapMs = records[next.at].time - records[cut.at].time;
      if (gapMs < 2000) continue;
      const speed = Number(Math.min(20, Math.max(1, gapMs / TARGET_GAP_MS)).toFixed(2));
      const wallAfterNext = (p) => (records[p.at].time - records[next.at].time) / speed;
      const missed = heat.presented.find((p) => p.at > next.at && isNew(p) && wallAfterNext(p) >= MISSED_MIN_MS);
      if (!missed || wallAfterNext(missed) > MISSED_MAX_MS || (end - records[missed.at].time) / speed < RUN_ON_MS) continue;
      best = { heat, k, cut, next, missed, speed, missedAfterMs: Math.round(wallAfterNext(missed)) };
    }
  }
  if (!best) return null;
  const { heat, cut, next, missed, speed, missedAfterMs } = best;
  return {
    heatKey: heat.key,
    names: heat.names,
    from: records[cut.at + 1]?.recordedTime ?? records[cut.at].recordedTime,
    speed,
    presented: heat.presented,
    cutAt: cut.at,
    nextKey: `${next.raceId}/${next.index}`,
    missedKey: `${missed.raceId}/${missed.index}`,
    missedAfterMs, // wall time from the next new lap to the lap to miss
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

// A TCP proxy on a free loopback port to `targetPort`: HTTP and websockets alike. cut() destroys every open
// connection and, until restore(), every new one at once.
function startProxy(targetPort) {
  const pairs = new Set();
  let cut = false;
  const server = net.createServer((client) => {
    if (cut) {
      client.destroy();
      return;
    }
    const upstream = net.connect(targetPort, '127.0.0.1');
    const pair = { client, upstream };
    pairs.add(pair);
    const close = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    for (const socket of [client, upstream]) {
      socket.on('error', close);
      socket.on('close', close);
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolve({
        port,
        base: `http://127.0.0.1:${port}`,
        cut() {
          cut = true;
          for (const { client, upstream } of pairs) {
            client.destroy();
            upstream.destroy();
          }
          pairs.clear();
        },
        restore() {
          cut = false;
        },
        close() {
          this.cut();
          return new Promise((done) => server.close(() => done()));
        },
      });
    });
  });
}

// A direct websocket on the competition with positions: its live presented laps, each with the position of
// the batch it came in (the aggregator sends the same batches to every client with positions).
function watchCompetition(url) {
  const watch = { live: false, position: null, presented: [], batch: [], error: null };
  const socket = new WebSocket(url);
  socket.onerror = (event) => {
    watch.error = event.message || 'websocket error';
  };
  socket.onmessage = (message) => {
    let frame;
    try {
      frame = JSON.parse(message.data);
    } catch {
      return;
    }
    if (frame && typeof frame === 'object' && Object.hasOwn(frame, 'ovalstream')) {
      if (frame.ovalstream === 'live' || frame.ovalstream === 'position') {
        for (const entry of watch.batch) entry.position = frame.position;
        watch.batch = [];
        watch.position = frame.position;
        if (frame.ovalstream === 'live') watch.live = true;
      }
      return;
    }
    // The snapshot is what any page may have; only live laps count.
    if (!watch.live || frame.typeName !== 'LastPresentedRaceLapChangedEvent' || !frame.lap || !Number.isInteger(frame.lap.index)) return;
    const entry = { raceId: frame.raceId, index: frame.lap.index, key: `${frame.raceId}/${frame.lap.index}`, receivedAt: Date.now(), position: null };
    watch.presented.push(entry);
    watch.batch.push(entry);
  };
  watch.close = () => socket.close();
  return watch;
}

// The page's test hooks, after the board of its latest frames is rendered.
async function pageStatus(page) {
  return page.evaluate(async () => {
    await Promise.race([
      new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))),
      new Promise((resolve) => setTimeout(resolve, 1000)),
    ]);
    const data = document.body.dataset;
    return {
      stream: data.stream,
      position: data.position ? Number(data.position) : null,
      resumes: Number(data.resumes),
      resets: Number(data.resets),
      connection: document.getElementById('connection').dataset.state,
      animations: window.ovalstreamAnimations.map(({ raceId, lapIndex, kind }) => ({ raceId, lapIndex, kind })),
    };
  });
}

// The rendered board and the position it stands at, read at once.
async function boardAt(page) {
  return page.evaluate(() => ({
    stream: document.body.dataset.stream,
    position: document.body.dataset.position,
    text: document.getElementById('board').textContent,
  }));
}

async function resumeMetric(metricsPort, outcome) {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const match = new RegExp(`^ovalstream_resumes_total\\{[^}]*outcome="${outcome}"[^}]*\\}\\s+(\\S+)`, 'm').exec(text);
  return match ? Number(match[1]) : null;
}

async function shownLapTimes(page) {
  return page.$$eval('section.heat td.lap-time', (cells) =>
    cells.map((c) => ({ raceId: c.dataset.raceId, index: Number(c.dataset.lapIndex), text: c.textContent.trim() })).filter((c) => c.index >= 0),
  );
}

test('the scoreboard page, opened mid-heat, shows the replayed skaters and lap times, a new lap, and resumes after a cut', { timeout: 180_000, skip: recording.skip }, async (t) => {
  assert.ok(fs.existsSync(chromiumPath), `no browser at ${chromiumPath}: scripts/setup installs Debian's chromium (or set OVALSTREAM_CHROMIUM)`);
  assert.equal(typeof WebSocket, 'function', 'no global WebSocket: run node with --experimental-websocket');
  const { chromium } = await import(pathToFileURL(path.join(tools, 'node_modules/playwright-core/index.mjs')).href);
  fs.mkdirSync(artifacts, { recursive: true });
  for (const name of ['scoreboard.png', 'scoreboard-resumed.png', 'scoreboard-disconnected.png', 'scoreboard-failure.png']) fs.rmSync(path.join(artifacts, name), { force: true });
  const records = readRecording(recording.file, { withTime: true });
  const plan = planFrom(records);
  assert.ok(plan, `${recording.file} has no heat with two laps some seconds apart, then a lap ${MISSED_MIN_MS / 1000} to ${MISSED_MAX_MS / 1000} s later and ${RUN_ON_MS / 1000} s of recording after it (the resume check needs them)`);
  t.diagnostic(`recording ${recording.file}: heat ${plan.heatKey}, replay --from ${plan.from} at ${plan.speed}x; lap to miss ${plan.missedKey}, ${plan.missedAfterMs} ms after ${plan.nextKey}`);

  // The browser first (its start is the slow part), then the stack.
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    timeout: 60_000,
  });
  let demo = null;
  let page = null;
  let proxy = null;
  let watch = null;
  let stopped = false;
  try {
    demo = await startDemo({
      repo,
      buildDir,
      args: ['--file', recording.file, '--speed', String(plan.speed), '--from', plan.from],
      log: (line) => t.diagnostic(line),
    });
    // The page goes through the proxy (its own origin: HTTP and websockets alike), so the test can cut it.
    proxy = await startProxy(demo.port);
    page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const pageErrors = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await waitFor('the aggregator to serve the competition', 30_000, async () => {
      const list = await (await fetch(`${demo.base}/v1/competitions`)).json();
      return list.some((c) => c.competitionId === recording.competitionId);
    });
    // The direct socket, live before the page's first new lap: it times the cut and sees what the page misses.
    watch = watchCompetition(`ws://127.0.0.1:${demo.port}/v1/competitions/${recording.competitionId}?positions=1`);
    // Opened at "/", the page picks the only competition and remembers it in the URL.
    await page.goto(`${proxy.base}/`, { timeout: 30_000 });
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
    // snapshot's frames may still be arriving: wait (bounded) until every one of them is on the page, and
    // until the page is live (past the snapshot: what follows is live, and flashes).
    const latestAtCut = new Map();
    for (const key of presentedAsOf(plan, plan.cutAt).keys()) {
      const [raceId, index] = key.split('/');
      latestAtCut.set(raceId, Math.max(Number(index), latestAtCut.get(raceId) ?? -1));
    }
    const allRestored = (cells) => [...latestAtCut].every(([raceId, index]) => cells.some((c) => c.raceId === raceId && c.index >= index && c.text));
    await page.waitForFunction(() => document.body.dataset.stream === 'live', null, { timeout: 20_000 });
    const initial = await waitFor('the laps done before the page opened', 20_000, async () => {
      const cells = await shownLapTimes(page);
      return allRestored(cells) && cells;
    });
    for (const cell of initial) assertPresented(values, cell, 'opened mid-heat');
    const shownKeys = new Set(initial.map((c) => `${c.raceId}/${c.index}`));
    const flashedEarly = (await pageStatus(page)).animations.filter((a) => a.lapIndex <= (latestAtCut.get(a.raceId) ?? -1));
    assert.deepEqual(flashedEarly, [], 'nothing of the snapshot flashes');

    // Then a new lap appears (bounded wait), with its presented time; it came live, so it flashed.
    const fresh = await waitFor('a new lap on the page', 60_000, async () => {
      const cells = await shownLapTimes(page);
      return cells.find((c) => !shownKeys.has(`${c.raceId}/${c.index}`) && c.text);
    }, 250);
    const freshAt = Date.now();
    assertPresented(values, fresh, 'the new lap');
    assert.equal(await page.getAttribute('#connection', 'data-state'), 'live');
    const live = await pageStatus(page);
    assert.ok(live.animations.some((a) => a.raceId === fresh.raceId && a.lapIndex === fresh.index && a.kind === 'lap'), `the new lap ${fresh.raceId}/${fresh.index} flashed: ${JSON.stringify(live.animations)}`);
    assert.deepEqual(pageErrors, []);
    const shot = path.join(artifacts, 'scoreboard.png');
    await page.screenshot({ path: shot, fullPage: true });
    t.diagnostic(`screenshot: ${shot}`);

    // ---- resume: cut the page's connection just before a lap, restore it once the lap is out -------------
    assert.ok(watch.live, `the direct socket is not live (${watch.error ?? 'no live frame'})`);
    // Timed from the plan's new lap as the direct socket saw it (else from the page's), CUT_LEAD_MS early.
    const anchor = watch.presented.find((p) => p.key === plan.nextKey)?.receivedAt ?? freshAt;
    const cutIn = anchor + plan.missedAfterMs - CUT_LEAD_MS - Date.now();
    t.diagnostic(`cutting the page's connection in ${cutIn} ms`);
    if (cutIn > 0) await sleep(Math.min(cutIn, MISSED_MAX_MS));
    proxy.cut();
    const cutAt = Date.now();
    await page.waitForFunction(() => document.getElementById('connection').dataset.state !== 'live', null, { timeout: 10_000 });
    const before = await pageStatus(page);
    const beforeCells = await shownLapTimes(page);
    const seenKeys = new Set(beforeCells.map((c) => `${c.raceId}/${c.index}`));
    assert.ok(Number.isSafeInteger(before.position), `the page knows its position before the cut (data-position ${before.position})`);
    assert.notEqual(before.stream, 'live');
    t.diagnostic(`cut at position ${before.position}: ${beforeCells.length} lap cells shown, ${before.animations.length} animations, ${before.resumes} resumes`);

    // While cut: a new lap of the heat, in a batch after the page's position, that the page did not show.
    const isMissed = (p) => p.position !== null && p.position > before.position && plan.names.has(p.raceId) && !seenKeys.has(p.key);
    await waitFor(`a lap of heat ${plan.heatKey} after the cut (the recording has none within ${MISSED_WAIT_MS / 1000} s at ${plan.speed}x: change the plan)`, MISSED_WAIT_MS, () => watch.presented.some(isMissed), 100);
    const restorePosition = watch.position;
    proxy.restore();
    // Every lap the page missed up to the restore comes in its catch-up (it resumes after the restore).
    const missed = watch.presented.filter((p) => isMissed(p) && p.position <= restorePosition);
    const missedKeys = new Set(missed.map((p) => p.key));
    t.diagnostic(`restored after ${Date.now() - cutAt} ms at position ${restorePosition}: missed laps ${[...missedKeys].join(', ')}`);

    // The page resumes exactly: back to live, one more resume, no reset.
    await page.waitForFunction((resumes) => document.body.dataset.stream === 'live' && Number(document.body.dataset.resumes) > resumes, before.resumes, { timeout: 30_000 });
    await page.waitForFunction(() => document.getElementById('connection').dataset.state === 'live', null, { timeout: 10_000 });
    const after = await pageStatus(page);
    assert.equal(after.resumes, before.resumes + 1, 'one exact resume');
    assert.equal(after.resets, before.resets, 'no reset: an exact resume, not a snapshot');
    // The missed lap is shown, with its presented time (the first one: shown longest in a mass start).
    const first = missed[0];
    const missedCell = await waitFor(`the missed lap ${first.key} on the page`, 10_000, async () => {
      const cells = await shownLapTimes(page);
      return cells.find((c) => c.raceId === first.raceId && c.index === first.index && c.text);
    });
    assertPresented(values, missedCell, 'the missed lap');
    for (const cell of await shownLapTimes(page)) assertPresented(values, cell, 'after resuming');
    // No flash for what came in the catch-up, and none twice.
    const added = after.animations.slice(before.animations.length);
    const replayed = added.filter((a) => missedKeys.has(`${a.raceId}/${a.lapIndex}`));
    assert.deepEqual(replayed, [], 'laps of the catch-up do not flash');
    const fired = after.animations.map((a) => `${a.raceId}/${a.lapIndex}/${a.kind}`);
    assert.deepEqual(fired.filter((key, i) => fired.indexOf(key) !== i), [], 'no lap or finish flashed twice');
    const exact = await resumeMetric(demo.metricsPort, 'exact');
    assert.ok(exact >= 1, `ovalstream_resumes_total{outcome="exact"} is ${exact}`);
    watch.close();
    watch = null;
    await page.screenshot({ path: path.join(artifacts, 'scoreboard-resumed.png'), fullPage: true });

    // A fresh page opened directly shows the same board at the same position. Events keep coming: compare
    // only readings at one position (the first page's read before and after the second's).
    const direct = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    try {
      direct.on('pageerror', (error) => pageErrors.push(error.message));
      await direct.goto(`${demo.base}/#${recording.competitionId}`, { timeout: 30_000 });
      await direct.waitForFunction(() => document.body.dataset.stream === 'live', null, { timeout: 20_000 });
      let differ = null;
      await waitFor('both pages at one position, showing the same board', 30_000, async () => {
        const a = await boardAt(page);
        const b = await boardAt(direct);
        const again = await boardAt(page);
        if (a.stream !== 'live' || b.stream !== 'live' || !a.position || a.position !== b.position || again.position !== a.position) return false;
        if (a.text !== b.text) differ = { position: a.position, resumed: a.text, fresh: b.text };
        return a.text === b.text;
      }, 100).catch((error) => {
        throw differ ? new Error(`${error.message}; at position ${differ.position} the resumed page shows\n${differ.resumed}\nand the fresh one\n${differ.fresh}`) : error;
      });
    } finally {
      await direct.close();
    }
    assert.deepEqual(pageErrors, []);

    // The connection lost: the page says so (the stack stops under it).
    const resetsBefore = (await pageStatus(page)).resets;
    const result = await demo.stop();
    stopped = true;
    assert.deepEqual(result.leftover, []);
    await page.waitForFunction(() => document.getElementById('connection').dataset.state !== 'live', null, { timeout: 20_000 });
    await page.waitForSelector('#banner:not([hidden])', { timeout: 20_000 });
    assert.match(await page.textContent('#banner'), /Connection to the server lost|Reconnecting/);
    await page.screenshot({ path: path.join(artifacts, 'scoreboard-disconnected.png'), fullPage: true });

    // The server back on the same port: the page reconnects by itself (backoff capped at 15 s). The new
    // stream has another epoch, so its resume gets a reset, and it restores the heat from the new snapshot.
    demo = await startDemo({
      repo,
      buildDir,
      args: ['--file', recording.file, '--speed', String(plan.speed), '--from', plan.from],
      log: (line) => t.diagnostic(line),
      ports: { port: demo.port, metricsPort: demo.metricsPort },
    });
    stopped = false;
    await page.waitForFunction(() => document.getElementById('connection').dataset.state === 'live', null, { timeout: 30_000 });
    await page.waitForFunction((resets) => Number(document.body.dataset.resets) > resets, resetsBefore, { timeout: 20_000 });
    await page.waitForSelector(`${heatSelector} td.lap-time`, { timeout: 20_000 });
    assert.equal(await page.isHidden('#banner'), true, 'the lost-connection banner is gone');
    const restored = await waitFor('the laps restored after reconnecting', 20_000, async () => {
      const cells = await shownLapTimes(page);
      return allRestored(cells) && cells;
    });
    for (const cell of restored) assertPresented(values, cell, 'after reconnecting');
    assert.ok((await pageStatus(page)).resets >= 1, 'the new stream reset the page');
    assert.deepEqual(pageErrors, []);
    const final = await demo.stop();
    stopped = true;
    assert.deepEqual(final.leftover, []);
  } catch (error) {
    if (page) await page.screenshot({ path: path.join(artifacts, 'scoreboard-failure.png'), fullPage: true }).catch(() => {});
    throw error;
  } finally {
    if (watch) watch.close();
    if (proxy) await proxy.close();
    if (demo && !stopped) await demo.abort();
    await browser.close();
  }
});
