#!/usr/bin/env bash
# Runs the real aggregator against a real nats-server (loopback, random ports, temporary store) with the
# environment of the Helm chart's ConfigMap (so the chart's OVALSTREAM_* values are ones the executable
# accepts), then checks /healthz, /readyz and /metrics: `promtool check metrics` on the scrape, and every
# aggregator metric the dashboard and alerts name is in the scrape (or, for a labelled family with no
# series yet, registered in the sources). Every wait is bounded; both processes are stopped on exit.
#   check-metrics.sh TOOLS_DIR WORK_DIR AGGREGATOR [--recorder RECORDER]
# --recorder is the hook for `recorder serve` (HOOK recorder-scrape below): not passed by CMake until the
# recorder's serve command exists.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
tools=${1:?usage: check-metrics.sh TOOLS_DIR WORK_DIR AGGREGATOR [--recorder RECORDER]}
work=${2:?}
aggregator=${3:?}
shift 3
recorder=""
if [ "${1:-}" = "--recorder" ]; then recorder=${2:?--recorder needs a path}; fi
export OVALSTREAM_DEPLOY_TOOLS=$tools

for program in nats-server promtool curl node; do
  command -v "$program" >/dev/null || { echo "check-metrics: $program not found (scripts/setup installs it)" >&2; exit 1; }
done

mkdir -p "$work"
tmp=$(mktemp -d "$work/metrics.XXXXXX")
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close();});'
}
# wait_http URL CODE SECONDS: until URL answers CODE, at most SECONDS.
wait_http() {
  local url=$1 code=$2 seconds=$3 got=""
  for _ in $(seq 1 $((seconds * 5))); do
    got=$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$url" || true)
    [ "$got" = "$code" ] && return 0
    sleep 0.2
  done
  echo "check-metrics: $url answered ${got:-nothing}, expected $code within $seconds s" >&2
  return 1
}

nats_port=$(free_port)
nats-server -js -a 127.0.0.1 -p "$nats_port" -sd "$tmp/jetstream" >"$tmp/nats.log" 2>&1 &
pids+=($!)
ready=0
for _ in $(seq 1 100); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$nats_port") 2>/dev/null; then ready=1; break; fi
  sleep 0.1
done
[ "$ready" = 1 ] || { echo "check-metrics: nats-server did not listen within 10 s" >&2; cat "$tmp/nats.log" >&2; exit 1; }

# The chart's configuration as the environment; the command line wins for what a test must change
# (loopback NATS, loopback listeners, a drain that does not make the test wait).
"$tools/bin/helm" template ovalstream "$repo/helm/ovalstream" >"$tmp/chart.yaml"
node "$here/chart-env.mjs" "$tmp/chart.yaml" -aggregator >"$tmp/aggregator.env"
echo "check-metrics: aggregator environment from the chart:"
sed 's/^/  /' "$tmp/aggregator.env"
metrics_port=$(free_port)
(
  set -a
  # shellcheck disable=SC1091
  . "$tmp/aggregator.env"
  set +a
  exec "$aggregator" start --nats-url "nats://127.0.0.1:$nats_port" --create-stream \
    --hub-address 127.0.0.1:0 --metrics-address "127.0.0.1:$metrics_port" --drain-delay 0s --drain-seconds 0
) >"$tmp/aggregator.log" 2>&1 &
pids+=($!)
base="http://127.0.0.1:$metrics_port"
if ! wait_http "$base/healthz" 200 30 || ! wait_http "$base/readyz" 200 60; then
  echo "check-metrics: aggregator log:" >&2
  cat "$tmp/aggregator.log" >&2
  exit 1
fi

failures=0
fail() { echo "check-metrics: FAIL: $*" >&2; failures=$((failures + 1)); }

# scrape NAME URL: promtool check metrics, and the families the dashboard and alerts name with PREFIX.
scrape() {
  local name=$1 url=$2 filter=$3
  curl -sf -m 10 "$url" >"$tmp/$name.metrics" || { fail "$name: GET $url"; return; }
  if promtool check metrics <"$tmp/$name.metrics"; then
    echo "check-metrics: $name: promtool check metrics: clean ($(grep -c '^# TYPE' "$tmp/$name.metrics") families)"
  else
    fail "$name: promtool check metrics reported problems"
  fi
  local family
  while read -r family; do
    if grep -q "^# TYPE $family " "$tmp/$name.metrics"; then
      echo "check-metrics: $name: $family scraped"
    elif grep -rqs "\"$family\"" "$repo/aggregator/src" "$repo/recorder/src"; then
      echo "check-metrics: $name: $family registered, no series yet (a labelled family)"
    else
      fail "$name: $family is named by the dashboard or alerts but neither scraped nor registered"
    fi
  done < <(node "$here/check-monitoring.mjs" --metric-names | grep -E "$filter")
}

scrape aggregator "$base/metrics" '^ovalstream_(websocket|events|publish|nats)_'
grep -q '^ovalstream_nats_connected 1' "$tmp/aggregator.metrics" || fail "aggregator: ovalstream_nats_connected is not 1"

# HOOK recorder-scrape: start `recorder serve` the same way and scrape it. Enabled by passing --recorder
# (CMake: add `--recorder $<TARGET_FILE:recorder>` to deploy_metrics) once serve is implemented.
if [ -n "$recorder" ]; then
  node "$here/chart-env.mjs" <("$tools/bin/helm" template ovalstream "$repo/helm/ovalstream" --set recorder.enabled=true) \
    -recorder >"$tmp/recorder.env"
  recorder_metrics_port=$(free_port)
  (
    set -a
    # shellcheck disable=SC1091
    . "$tmp/recorder.env"
    set +a
    exec "$recorder" serve --dir "$tmp/recordings" --nats-url "nats://127.0.0.1:$nats_port" \
      --address 127.0.0.1:0 --metrics-address "127.0.0.1:$recorder_metrics_port"
  ) >"$tmp/recorder.log" 2>&1 &
  pids+=($!)
  if wait_http "http://127.0.0.1:$recorder_metrics_port/healthz" 200 30 \
    && wait_http "http://127.0.0.1:$recorder_metrics_port/readyz" 200 60; then
    scrape recorder "http://127.0.0.1:$recorder_metrics_port/metrics" '^ovalstream_(recorder_|nats_)'
  else
    fail "recorder: not healthy and ready"
    cat "$tmp/recorder.log" >&2
  fi
fi

if [ "$failures" -ne 0 ]; then
  echo "check-metrics: aggregator log:" >&2
  cat "$tmp/aggregator.log" >&2
  exit 1
fi
echo "check-metrics: all checks passed"
