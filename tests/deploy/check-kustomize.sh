#!/usr/bin/env bash
# `kubectl kustomize deploy/k8s` (kubectl from setup-tools.sh, not the machine's) must render, and the
# render passes validate.mjs and yamllint.
#   check-kustomize.sh TOOLS_DIR WORK_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
tools=${1:?usage: check-kustomize.sh TOOLS_DIR WORK_DIR}
work=${2:?usage: check-kustomize.sh TOOLS_DIR WORK_DIR}
export OVALSTREAM_DEPLOY_TOOLS=$tools
mkdir -p "$work"
out="$work/kustomize.yaml"
"$tools/bin/kubectl" kustomize "$repo/deploy/k8s" >"$out"
node "$here/validate.mjs" \
  --expect-kinds Namespace,ServiceAccount,ConfigMap,Deployment,Service,PodDisruptionBudget,HorizontalPodAutoscaler,StatefulSet,ServiceMonitor \
  "$out"
yamllint -c "$here/yamllint-rendered.yaml" "$out"
# The development NATS and the recorder keep their data on claims; the recorder runs as one replica; metrics
# are on their own Services; the aggregators spread over zones and hosts.
node --input-type=module - "$out" <<'JS'
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
const tools = await import(pathToFileURL(join(process.env.OVALSTREAM_DEPLOY_TOOLS, 'node', 'tools-entry.mjs')).href);
const objects = tools.parseAllDocuments(readFileSync(process.argv[2], 'utf8')).map((d) => d.toJS()).filter(Boolean);
const problems = [];
for (const name of ['ovalstream-recorder', 'nats']) {
  const set = objects.find((o) => o.kind === 'StatefulSet' && o.metadata.name === name);
  if (!set) problems.push(`StatefulSet ${name} missing`);
  else {
    if ((set.spec.volumeClaimTemplates ?? []).length !== 1) problems.push(`${name}: expected one volumeClaimTemplate`);
    if (set.spec.replicas !== 1) problems.push(`${name}: expected one replica`);
  }
}
const nats = objects.find((o) => o.kind === 'StatefulSet' && o.metadata.name === 'nats');
if (nats && !JSON.stringify(nats.spec.template.spec.containers[0].args).includes('nats.conf')) problems.push('nats: not started with nats.conf');
const config = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('ovalstream-config-'));
if (!config || config.data.OVALSTREAM_NATS_URL !== 'nats://nats:4222') problems.push('ovalstream-config: OVALSTREAM_NATS_URL is not the development NATS');
// As in the chart: the metrics on their own ClusterIP Services, which the ServiceMonitor selects; the
// websocket and API Services carry no metrics port.
const monitor = objects.find((o) => o.kind === 'ServiceMonitor');
const scraped = objects.filter((o) => o.kind === 'Service' &&
  Object.entries(monitor?.spec.selector.matchLabels ?? { none: 'none' }).every(([k, v]) => o.metadata.labels?.[k] === v));
if (JSON.stringify(scraped.map((o) => o.metadata.name).sort()) !== '["ovalstream-aggregator-metrics","ovalstream-recorder-metrics"]') {
  problems.push(`ServiceMonitor selects ${JSON.stringify(scraped.map((o) => o.metadata.name))}, expected the two metrics Services`);
}
for (const name of ['ovalstream-aggregator', 'ovalstream-recorder']) {
  const service = objects.find((o) => o.kind === 'Service' && o.metadata.name === name);
  if (!service || service.spec.ports.some((port) => port.name === 'metrics')) problems.push(`Service ${name}: missing or has a metrics port`);
}
const spread = objects.find((o) => o.kind === 'Deployment')?.spec.template.spec.topologySpreadConstraints ?? [];
if (JSON.stringify(spread.map((c) => c.topologyKey)) !== '["topology.kubernetes.io/zone","kubernetes.io/hostname"]' ||
    spread.some((c) => c.whenUnsatisfiable !== 'ScheduleAnyway')) {
  problems.push('aggregator: expected soft topology spread over zones and hosts');
}
for (const p of problems) console.error(`check-kustomize: ${p}`);
process.exitCode = problems.length ? 1 : 0;
JS
echo "check-kustomize: all checks passed"
