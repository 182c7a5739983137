// The scoreboard page against an aggregator run with --auth required (issue 15): the page takes its token
// from the URL's fragment (#<id>&token=<JWT>), offers it as the websocket subprotocol bearer.<JWT>, and
// shows the board; the token never appears in a URL the page requests (so in no access log) nor in the
// aggregator's log. Without a token, or with a token for another competition, the board stays empty. A token
// that expires gets the socket closed with 4001, which the page reports; a new token put into the fragment
// brings the board back at once.
// Tokens are HS256, signed here with node's crypto (OpenSSL's HMAC), checked by the aggregator with libjwt.
// Environment: as scoreboard.test.mjs (OVALSTREAM_BUILD_DIR, OVALSTREAM_BROWSER_TOOLS, OVALSTREAM_CHROMIUM).
import test from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { startDemo, waitFor, sleep } from './demo-process.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const buildDir = process.env.OVALSTREAM_BUILD_DIR || path.join(repo, 'build');
const tools = process.env.OVALSTREAM_BROWSER_TOOLS || path.join(buildDir, 'tests/browser/tools');
const chromiumPath = process.env.OVALSTREAM_CHROMIUM || '/usr/bin/chromium';

const SECRET = crypto.randomBytes(48).toString('base64');

function base64url(value) {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}

function mint(competitions, ttlSeconds) {
  const signingInput = `${base64url({ alg: 'HS256', typ: 'JWT' })}.${base64url({ exp: Math.floor(Date.now() / 1000) + ttlSeconds, competitions })}`;
  return `${signingInput}.${crypto.createHmac('sha256', SECRET).update(signingInput).digest('base64url')}`;
}

