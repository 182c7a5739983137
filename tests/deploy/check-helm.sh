#!/usr/bin/env bash
# helm lint --strict and helm template over a matrix of values; every render validated (validate.mjs) and
# yamllinted; the chart's refusals (schema, grace period, PodDisruptionBudget, NATS TLS, HTTPRoute) and its
# rendered details (websocket timeouts, ServiceMonitor labels, per-component config checksums, pod templates
# unchanged by a chart-only upgrade, image digests, NATS TLS, NOTES.txt warnings) checked; every value is
# documented in the chart's README (check-chart-readme.mjs).
#   check-helm.sh TOOLS_DIR WORK_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
tools=${1:?usage: check-helm.sh TOOLS_DIR WORK_DIR}
work=${2:?usage: check-helm.sh TOOLS_DIR WORK_DIR}
helm="$tools/bin/helm"
chart="$repo/helm/ovalstream"
export OVALSTREAM_DEPLOY_TOOLS=$tools
mkdir -p "$work"
failures=0
fail() { echo "check-helm: FAIL: $*" >&2; failures=$((failures + 1)); }

# name | values files (comma-separated, relative to values/) | kinds that must be rendered
matrix=(
  "defaults||Deployment,Service,ServiceAccount,ConfigMap,Pod,PodDisruptionBudget"
  "production|production.yaml|Deployment,Service,ConfigMap,Ingress,HorizontalPodAutoscaler,PodDisruptionBudget,ServiceMonitor,PrometheusRule"
  "recorder|recorder.yaml|Deployment,StatefulSet,ServiceMonitor"
  "access-control|access-control.yaml|Deployment,StatefulSet,NetworkPolicy"
  "edge|edge.yaml|Deployment,StatefulSet,Service,HTTPRoute,HorizontalPodAutoscaler,PodDisruptionBudget,ServiceMonitor"
  "everything|production.yaml,recorder.yaml,access-control.yaml,edge.yaml|Deployment,StatefulSet,Ingress,HTTPRoute,HorizontalPodAutoscaler,PodDisruptionBudget,ServiceMonitor,PrometheusRule,NetworkPolicy"
)
# NOTES.txt is not rendered by helm template: a copy of the chart renders it as a manifest's text.
notes_chart="$work/notes-chart"
rm -rf "$notes_chart" && cp -r "$chart" "$notes_chart"
cp "$chart/templates/NOTES.txt" "$notes_chart/notes-under-test.txt"
printf 'notes: |\n{{- tpl (.Files.Get "notes-under-test.txt") . | nindent 2 }}\n' >"$notes_chart/templates/zz-notes.yaml"

for entry in "${matrix[@]}"; do
  IFS='|' read -r name files kinds <<<"$entry"
  args=()
  IFS=',' read -r -a list <<<"$files"
  for file in "${list[@]}"; do [ -n "$file" ] && args+=(--values "$here/values/$file"); done
  echo "check-helm: --- $name ${args[*]:-}"
  "$helm" lint --strict "$chart" "${args[@]}" || fail "$name: helm lint --strict"
  out="$work/helm-$name.yaml"
  if ! "$helm" template ovalstream "$chart" --namespace live "${args[@]}" >"$out"; then
    fail "$name: helm template"
    continue
  fi
  node "$here/validate.mjs" --expect-kinds "$kinds" "$out" || fail "$name: validate.mjs"
  yamllint -c "$here/yamllint-rendered.yaml" "$out" || fail "$name: yamllint of the render"
  if notes=$("$helm" template ovalstream "$notes_chart" --namespace live "${args[@]}" --show-only templates/zz-notes.yaml) \
    && grep -q 'is installed as release ovalstream in namespace live' <<<"$notes"; then
    echo "check-helm: $name: NOTES.txt renders"
    printf '%s\n' "$notes" >"$work/notes-$name.txt"
  else
    fail "$name: NOTES.txt does not render"
  fi
done

# The README documents every value (and no value that is gone); the check can fail.
node "$here/check-chart-readme.mjs" "$chart" || fail "helm/ovalstream/README.md does not document every value"
node "$here/check-chart-readme.mjs" --self-test "$chart" || fail "check-chart-readme.mjs self-test"

