#!/usr/bin/env bash
# helm lint --strict and helm template over a matrix of values; every render validated (validate.mjs) and
# yamllinted; the chart's refusals (schema, grace period, PodDisruptionBudget) and its rendered details
# (websocket timeouts, ServiceMonitor labels, config checksum) checked.
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
  "defaults||Deployment,Service,ServiceAccount,ConfigMap,Pod"
  "production|production.yaml|Deployment,Service,ConfigMap,Ingress,HorizontalPodAutoscaler,PodDisruptionBudget,ServiceMonitor,PrometheusRule"
  "recorder|recorder.yaml|Deployment,StatefulSet,ServiceMonitor"
  "access-control|access-control.yaml|Deployment,StatefulSet,NetworkPolicy"
  "everything|production.yaml,recorder.yaml,access-control.yaml|Deployment,StatefulSet,Ingress,HorizontalPodAutoscaler,PodDisruptionBudget,ServiceMonitor,PrometheusRule,NetworkPolicy"
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
  else
    fail "$name: NOTES.txt does not render"
  fi
done

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

checksum() { grep -m1 'checksum/config:' "$1" | awk '{print $2}'; }
"$helm" template ovalstream "$chart" >"$work/checksum-a.yaml"
"$helm" template ovalstream "$chart" --set nats.url=nats://other:4222 >"$work/checksum-b.yaml"
if [ -z "$(checksum "$work/checksum-a.yaml")" ] || [ "$(checksum "$work/checksum-a.yaml")" = "$(checksum "$work/checksum-b.yaml")" ]; then
  fail "checksum/config does not change with the configuration"
fi

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

if [ "$failures" -ne 0 ]; then
  echo "check-helm: $failures failure(s)" >&2
  exit 1
fi
echo "check-helm: all checks passed"