test('the page reads with a token from its fragment; no token or another competition\'s shows nothing; 4001 on expiry, a new token resumes', { timeout: 170_000 }, async (t) => {
  assert.ok(fs.existsSync(chromiumPath), `no browser at ${chromiumPath}: scripts/setup installs Debian's chromium (or set OVALSTREAM_CHROMIUM)`);
  const { chromium } = await import(pathToFileURL(path.join(tools, 'node_modules/playwright-core/index.mjs')).href);
  const source = fs.readFileSync(path.join(repo, 'examples/competition.jsonl'), 'utf8').split('\n').filter(Boolean);
  const activation = JSON.parse(source.find((line) => line.includes('"CompetitionActivatedEvent"')));
  const competitionId = activation.competitionId;
  const competitionName = activation.competition.name;

  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ovalstream-token-'));
  const secretFile = path.join(work, 'hmac-secret');
  fs.writeFileSync(secretFile, `${SECRET}\n`, { mode: 0o600 });
  // scripts/demo's aggregator reads its flags from the environment too (OVALSTREAM_<FLAG>).
  Object.assign(process.env, {
    OVALSTREAM_AUTH: 'required',
    OVALSTREAM_AUTH_HMAC_SECRET_FILE: secretFile,
    OVALSTREAM_AUTH_CLOCK_SKEW: '0s',
  });

  const browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    timeout: 60_000,
  });
  let demo = null;
  const tokens = [];
  try {
    demo = await startDemo({ repo, buildDir, args: ['--speed', '10'], log: (line) => t.diagnostic(line) });
    const everything = mint('*', 600);
    tokens.push(everything);
    const unauthorized = await fetch(`${demo.base}/v1/competitions`);
    assert.equal(unauthorized.status, 401, 'the stack runs with --auth required');
    await waitFor('the aggregator to serve the competition', 30_000, async () => {
      const list = await (await fetch(`${demo.base}/v1/competitions`, { headers: { Authorization: `Bearer ${everything}` } })).json();
      return list.some((c) => c.competitionId === competitionId);
    });

    const open = async (fragment) => {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const urls = [];
      page.on('request', (request) => urls.push(request.url()));
      page.on('websocket', (socket) => urls.push(socket.url()));
      await page.goto(`${demo.base}/${fragment}`, { timeout: 30_000 });
      return { page, urls };
    };
    const boardState = (page) => page.evaluate(() => ({
      state: document.getElementById('connection').dataset.state,
      name: document.getElementById('competition-name').textContent,
      // The competitions the list socket delivered (the picker also shows the chosen id, by its id).
      listed: [...document.querySelectorAll('#competition-picker option')].filter((o) => o.value && o.textContent !== o.value).map((o) => o.textContent),
      expired: document.body.dataset.tokenExpired ?? '',
      banner: document.getElementById('banner').textContent,
    }));

    // A token for the competition: the board is served.
    const token = mint([competitionId], 600);
    tokens.push(token);
    const reader = await open(`#${competitionId}&token=${token}`);
    await reader.page.waitForFunction(() => document.getElementById('connection').dataset.state === 'live', null, { timeout: 20_000 });
    await reader.page.waitForFunction(() => !document.getElementById('competition-name').textContent.startsWith('waiting'), null, { timeout: 20_000 });
    const served = await boardState(reader.page);
    t.diagnostic(`with the token: ${JSON.stringify(served)}`);
    assert.deepEqual(served.listed, [competitionName], 'the picker lists the competition');
    assert.ok(reader.urls.some((url) => url.includes('/v1/competitions')), 'the page opened its sockets');
    for (const url of reader.urls) assert.ok(!url.includes(token), `the token is in a requested URL: ${url}`);
    assert.ok((await reader.page.evaluate(() => location.hash)).includes('token='), 'the token stays in the fragment (a reload keeps it)');

    // No token, and a token for another competition: nothing of the competition is shown.
    const anonymous = await open(`#${competitionId}`);
    const otherToken = mint(['another-competition'], 600);
    tokens.push(otherToken);
    const other = await open(`#${competitionId}&token=${otherToken}`);
    await sleep(4000);
    for (const [label, { page }] of [['no token', anonymous], ['another competition\'s token', other]]) {
      const shown = await boardState(page);
      t.diagnostic(`${label}: ${JSON.stringify(shown)}`);
      assert.notEqual(shown.state, 'live', `${label}: the board's socket is refused`);
      assert.ok(shown.name.startsWith('waiting for'), `${label}: no competition shown`);
      assert.deepEqual(shown.listed, [], `${label}: the list hides the competition`);
      assert.equal(await page.locator('section.heat').count(), 0, `${label}: no heat shown`);
    }

    // A token about to expire: the board is live, then closed with 4001, which the page reports.
    const shortToken = mint([competitionId], 5);
    tokens.push(shortToken);
    const expiring = await open(`#${competitionId}&token=${shortToken}`);
    await expiring.page.waitForFunction(() => document.getElementById('connection').dataset.state === 'live', null, { timeout: 20_000 });
    await expiring.page.waitForFunction(() => document.body.dataset.tokenExpired === 'true', null, { timeout: 15_000 });
    const expired = await boardState(expiring.page);
    t.diagnostic(`after expiry: ${JSON.stringify(expired)}`);
    assert.match(expired.banner, /token expired \(4001\)/, 'the page says why');
    // A new token in the fragment: the page connects again with it at once.
    const renewed = mint([competitionId], 600);
    tokens.push(renewed);
    await expiring.page.evaluate((fragment) => { location.hash = fragment; }, `${competitionId}&token=${renewed}`);
    await expiring.page.waitForFunction(() => document.getElementById('connection').dataset.state === 'live' && !document.body.dataset.tokenExpired, null, { timeout: 10_000 });
    for (const url of expiring.urls) assert.ok(!tokens.some((tk) => url.includes(tk)), `a token is in a requested URL: ${url}`);

    await reader.page.screenshot({ path: path.join(process.env.OVALSTREAM_ARTIFACTS_DIR || work, 'scoreboard-token.png') }).catch(() => {});
    const log = fs.readFileSync(path.join(demo.work, 'aggregator.log'), 'utf8');
    for (const tk of tokens) assert.ok(!log.includes(tk), 'a token is in the aggregator\'s log');
    assert.ok(!log.includes(SECRET), 'the secret is in the aggregator\'s log');

    const result = await demo.stop();
    demo = null;
    assert.deepEqual(result.leftover, []);
  } finally {
    if (demo) await demo.abort();
    await browser.close();
    fs.rmSync(work, { recursive: true, force: true });
  }
});