# The checks themselves can fail: each of a set of breakages of the fullest render must be reported.
node "$here/validate.mjs" --mutations "$work/helm-everything.yaml" || fail "validate.mjs self-test"

# The chart's PrometheusRule carries the same rules as deploy/prometheus (promtool checks and tests those).
cmp "$repo/deploy/prometheus/ovalstream-alerts.yaml" "$chart/files/ovalstream-alerts.yaml" \
  || fail "helm/ovalstream/files/ovalstream-alerts.yaml differs from deploy/prometheus/ovalstream-alerts.yaml: copy it"
grep -q 'alert: OvalstreamNatsDisconnected' "$work/helm-production.yaml" || fail "PrometheusRule: rules not rendered"

# The optional dashboard ConfigMap: the same dashboard as deploy/grafana (files/ holds an identical copy),
# rendered byte for byte under the sidecar's label; absent by default.
cmp "$repo/deploy/grafana/ovalstream-dashboard.json" "$chart/files/ovalstream-dashboard.json" \
  || fail "helm/ovalstream/files/ovalstream-dashboard.json differs from deploy/grafana/ovalstream-dashboard.json: copy it"
grep -q 'grafana_dashboard' "$work/helm-defaults.yaml" && fail "dashboard ConfigMap rendered although dashboard.enabled is false"
dashboard_render="$work/helm-dashboard.yaml"
if "$helm" template ovalstream "$chart" --namespace live --set dashboard.enabled=true \
  --set dashboard.labels.team=timing --show-only templates/dashboard-configmap.yaml >"$dashboard_render"; then
  node "$here/validate.mjs" --expect-kinds ConfigMap "$dashboard_render" || fail "dashboard ConfigMap: validate.mjs"
  node --input-type=module - "$dashboard_render" "$repo/deploy/grafana/ovalstream-dashboard.json" <<'NODE' \
    || fail "dashboard ConfigMap: labels or content wrong"
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
const tools = await import(pathToFileURL(join(process.env.OVALSTREAM_DEPLOY_TOOLS, 'node', 'tools-entry.mjs')).href);
const [render, dashboard] = process.argv.slice(2);
const configMap = tools.parseYaml(readFileSync(render, 'utf8'));
const labels = configMap.metadata.labels;
if (labels.grafana_dashboard !== '1' || labels.team !== 'timing') throw new Error(`labels: ${JSON.stringify(labels)}`);
const shipped = configMap.data['ovalstream-dashboard.json'];
if (shipped.trimEnd() !== readFileSync(dashboard, 'utf8').trimEnd()) throw new Error('the JSON differs from deploy/grafana');
JSON.parse(shipped);
console.log('check-helm: dashboard ConfigMap: labelled, same JSON as deploy/grafana');
NODE
else
  fail "dashboard ConfigMap: helm template --set dashboard.enabled=true"
fi

# Rendered details.
everything="$work/helm-everything.yaml"
everything_file=$everything
grep -q 'nginx.ingress.kubernetes.io/proxy-read-timeout: "7200"' "$everything" \
  || fail "ingress: websocketTimeoutSeconds not written as proxy-read-timeout"
grep -q 'cert-manager.io/cluster-issuer: letsencrypt' "$everything" || fail "ingress: user annotations lost"
grep -q 'release: kube-prometheus-stack' "$everything" || fail "ServiceMonitor: additionalLabels not rendered"
grep -q 'terminationGracePeriodSeconds: 55' "$everything" \
  || fail "grace period: expected 5 (preStop) + 10 (drain delay) + 30 (drain) + 10 = 55"
grep -q 'OVALSTREAM_NATS_CREDS: "/etc/ovalstream/nats/nats.creds"' "$everything" || fail "NATS credentials file not configured"
grep -q -- '- --allow-live-replay' "$everything" || fail "recorder: --allow-live-replay not passed"
grep -q -- '- "--max-replays=8"' "$everything" || fail "recorder: extraArgs not passed"
grep -q 'storageClassName: "fast-ssd"' "$everything" || fail "recorder: storageClass not rendered"
if grep -q '^  replicas:' <(awk '/^kind: Deployment/,/^---/' "$everything"); then
  fail "Deployment sets replicas although autoscaling is on"
