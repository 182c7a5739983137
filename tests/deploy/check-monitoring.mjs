// Checks the Grafana dashboard and the Prometheus alert rules together:
// - the dashboard is valid JSON with unique panel ids, a Prometheus data source and a namespace variable,
//   every query filtered by namespace, one unit per panel (no per-series unit overrides), the ingest panels
//   as the mean over replicas (each receives every event: a sum would count it once per replica), and a
//   panel for each thing the deployment issues list (connections per pod, frames and bytes per second,
//   slow-consumer closes, close reasons, rejected upgrades, publish-to-write p50/p99, events in per type,
//   rejects per reason, last-event age, consumer lag, NATS connected, recorder lag and write errors);
// - the alerts cover NATS disconnected, rejects rising, slow consumers, recorder not writing, no ready
//   aggregator, aggregator absent, target down, feed silent, descriptors over 80 %; each has a runbook_url
//   whose anchor is a heading of docs/deploy.md, and every `by (...)` keeps namespace;
// - every PromQL expression of the dashboard parses (they are written into a rule file for promtool);
// - every ovalstream_* metric they name is one the executables register (string literals in their
//   sources).
//
//   node check-monitoring.mjs WORK_DIR              the checks above
//   node check-monitoring.mjs --metric-names        prints the metric families the files name, one a line
// Environment: OVALSTREAM_DEPLOY_TOOLS (setup-tools.sh), PROMTOOL (default promtool).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..');
const tools = await import(pathToFileURL(join(process.env.OVALSTREAM_DEPLOY_TOOLS ?? '', 'node', 'tools-entry.mjs')).href);

const dashboardPath = join(repo, 'deploy', 'grafana', 'ovalstream-dashboard.json');
const alertsPath = join(repo, 'deploy', 'prometheus', 'ovalstream-alerts.yaml');

const dashboard = JSON.parse(readFileSync(dashboardPath, 'utf8'));
const alerts = tools.parseYaml(readFileSync(alertsPath, 'utf8'));

function panelsOf(panels) {
  return (panels ?? []).flatMap((panel) => [panel, ...panelsOf(panel.panels)]);
}
const panels = panelsOf(dashboard.panels);
const dashboardExprs = panels.flatMap((panel) =>
  (panel.targets ?? []).map((target) => ({ panel: panel.title, expr: target.expr })));
const alertRules = (alerts.groups ?? []).flatMap((group) => group.rules ?? []);

// Metric families named by an expression: ovalstream_* identifiers, histogram suffixes removed.
function metricFamilies(expr) {
  const names = new Set();
  for (const match of expr.matchAll(/\bovalstream_[a-z0-9_]+/g)) {
    names.add(match[0].replace(/_(bucket|sum|count)$/, ''));
  }
  return names;
}
const named = new Set();
for (const { expr } of dashboardExprs) for (const name of metricFamilies(expr)) named.add(name);
for (const rule of alertRules) for (const name of metricFamilies(String(rule.expr))) named.add(name);

if (process.argv[2] === '--metric-names') {
  console.log([...named].sort().join('\n'));
  process.exit(0);
}

const work = process.argv[2];
if (!work) {
  console.error('usage: node check-monitoring.mjs WORK_DIR | --metric-names');
  process.exit(2);
}
mkdirSync(work, { recursive: true });
const problems = [];

