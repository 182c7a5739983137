// Starts scripts/demo for a test (its own process group, free loopback ports, bounded waits) and stops it
// with SIGTERM, checking that it leaves no process and no temporary directory behind.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

// Polls `check` (async, returns a truthy value when done) every `everyMs` until `timeoutMs`.
export async function waitFor(what, timeoutMs, check, everyMs = 200) {
  const deadline = Date.now() + timeoutMs;
  let lastError = null;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    await sleep(everyMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? ` (last error: ${lastError.message})` : ''}`);
}

// Runs scripts/demo with `args` (plus --no-setup --no-build --build-dir); resolves when it printed its pids.
export async function startDemo({ repo, buildDir, args, startTimeoutMs = 90_000, log = () => {}, ports = null }) {
  const port = ports ? ports.port : await freePort();
  let metricsPort = ports ? ports.metricsPort : await freePort();
  while (metricsPort === port) metricsPort = await freePort();
  const child = spawn(
    path.join(repo, 'scripts/demo'),
    ['--no-setup', '--no-build', '--build-dir', buildDir, '--port', String(port), '--metrics-port', String(metricsPort), ...args],
    { detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  let exit = null;
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve((exit = { code, signal }))));
  const collect = (chunk) => {
    output += chunk;
    for (const line of String(chunk).split('\n')) if (line) log(`demo| ${line}`);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);

  const demo = {
    child,
    port,
    metricsPort,
    base: `http://127.0.0.1:${port}`,
    output: () => output,
    exited,
    pids: null,
    work: null,
    // SIGTERM, then a bounded wait: resolves to {code, signal, leftover pids, work dir still there}.
    async stop(timeoutMs = 40_000) {
      if (!exit) child.kill('SIGTERM');
      let timer;
      const result = await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(() => resolve(null), timeoutMs)))]);
      clearTimeout(timer);
      if (!result) {
        process.kill(-child.pid, 'SIGKILL'); // our own process group only
        throw new Error(`scripts/demo did not stop within ${timeoutMs} ms of SIGTERM`);
      }
      await waitFor('the demo processes to be gone', 5000, () => !Object.values(demo.pids ?? {}).some(alive)).catch(() => {});
      return {
        ...result,
        leftover: Object.entries(demo.pids ?? {}).filter(([, pid]) => alive(pid)),
        workLeft: demo.work !== null && fs.existsSync(demo.work),
      };
    },
    // Cleanup after a failed test: SIGTERM (the demo's own cleanup), after 15 s SIGKILL to its process
    // group and its processes, then its temporary directory.
    async abort() {
      if (!exit) {
        child.kill('SIGTERM');
        let timer;
        const done = await Promise.race([exited, new Promise((resolve) => (timer = setTimeout(() => resolve(null), 15_000)))]);
        clearTimeout(timer);
        if (!done) {
          try {
            process.kill(-child.pid, 'SIGKILL'); // our own process group only
          } catch {}
        }
      }
      for (const pid of Object.values(demo.pids ?? {})) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {}
      }
      if (demo.work && /\/ovalstream-demo\.[A-Za-z0-9]+$/.test(demo.work)) fs.rmSync(demo.work, { recursive: true, force: true });
    },
  };

  const match = await Promise.race([
    waitFor('scripts/demo to start its processes', startTimeoutMs, () => /demo: pids (.*)/.exec(output)),
    exited.then((e) => {
      throw new Error(`scripts/demo exited early (${JSON.stringify(e)}):\n${output}`);
    }),
  ]).catch(async (error) => {
    await demo.abort();
    throw error;
  });
  const fields = Object.fromEntries(match[1].trim().split(/\s+/).map((kv) => kv.split('=')));
  demo.work = fields.work;
  delete fields.work;
  demo.pids = Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, Number(v)]));
  return demo;
}