fi
# Access control: the flags reach the ConfigMaps, the keys come mounted from the Secret, and the recorder's
# API is on loopback when its auth is off (the default) and on every interface when tokens are required.
grep -q 'OVALSTREAM_AUTH: "required"' "$everything" || fail "access control: --auth required not configured"
grep -q 'OVALSTREAM_AUTH_HMAC_SECRET_FILE: "/etc/ovalstream/auth/hmac-secret"' "$everything" || fail "access control: HMAC secret file not configured"
grep -q 'OVALSTREAM_AUTH_PUBLIC_KEYS: "/etc/ovalstream/auth/public-keys.jwks"' "$everything" || fail "access control: public keys not configured"
grep -q 'OVALSTREAM_ALLOWED_ORIGINS: "https://live.example.com,https://graphics.example.com"' "$everything" || fail "access control: allowed origins not configured"
grep -q 'secretName: ovalstream-auth' "$everything" || fail "access control: the keys' Secret is not mounted"
grep -q -- '- "--address=:8090"' "$everything" || fail "recorder: --auth required should listen on every interface"
grep -q -- '- "--address=127.0.0.1:8090"' "$work/helm-recorder.yaml" || fail "recorder: --auth off should listen on loopback"
grep -q 'OVALSTREAM_AUTH: "off"' "$work/helm-defaults.yaml" || fail "aggregator: --auth should default to off"
if grep -q 'kind: NetworkPolicy' "$work/helm-defaults.yaml"; then fail "NetworkPolicy rendered although networkPolicy.enabled is false"; fi
grep -q 'kubernetes.io/metadata.name: operators' "$everything" || fail "NetworkPolicy: recorderApiFrom not rendered"
printf 'aggregator:\n  allowedOrigins: []\n' >"$work/no-origins-values.yaml"
"$helm" template ovalstream "$chart" --values "$work/no-origins-values.yaml" >"$work/no-origins.yaml" 2>&1 || true
grep -q -- '- --allowed-origins=' "$work/no-origins.yaml" || fail "aggregator: an empty allowedOrigins should allow no origin"

# Each component's checksum/config covers its own settings only: an aggregator setting rolls the
# aggregators, a recorder setting the recorder, a shared one (NATS) both.
checksum() { awk -v kind="$2" '/^kind: /{k=$2} k==kind && /checksum\/config:/{print $2; exit}' "$1"; }
"$helm" template ovalstream "$chart" --set recorder.enabled=true >"$work/checksum-base.yaml"
"$helm" template ovalstream "$chart" --set recorder.enabled=true --set nats.url=nats://other:4222 >"$work/checksum-nats.yaml"
"$helm" template ovalstream "$chart" --set recorder.enabled=true --set aggregator.maxConnections=100 >"$work/checksum-aggregator.yaml"
"$helm" template ovalstream "$chart" --set recorder.enabled=true --set 'recorder.allowedOrigins[0]=https://ops.example.com' >"$work/checksum-recorder.yaml"
for kind in Deployment StatefulSet; do
  [ -n "$(checksum "$work/checksum-base.yaml" $kind)" ] || fail "$kind: no checksum/config annotation"
  [ "$(checksum "$work/checksum-base.yaml" $kind)" != "$(checksum "$work/checksum-nats.yaml" $kind)" ] \
    || fail "$kind: checksum/config does not change with nats.url"
done
[ "$(checksum "$work/checksum-base.yaml" Deployment)" != "$(checksum "$work/checksum-aggregator.yaml" Deployment)" ] \
  || fail "Deployment: checksum/config does not change with aggregator.maxConnections"
[ "$(checksum "$work/checksum-base.yaml" StatefulSet)" = "$(checksum "$work/checksum-aggregator.yaml" StatefulSet)" ] \
  || fail "StatefulSet: an aggregator setting changed the recorder's checksum/config (it would restart the recorder)"
