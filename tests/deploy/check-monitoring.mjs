// Checks the Grafana dashboard and the Prometheus alert rules together:
// - the dashboard is valid JSON with unique panel ids, a Prometheus data source variable, and a panel for
//   each thing the deployment issue lists (connections, frames and bytes per second, slow-consumer closes,
//   publish-to-write p50/p99, events per type, rejects per reason, NATS connected, recorder lag and write
//   errors);
// - the alerts cover NATS disconnected, rejects rising, slow consumers and recorder not writing;
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
for (const panel of panels) {
  if (panel.type === 'row') continue;
  if ((panel.targets ?? []).length === 0) problems.push(`dashboard: panel "${panel.title}" has no query`);
  if (panel.datasource?.uid !== '${datasource}') problems.push(`dashboard: panel "${panel.title}" does not use $datasource`);
  const grid = panel.gridPos ?? {};
  if (!(grid.w > 0 && grid.h > 0 && grid.x >= 0 && grid.x + grid.w <= 24)) problems.push(`dashboard: panel "${panel.title}" gridPos out of the 24 columns`);
}

// What the issue asks the dashboard to show: a pattern each that some panel query must match.
const required = [
  ['open connections', /ovalstream_websocket_connections_open/],
  ['frames per second', /rate\(ovalstream_websocket_frames_sent_total/],
  ['bytes per second', /rate\(ovalstream_websocket_sent_bytes_total/],
  ['slow-consumer closes', /ovalstream_websocket_slow_consumer_closes_total/],
  ['publish-to-write p50', /histogram_quantile\(0\.5,.*ovalstream_publish_to_write_seconds_bucket/],
  ['publish-to-write p99', /histogram_quantile\(0\.99,.*ovalstream_publish_to_write_seconds_bucket/],
  ['events in per type', /sum by \(type\) \(rate\(ovalstream_events_received_total/],
  ['rejected per reason', /sum by \(reason\) \(rate\(ovalstream_events_rejected_total/],
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
];
for (const [what, pattern] of requiredAlerts) {
  if (!alertRules.some((rule) => rule.alert && pattern.test(String(rule.expr)))) problems.push(`alerts: no rule for ${what} (${pattern})`);
}
for (const rule of alertRules) {
  if (!rule.labels?.severity) problems.push(`alerts: ${rule.alert} has no severity label`);
  if (!rule.annotations?.summary || !rule.annotations?.description) problems.push(`alerts: ${rule.alert} lacks summary or description`);
}

// The dashboard's PromQL parses: as recording rules checked by promtool, with Grafana's variables bound.
const bound = (expr) => expr.replaceAll('$__rate_interval', '5m').replaceAll('$job', '.*');
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
