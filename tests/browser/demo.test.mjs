// The demo command itself (scripts/demo, the README's first command): started with the build directory's
// binaries, checked over HTTP and websocket (the page, the activations, the state of the competition,
// /metrics), stopped with SIGTERM: it must exit promptly, leave none of its processes running and remove its
// temporary directory. Run by CTest: node --experimental-websocket --test demo.test.mjs
// Environment: OVALSTREAM_BUILD_DIR (binaries), OVALSTREAM_DEMO_FILE (the recording; default
// examples/competition.jsonl, else the real recording, else the test is skipped).
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { startDemo, waitFor } from './demo-process.mjs';
import { pickRecording } from './pick-recording.mjs';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const buildDir = process.env.OVALSTREAM_BUILD_DIR || path.join(repo, 'build');
const recording = pickRecording(repo);

function firstFrame(url, timeoutMs) {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error(`no frame from ${url} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.onmessage = (message) => {
      clearTimeout(timer);
      socket.close();
      resolve(JSON.parse(message.data));
    };
    socket.onerror = () => {
      clearTimeout(timer);
      reject(new Error(`websocket error on ${url}`));
    };
  });
}

test('scripts/demo serves the page, the competitions and /metrics, and stops cleanly on SIGTERM', { timeout: 150_000, skip: recording.skip }, async () => {
  const demo = await startDemo({ repo, buildDir, args: ['--file', recording.file, '--speed', '20'], log: (line) => console.log(line) });
  let stopped = false;
  try {
    const page = await fetch(`${demo.base}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /scoreboard\.js/);
    const script = await fetch(`${demo.base}/scoreboard-state.js`);
    assert.equal(script.status, 200);
    assert.match(script.headers.get('content-type'), /javascript/);

    const activation = await firstFrame(`ws://127.0.0.1:${demo.port}/v1/competitions`, 30_000);
    assert.equal(activation.typeName, 'CompetitionActivatedEvent');
    assert.equal(activation.competitionId, recording.competitionId);
    const snapshot = await firstFrame(`ws://127.0.0.1:${demo.port}/v1/competitions/${recording.competitionId}`, 30_000);
    assert.equal(snapshot.typeName, 'CompetitionActivatedEvent', 'a snapshot starts with the activation');

    // The replay moves on: the JSON state view gains a distance within a bounded wait.
    await waitFor('a distance in the state view', 60_000, async () => {
      const response = await fetch(`${demo.base}/v1/competitions/${recording.competitionId}`);
      const body = await response.json();
      return body && body.distance;
    });
    const metrics = await (await fetch(`http://127.0.0.1:${demo.metricsPort}/metrics`)).text();
    assert.match(metrics, /^ovalstream_/m);

    const result = await demo.stop();
    stopped = true;
    assert.equal(result.signal, null, `scripts/demo ended by a signal: ${JSON.stringify(result)}`);
    assert.equal(result.code, 143, 'exit status after SIGTERM');
    assert.deepEqual(result.leftover, [], 'processes of the demo still running');
    assert.equal(result.workLeft, false, `temporary directory ${demo.work} not removed`);
    assert.match(demo.output(), /demo: stopped/);
  } finally {
    if (!stopped) await demo.abort();
  }
});

test('scripts/demo refuses a missing recording and a bad option with a clear message', { timeout: 30_000 }, async () => {
  const { spawnSync } = await import('node:child_process');
  const run = (args) => spawnSync(path.join(repo, 'scripts/demo'), ['--no-setup', '--no-build', ...args], { encoding: 'utf8', timeout: 20_000 });
  const missing = run(['--file', path.join(fs.mkdtempSync('/tmp/ovalstream-demo-test-'), 'none.jsonl')]);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /no recording at/);
  const bad = run(['--speed', 'fast']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /bad --speed/);
});