[ "$(checksum "$work/checksum-base.yaml" StatefulSet)" != "$(checksum "$work/checksum-recorder.yaml" StatefulSet)" ] \
  || fail "StatefulSet: checksum/config does not change with recorder.allowedOrigins"
[ "$(checksum "$work/checksum-base.yaml" Deployment)" = "$(checksum "$work/checksum-recorder.yaml" Deployment)" ] \
  || fail "Deployment: a recorder setting changed the aggregators' checksum/config (it would restart them)"

# A chart-only upgrade (new chart version, same appVersion and values) must leave every pod template as it was
# (or every pod restarts and every client is disconnected), while the objects' own labels do change.
bumped="$work/bumped-chart"
rm -rf "$bumped" && cp -r "$chart" "$bumped"
sed -i 's/^version: .*/version: 9.9.9/' "$bumped/Chart.yaml"
every_values=(--values "$here/values/production.yaml" --values "$here/values/recorder.yaml"
  --values "$here/values/access-control.yaml" --values "$here/values/edge.yaml")
"$helm" template ovalstream "$bumped" --namespace live "${every_values[@]}" >"$work/helm-everything-bumped.yaml"
grep -q 'helm.sh/chart: ovalstream-9.9.9' "$work/helm-everything-bumped.yaml" || fail "chart-only upgrade: the bumped chart did not render"
node --input-type=module - "$everything_file" "$work/helm-everything-bumped.yaml" <<'JS' || fail "chart-only upgrade: a pod template changed"
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
const tools = await import(pathToFileURL(join(process.env.OVALSTREAM_DEPLOY_TOOLS, 'node', 'tools-entry.mjs')).href);
const templates = (file) => Object.fromEntries(tools.parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJS())
  .filter((o) => o && ['Deployment', 'StatefulSet'].includes(o.kind)).map((o) => [`${o.kind}/${o.metadata.name}`, JSON.stringify(o.spec.template)]));
const [before, after] = process.argv.slice(2).map(templates);
let changed = 0;
for (const [name, template] of Object.entries(before)) {
  if (after[name] !== template) { console.error(`check-helm: ${name}: its pod template differs after a chart-only upgrade`); ++changed; }
}
if (Object.keys(before).length < 2) { console.error('check-helm: expected the Deployment and the StatefulSet'); ++changed; }
process.exitCode = changed ? 1 : 0;
JS

# Images by digest: repository@digest, the tag ignored.
grep -q 'image: "registry.example.com/ovalstream/aggregator@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"' \
  "$work/helm-edge.yaml" || fail "image.digest: the aggregator's image is not repository@digest"
grep -q 'image: "registry.example.com/ovalstream/recorder@sha256:fedcba98' "$work/helm-edge.yaml" \
  || fail "recorder.image.digest: the recorder's image is not repository@digest"
grep -q 'image: "ovalstream/aggregator:0.1.0"' "$work/helm-defaults.yaml" || fail "image: without a digest, repository:appVersion expected"

# The websocket Service as a LoadBalancer has the websocket port only (validate.mjs also refuses any
# exposed Service routing to a metrics port); the ServiceMonitor selects the metrics Services.
node --input-type=module - "$work/helm-edge.yaml" <<'JS' || fail "LoadBalancer: the websocket Service is not websocket-only"
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
const tools = await import(pathToFileURL(join(process.env.OVALSTREAM_DEPLOY_TOOLS, 'node', 'tools-entry.mjs')).href);
const objects = tools.parseAllDocuments(readFileSync(process.argv[2], 'utf8')).map((d) => d.toJS()).filter(Boolean);
const balancer = objects.filter((o) => o.kind === 'Service' && o.spec.type === 'LoadBalancer');
const ports = balancer.flatMap((service) => service.spec.ports.map((port) => port.name));
const metrics = objects.filter((o) => o.kind === 'Service' && o.metadata.name.endsWith('-metrics'));
const problems = [];
if (balancer.length !== 1 || JSON.stringify(ports) !== '["websocket"]') problems.push(`LoadBalancer ports: ${JSON.stringify(ports)}`);
if (metrics.length !== 2 || metrics.some((service) => service.spec.type !== 'ClusterIP')) problems.push('expected two ClusterIP metrics Services');
for (const p of problems) console.error(`check-helm: ${p}`);
process.exitCode = problems.length ? 1 : 0;
JS