// Dashboard structure.
const ids = panels.map((panel) => panel.id);
if (new Set(ids).size !== ids.length || ids.some((id) => typeof id !== 'number')) problems.push('dashboard: panel ids are not unique numbers');
if (!dashboard.uid || !dashboard.title) problems.push('dashboard: uid and title required');
const variables = dashboard.templating?.list ?? [];
if (!variables.some((variable) => variable.type === 'datasource' && variable.query === 'prometheus')) {
  problems.push('dashboard: no Prometheus data source variable');
}
if (!variables.some((variable) => variable.name === 'namespace' && variable.type === 'query')) {
  problems.push('dashboard: no namespace variable');
}
for (const panel of panels) {
  if (panel.type === 'row') continue;
  if ((panel.targets ?? []).length === 0) problems.push(`dashboard: panel "${panel.title}" has no query`);
  if (panel.datasource?.uid !== '${datasource}') problems.push(`dashboard: panel "${panel.title}" does not use $datasource`);
  if ((panel.fieldConfig?.overrides ?? []).some((override) =>
    (override.properties ?? []).some((property) => property.id === 'unit'))) {
    problems.push(`dashboard: panel "${panel.title}" overrides the unit of a series (one unit per axis)`);
  }
  if (!panel.fieldConfig?.defaults?.unit) problems.push(`dashboard: panel "${panel.title}" has no unit`);
  for (const target of panel.targets ?? []) {
    if (!target.expr.includes('namespace=~"$namespace"')) problems.push(`dashboard: panel "${panel.title}" does not filter by $namespace`);
    // Every aggregator receives every event: summed over replicas, ingest counts each event once per replica.
    if (/ovalstream_events_(received|rejected)_total/.test(target.expr) && !/^avg by|by \(instance/.test(target.expr)) {
      problems.push(`dashboard: panel "${panel.title}" adds up ingest over replicas (use avg, or per instance)`);
    }
  }
  const grid = panel.gridPos ?? {};
  if (!(grid.w > 0 && grid.h > 0 && grid.x >= 0 && grid.x + grid.w <= 24)) problems.push(`dashboard: panel "${panel.title}" gridPos out of the 24 columns`);
}

// What the issue asks the dashboard to show: a pattern each that some panel query must match.
const required = [
  ['open connections', /ovalstream_websocket_connections_open/],
  ['connections per pod', /sum by \(instance\) \(ovalstream_websocket_connections_open/],
  ['rejected upgrades by reason', /sum by \(reason\) \(rate\(ovalstream_websocket_connections_rejected_total/],
  ['close reasons', /sum by \(reason\) \(rate\(ovalstream_websocket_closes_total/],
  ['last-event age', /time\(\) - max.*ovalstream_(last_event_applied|competition_last_event)_timestamp_seconds/],
  ['consumer lag', /ovalstream_consumer_pending_messages/],
  ['ready aggregators', /ovalstream_ready/],
  ['descriptors used', /process_open_fds.*\/ process_max_fds/],
  ['frames per second', /rate\(ovalstream_websocket_frames_sent_total/],
  ['bytes per second', /rate\(ovalstream_websocket_sent_bytes_total/],
  ['slow-consumer closes', /ovalstream_websocket_slow_consumer_closes_total/],
  ['publish-to-write p50', /histogram_quantile\(0\.5,.*ovalstream_publish_to_write_seconds_bucket/],
  ['publish-to-write p99', /histogram_quantile\(0\.99,.*ovalstream_publish_to_write_seconds_bucket/],
  ['events in per type (mean over replicas)', /avg by \(type\) \(rate\(ovalstream_events_received_total/],
  ['rejected per reason (mean over replicas)', /avg by \(reason\) \(rate\(ovalstream_events_rejected_total/],
  ['NATS connected', /ovalstream_nats_connected/],
  ['recorder lag', /ovalstream_recorder_consumer_pending_messages/],
  ['recorder write errors', /ovalstream_recorder_write_errors_total/],
];
for (const [what, pattern] of required) {
  if (!dashboardExprs.some(({ expr }) => pattern.test(expr))) problems.push(`dashboard: no panel shows ${what} (${pattern})`);
}
const requiredAlerts = [
  ['NATS disconnected', /ovalstream_nats_connected\s*==\s*0/],
  ['rejects rising', /rate\(ovalstream_events_rejected_total/],
  ['slow consumers', /ovalstream_websocket_slow_consumer_closes_total/],
  ['recorder not writing', /ovalstream_recorder_last_write_timestamp_seconds/],
  ['no ready aggregator', /ovalstream_ready[\s\S]*component="aggregator"[\s\S]*== 0/],
  ['aggregator absent', /absent\(ovalstream_build_info\{component="aggregator"\}\)/],
  ['target down', /\bup\{[^}]*\} == 0/],
  ['feed silent during a live competition', /ovalstream_competition_last_event_timestamp_seconds[\s\S]*ovalstream_competition_clients/],
  ['descriptors over 80 %', /process_open_fds \/ process_max_fds > 0\.8/],
];
// Runbooks: each alert links a heading of docs/deploy.md's "Alerts and runbooks" section.
const deployDoc = readFileSync(join(repo, 'docs', 'deploy.md'), 'utf8');
const runbookSection = deployDoc.split(/^## /m).find((section) => section.startsWith('Alerts and runbooks')) ?? '';
const anchors = new Set([...runbookSection.matchAll(/^### (.+)$/gm)].map((match) =>
  match[1].trim().toLowerCase().replace(/[^a-z0-9 -]/g, '').replaceAll(' ', '-')));
for (const [what, pattern] of requiredAlerts) {
  if (!alertRules.some((rule) => rule.alert && pattern.test(String(rule.expr)))) problems.push(`alerts: no rule for ${what} (${pattern})`);
}
for (const rule of alertRules) {
  if (!rule.labels?.severity) problems.push(`alerts: ${rule.alert} has no severity label`);
  if (!rule.annotations?.summary || !rule.annotations?.description) problems.push(`alerts: ${rule.alert} lacks summary or description`);
  const runbook = /^docs\/deploy\.md#(.+)$/.exec(rule.annotations?.runbook_url ?? '');
  if (!runbook) {
    problems.push(`alerts: ${rule.alert} has no runbook_url into docs/deploy.md`);
  } else if (!anchors.has(runbook[1])) {
    problems.push(`alerts: ${rule.alert}'s runbook_url #${runbook[1]} is no heading under "## Alerts and runbooks" in docs/deploy.md`);
  }
  for (const match of String(rule.expr).matchAll(/\bby \(([^)]*)\)/g)) {
    if (!match[1].split(',').map((label) => label.trim()).includes('namespace')) {
      problems.push(`alerts: ${rule.alert} aggregates by (${match[1]}) without namespace`);
    }
  }
}

// The dashboard's PromQL parses: as recording rules checked by promtool, with Grafana's variables bound.
const bound = (expr) => expr.replaceAll('$__rate_interval', '5m').replaceAll('$job', '.*').replaceAll('$namespace', '.*');
const rules = {
  groups: [{
    name: 'dashboard-expressions',
    rules: dashboardExprs.map(({ expr }, index) => ({ record: `dashboard:expression_${index}`, expr: bound(expr) })),
  }],
};
const rulesFile = join(work, 'dashboard-expressions.rules.yaml');
writeFileSync(rulesFile, tools.stringifyYaml(rules));
try {
  execFileSync(process.env.PROMTOOL ?? 'promtool', ['check', 'rules', rulesFile], { stdio: 'pipe' });
  console.log(`check-monitoring: ${dashboardExprs.length} dashboard expressions parse (promtool check rules)`);
} catch (error) {
  problems.push(`dashboard: promtool rejects an expression:\n${error.stdout}${error.stderr}`);
}

// Metric names: registered by the executables' sources, or the recorder's decided names.
function sourceFiles(directory) {
  let entries;
  try {
    entries = readdirSync(directory);
  } catch {
    return [];
  }
  return entries.flatMap((entry) => {
    const path = join(directory, entry);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(cpp|hpp|h)$/.test(entry) ? [path] : [];
  });
}
const registered = new Set();
for (const directory of ['aggregator', 'recorder', 'adapters', 'runtime']) {
  for (const file of sourceFiles(join(repo, directory))) {
    for (const match of readFileSync(file, 'utf8').matchAll(/"(ovalstream_[a-z0-9_]+)"/g)) registered.add(match[1]);
  }
}
for (const name of named) {
  if (registered.has(name)) continue;
  problems.push(`${name} is named by the dashboard or the alerts but registered nowhere`);
}

for (const problem of problems) console.error(`check-monitoring: ${problem}`);
console.log(`check-monitoring: ${panels.length} panels, ${alertRules.length} alert rules, ${named.size} metric families, ` +
            `${problems.length} problem(s)`);
process.exitCode = problems.length === 0 ? 0 : 1;
