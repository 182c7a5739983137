// Checks deploy/docker/Dockerfile without a Docker engine (none runs here or in CI):
// - the build stage installs exactly the build packages of scripts/setup (its groups "build", "core" and
//   "adapters"), so the image builds what the test command builds;
// - each runtime stage starts from Debian slim, ends as the non-root user 65532, and has an ENTRYPOINT;
// - every shared library an executable links (ldd on this Debian 12 machine, mapped to its package by
//   dpkg) is installed by that executable's runtime stage, directly or as a dependency, or is in the base
//   image.
//   node check-dockerfile.mjs STAGE=EXECUTABLE...     e.g. aggregator=build/aggregator/aggregator
import { execFileSync } from 'node:child_process';
import { readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..');
// OVALSTREAM_DOCKERFILE: another Dockerfile (the self-test gives one with a library missing).
const dockerfile = readFileSync(process.env.OVALSTREAM_DOCKERFILE ?? join(repo, 'deploy', 'docker', 'Dockerfile'), 'utf8');
const setup = readFileSync(join(repo, 'scripts', 'setup'), 'utf8');
const problems = [];

// Stages: FROM base AS name, with their instructions (continuation lines joined).
const instructions = dockerfile.replace(/\\\n/g, ' ').split('\n').map((line) => line.trim())
  .filter((line) => line && !line.startsWith('#'));
const stages = new Map();
let current = null;
for (const line of instructions) {
  const from = line.match(/^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/i);
  if (from) {
    current = { base: from[1], name: from[2] ?? `stage${stages.size}`, lines: [] };
    stages.set(current.name, current);
  } else if (current) {
    current.lines.push(line);
  }
}

function aptPackages(stage) {
  const packages = [];
  for (const line of stage.lines) {
    for (const match of line.matchAll(/apt-get install ((?:-\S+\s+)*)((?:[a-z0-9][a-z0-9.+-]+\s*)+)/g)) {
      packages.push(...match[2].trim().split(/\s+/));
    }
  }
  return packages;
}

// Packages of a stage and of the stages it builds on (FROM another stage).
function stagePackages(name) {
  const stage = stages.get(name);
  if (!stage) return [];
  return [...aptPackages(stage), ...stagePackages(stage.base)];
}

// scripts/setup: packages=( ... ) with "# group" comment lines.
function setupGroups() {
  const body = setup.match(/packages=\(\n([\s\S]*?)\n\)/);
  if (!body) throw new Error('scripts/setup: no packages=( ... ) list');
  const groups = [];
  for (const line of body[1].split('\n')) {
    const comment = line.match(/^\s*#\s*(.*)$/);
    if (comment) groups.push({ title: comment[1], packages: [] });
    else if (line.trim() && groups.length > 0) groups.at(-1).packages.push(...line.trim().split(/\s+/));
  }
  return groups;
}

const build = stages.get('build');
if (!build) {
  problems.push('no stage "build"');
} else {
  const wanted = setupGroups().filter((group) => /^(build|core|adapters)\b/.test(group.title))
    .flatMap((group) => group.packages);
  if (wanted.length === 0) problems.push('scripts/setup: no groups "build", "core", "adapters"');
  const have = aptPackages(build);
  for (const name of wanted) if (!have.includes(name)) problems.push(`build stage lacks ${name} (scripts/setup installs it)`);
  for (const name of have) if (!wanted.includes(name)) problems.push(`build stage installs ${name}, which scripts/setup's build groups do not`);
  console.log(`check-dockerfile: build stage installs scripts/setup's build packages: ${have.join(' ')}`);
}

// Installed packages' dependencies, recursively (this machine is the image's Debian release).
const dependencyCache = new Map();
function dependencies(name, seen = new Set()) {
  if (seen.has(name)) return seen;
  seen.add(name);
  if (!dependencyCache.has(name)) {
    let depends = '';
    try {
      depends = execFileSync('dpkg-query', ['-W', '-f=${Depends},${Pre-Depends}', name], { encoding: 'utf8' });
    } catch {
      depends = '';
    }
    dependencyCache.set(name, depends.split(/[,|]/).map((item) => item.trim().split(/[\s:(]/)[0]).filter(Boolean));
  }
  for (const dependency of dependencyCache.get(name)) dependencies(dependency, seen);
  return seen;
}

// debian:bookworm-slim has these (essential) libraries.
const BASE_IMAGE = new Set(['libc6', 'libgcc-s1', 'libstdc++6', 'zlib1g']);

const pairs = process.argv.slice(2).map((argument) => argument.split('='));
if (pairs.length === 0) problems.push('usage: node check-dockerfile.mjs STAGE=EXECUTABLE...');
for (const [stageName, executable] of pairs) {
  const stage = stages.get(stageName);
  if (!stage) {
    problems.push(`no stage "${stageName}"`);
    continue;
  }
  const root = (function base(name) {
    const s = stages.get(name);
    return s ? base(s.base) : name;
  })(stageName);
  if (!/^debian:.*-slim$/.test(root)) problems.push(`${stageName}: runtime base ${root} is not Debian slim`);
  const users = [...stage.lines.filter((line) => /^USER\s/i.test(line))];
  if (users.at(-1) !== 'USER 65532:65532') problems.push(`${stageName}: does not end as USER 65532:65532`);
  if (!stage.lines.some((line) => /^ENTRYPOINT\s/i.test(line))) problems.push(`${stageName}: no ENTRYPOINT`);
  if (!stage.lines.some((line) => new RegExp(`^COPY --from=build \\S+/${stageName} `).test(line))) {
    problems.push(`${stageName}: does not copy its executable from the build stage`);
  }

  const installed = new Set();
  for (const name of stagePackages(stageName)) for (const dependency of dependencies(name)) installed.add(dependency);
  let ldd = '';
  try {
    ldd = execFileSync('ldd', [executable], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    problems.push(`${stageName}: ldd ${executable} failed (is the ${stageName} target built?): ${String(error.stderr).trim()}`);
    continue;
  }
  const libraries = [...ldd.matchAll(/=>\s+(\/\S+)/g)].map((match) => match[1]);
  if (libraries.length === 0) problems.push(`${stageName}: ldd found no libraries in ${executable}`);
  for (const library of libraries) {
    let owner = '';
    for (const path of [realpathSync(library), library]) {
      try {
        owner = execFileSync('dpkg', ['-S', path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split(':')[0];
        break;
      } catch {
        owner = '';
      }
    }
    if (!owner) {
      problems.push(`${stageName}: ${library} belongs to no Debian package (cannot be installed in the image)`);
    } else if (BASE_IMAGE.has(owner) || installed.has(owner)) {
      console.log(`check-dockerfile: ${stageName}: ${library} from ${owner}: installed`);
    } else {
      problems.push(`${stageName}: links ${library} from ${owner}, which the stage does not install`);
    }
  }
}

for (const problem of problems) console.error(`check-dockerfile: ${problem}`);
console.log(`check-dockerfile: ${problems.length} problem(s)`);
process.exitCode = problems.length === 0 ? 0 : 1;