# NATS TLS: the files' paths in both ConfigMaps, the Secret mounted read-only in both components
# (validate.mjs checks each file is under a read-only Secret mount).
for variable in 'OVALSTREAM_NATS_TLS: "true"' 'OVALSTREAM_NATS_CA: "/etc/ovalstream/nats-tls/ca.crt"' \
  'OVALSTREAM_NATS_CERT: "/etc/ovalstream/nats-tls/tls.crt"' 'OVALSTREAM_NATS_KEY: "/etc/ovalstream/nats-tls/tls.key"'; do
  [ "$(grep -c "$variable" "$work/helm-edge.yaml")" = 2 ] || fail "NATS TLS: $variable not in both ConfigMaps"
done
[ "$(grep -c 'secretName: ovalstream-nats-tls' "$work/helm-edge.yaml")" = 2 ] || fail "NATS TLS: the Secret is not a volume of both components"
if grep -q 'OVALSTREAM_NATS_CA' "$work/helm-defaults.yaml"; then fail "NATS TLS: CA configured although nats.tls is off"; fi
"$helm" template ovalstream "$chart" --set nats.tls.enabled=true --set nats.tls.secretName=ca-only \
  --set nats.tls.certKey= --set nats.tls.keyKey= >"$work/tls-ca-only.yaml"
grep -q 'OVALSTREAM_NATS_CA' "$work/tls-ca-only.yaml" && ! grep -q 'OVALSTREAM_NATS_CERT\|OVALSTREAM_NATS_KEY' "$work/tls-ca-only.yaml" \
  || fail "NATS TLS: a CA-only Secret should set --nats-ca only"

# Extra volumes, mounts and environment reach each component.
grep -q 'OVALSTREAM_MAX_HTTP_CONNECTIONS_PER_ADDRESS' "$work/helm-edge.yaml" || fail "aggregator.extraEnv not rendered"
grep -q 'mountPath: /etc/ovalstream/site' "$work/helm-edge.yaml" || fail "aggregator.extraVolumeMounts not rendered"
grep -q 'secretName: ovalstream-site' "$work/helm-edge.yaml" || fail "aggregator.extraVolumes not rendered"
grep -q 'name: OVALSTREAM_MAX_REPLAYS' "$work/helm-edge.yaml" || fail "recorder.extraEnv not rendered"
grep -q 'sizeLimit: 64Mi' "$work/helm-edge.yaml" || fail "recorder.extraVolumes not rendered"

# Gateway API: the HTTPRoute's websocket timeouts; ingress-nginx's annotations only for the nginx class.
grep -q 'request: "0s"' "$work/helm-edge.yaml" || fail "HTTPRoute: the request timeout is not turned off"
"$helm" template ovalstream "$chart" --values "$here/values/production.yaml" --set ingress.className=traefik >"$work/ingress-traefik.yaml"
if grep -q 'nginx.ingress.kubernetes.io' "$work/ingress-traefik.yaml"; then fail "ingress: ingress-nginx annotations with className traefik"; fi
grep -q 'cert-manager.io/cluster-issuer: letsencrypt' "$work/ingress-traefik.yaml" || fail "ingress: user annotations lost (traefik)"

# Autoscaling on connections per pod: the HPA's metric is the one docs/deploy.md's prometheus-adapter rule
# serves, over a series the aggregator registers; CPU stays as the fallback.
grep -q 'name: ovalstream_websocket_connections$' "$work/helm-edge.yaml" || fail "HPA: connections metric not rendered"
grep -q 'averageUtilization: 70' "$work/helm-edge.yaml" || fail "HPA: CPU fallback missing beside the connections metric"
grep -q 'as: "ovalstream_websocket_connections"' "$repo/docs/deploy.md" || fail "docs/deploy.md: no adapter rule serving ovalstream_websocket_connections"
adapter_series=$(grep -o "seriesQuery: '[a-z_]*" "$repo/docs/deploy.md" | head -1 | sed "s/seriesQuery: '//" || true)
{ [ -n "$adapter_series" ] && grep -rq "\"$adapter_series\"" "$repo/aggregator/src" "$repo/adapters"; } \
  || fail "docs/deploy.md: the adapter rule's series '$adapter_series' is not registered by the aggregator"

# NOTES.txt: warns when no one creates the stream and when the PodDisruptionBudget is off, not otherwise.
grep -q 'WARNING: nothing in this release creates stream VANTAGE' "$work/notes-defaults.txt" || fail "NOTES.txt: no warning about the stream"
if grep -q 'creates stream' "$work/notes-production.txt"; then fail "NOTES.txt: stream warning despite nats.streamProvisioned"; fi
if grep -q 'WARNING: podDisruptionBudget' "$work/notes-defaults.txt"; then fail "NOTES.txt: PDB warning although it is on"; fi
notes() { "$helm" template ovalstream "$notes_chart" --namespace live --show-only templates/zz-notes.yaml "$@"; }
notes --set podDisruptionBudget.enabled=false | grep -q 'WARNING: podDisruptionBudget.enabled is false' \
  || fail "NOTES.txt: no warning when the PodDisruptionBudget is off"
notes --set nats.createStream=true | grep -q 'nats.createStream is on' || fail "NOTES.txt: no note about createStream"
if notes --set nats.createStream=true | grep -q 'WARNING: nothing in this release'; then fail "NOTES.txt: stream warning despite createStream"; fi
notes --set replicaCount=1 | grep -q 'WARNING: replicaCount is 1' || fail "NOTES.txt: no warning for a single aggregator"

# Refusals: each must fail with its message.
refuse() {
  local what=$1 expected=$2
  shift 2
  local output
  if output=$("$helm" template ovalstream "$chart" "$@" 2>&1); then
    fail "$what: rendered, expected a refusal"
  elif ! grep -q -- "$expected" <<<"$output"; then
    fail "$what: refused without \"$expected\": $output"
  else
    echo "check-helm: refused as expected: $what"
  fi
}
refuse "misspelt value" "Additional property drainSecond is not allowed" --set aggregator.drainSecond=3
refuse "writable root filesystem" "readOnlyRootFilesystem" --set securityContext.readOnlyRootFilesystem=false
refuse "root user" "runAsNonRoot" --set podSecurityContext.runAsNonRoot=false
refuse "grace period shorter than the drain" "must exceed preStopSleepSeconds" \
  --set aggregator.terminationGracePeriodSeconds=20
refuse "both PodDisruptionBudget fields" "not both" \
  --set podDisruptionBudget.enabled=true --set podDisruptionBudget.minAvailable=1
refuse "bad pull policy" "pullPolicy" --set image.pullPolicy=Sometimes
refuse "auth required without a Secret" "set auth.existingSecret" --set aggregator.auth=required
refuse "recorder auth required without a key" "set auth.hmacSecretKey or auth.publicKeysKey" \
  --set recorder.enabled=true --set recorder.auth=required --set auth.existingSecret=ovalstream-auth
refuse "unknown auth mode" "aggregator.auth" --set aggregator.auth=maybe
refuse "malformed image digest" "digest" --set image.digest=latest
refuse "NATS TLS Secret with TLS off" "nats.tls.enabled is false" --set nats.tls.secretName=ovalstream-nats-tls
refuse "NATS client certificate without its key" "nats.tls.certKey needs nats.tls.keyKey" \
  --set nats.tls.enabled=true --set nats.tls.secretName=ovalstream-nats-tls --set nats.tls.keyKey=
refuse "nats.tls as a boolean (the old form)" "nats.tls" --set nats.tls=true
refuse "HTTPRoute without a Gateway" "parentRefs" --set httpRoute.enabled=true
refuse "HTTPRoute timeout malformed" "request" --set httpRoute.timeouts.request=forever
refuse "topology spread neither soft nor hard" "whenUnsatisfiable" --set topologySpread.whenUnsatisfiable=Sometimes

if [ "$failures" -ne 0 ]; then
  echo "check-helm: $failures failure(s)" >&2
  exit 1
fi
echo "check-helm: all checks passed"
