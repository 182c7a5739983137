#!/usr/bin/env bash
# Runs the real aggregator and `recorder serve` against a real nats-server (loopback, random ports,
# temporary store) with the environment of the Helm chart's ConfigMaps (so the chart's OVALSTREAM_* values
# are ones the executables accept), then checks /healthz, /readyz and /metrics at start, before any event:
# - `promtool check metrics` on each scrape;
# - every family of the explicit lists below is there with its TYPE (process metrics, the issue 17
#   metrics), and every labelled counter has its known series at 0 (so increase() and the alerts see the
#   first episode);
# - every ovalstream_* family the dashboard and the alerts name is in one of the two scrapes.
# Every wait is bounded; the processes are stopped on exit.
#   check-metrics.sh TOOLS_DIR WORK_DIR AGGREGATOR [--recorder RECORDER]
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

# Families each service must expose at start, "name type" (the TYPE line of the text format).
process_families=(
  "process_cpu_seconds_total counter" "process_open_fds gauge" "process_max_fds gauge"
  "process_virtual_memory_bytes gauge" "process_resident_memory_bytes gauge" "process_start_time_seconds gauge"
)
shared_families=(
  "ovalstream_build_info gauge" "ovalstream_ready gauge" "ovalstream_nats_connected gauge"
  "ovalstream_nats_reconnects_total counter" "ovalstream_nats_async_errors_total counter"
  "ovalstream_http_responses_total counter" "ovalstream_http_connections_dropped_total counter"
  "ovalstream_auth_failures_total counter" "ovalstream_auth_key_reloads_total counter"
)
aggregator_families=(
  "ovalstream_last_event_applied_timestamp_seconds gauge" "ovalstream_last_event_timestamp_seconds gauge"
  "ovalstream_consumer_pending_messages gauge" "ovalstream_competitions_held gauge"
  "ovalstream_competition_clients gauge" "ovalstream_competition_last_event_timestamp_seconds gauge"
  "ovalstream_websocket_connections_open gauge" "ovalstream_websocket_max_connections gauge"
  "ovalstream_websocket_connections_rejected_total counter" "ovalstream_websocket_closes_total counter"
  "ovalstream_websocket_queued_bytes gauge" "ovalstream_websocket_queued_max_bytes gauge"
  "ovalstream_websocket_queue_limit_bytes gauge" "ovalstream_feed_inbox_max_events gauge"
  "ovalstream_feed_inbox_limit_events gauge" "ovalstream_feed_backpressure_waits_total counter"
  "ovalstream_draining gauge" "ovalstream_snapshot_sent_bytes_total counter"
  "ovalstream_events_rejected_total counter" "ovalstream_events_duplicate_total counter"
  "ovalstream_publish_to_write_seconds histogram"
)
recorder_families=(
  "ovalstream_recorder_events_duplicate_total counter" "ovalstream_recorder_replays_total counter"
  "ovalstream_recorder_consumer_pending_messages gauge" "ovalstream_recorder_last_write_timestamp_seconds gauge"
  "ovalstream_recorder_write_errors_total counter"
)
# Labelled series that must exist at 0 before anything happened.
shared_zero_series=(
  'ovalstream_auth_failures_total{reason="forbidden"}' 'ovalstream_auth_failures_total{reason="origin"}'
  'ovalstream_auth_key_reloads_total{outcome="failed"}' 'ovalstream_http_responses_total{code="200"}'
  'ovalstream_http_responses_total{code="404"}' 'ovalstream_http_responses_total{code="503"}'
  'ovalstream_http_connections_dropped_total{reason="http_connections"}'
  'ovalstream_http_connections_dropped_total{reason="descriptor_reserve"}'
  'ovalstream_http_connections_dropped_total{reason="header_timeout"}'
  'ovalstream_nats_reconnects_total' 'ovalstream_nats_async_errors_total'
)
aggregator_zero_series=(
  'ovalstream_events_rejected_total{reason="schema"}' 'ovalstream_events_rejected_total{reason="not_json"}'
  'ovalstream_events_rejected_total{reason="subject_mismatch"}' 'ovalstream_events_rejected_total{reason="too_deep"}'
  'ovalstream_websocket_connections_rejected_total{reason="draining"}'
  'ovalstream_websocket_connections_rejected_total{reason="max_connections"}'
  'ovalstream_feed_backpressure_waits_total{outcome="drained"}'
  'ovalstream_feed_backpressure_waits_total{outcome="timeout"}'
  'ovalstream_websocket_client_frame_limit_closes_total{reason="message_size"}'
  'ovalstream_websocket_client_frame_limit_closes_total{reason="frame_rate"}'
  'ovalstream_competitions_dropped_total{reason="idle"}' 'ovalstream_competitions_dropped_total{reason="limit"}'
  'ovalstream_websocket_closes_total{reason="client_close"}' 'ovalstream_websocket_closes_total{reason="client_gone"}'
  'ovalstream_websocket_closes_total{reason="ping_timeout"}' 'ovalstream_websocket_closes_total{reason="slow_consumer"}'
  'ovalstream_websocket_closes_total{reason="message_size"}' 'ovalstream_websocket_closes_total{reason="frame_rate"}'
  'ovalstream_websocket_closes_total{reason="protocol_error"}' 'ovalstream_websocket_closes_total{reason="server"}'
  'ovalstream_websocket_closes_total{reason="shutdown"}'
  'ovalstream_websocket_connections_accepted_total{endpoint="competition"}'
  'ovalstream_http_responses_total{code="426"}' 'ovalstream_last_event_applied_timestamp_seconds'
  'ovalstream_draining' 'ovalstream_websocket_queued_bytes' 'ovalstream_websocket_queued_max_bytes'
  'ovalstream_feed_inbox_max_events' 'ovalstream_snapshot_sent_bytes_total'
)
recorder_zero_series=(
  'ovalstream_recorder_replays_total{outcome="finished"}' 'ovalstream_recorder_replays_total{outcome="failed"}'
  'ovalstream_recorder_replays_total{outcome="cancelled"}' 'ovalstream_auth_failures_total{reason="content_type"}'
  'ovalstream_http_responses_total{code="415"}'
)

# scrape NAME URL FAMILIES... -- ZERO_SERIES...: promtool check metrics, the families with their types, and
# the series at 0.
scrape() {
  local name=$1 url=$2
  shift 2
  curl -sf -m 10 "$url" >"$tmp/$name.metrics" || { fail "$name: GET $url"; return; }
  if promtool check metrics <"$tmp/$name.metrics"; then
    echo "check-metrics: $name: promtool check metrics: clean ($(grep -c '^# TYPE' "$tmp/$name.metrics") families)"
  else
    fail "$name: promtool check metrics reported problems"
  fi
  local entry family type series zero=0 count=0
  for entry in "$@"; do
    if [ "$entry" = "--" ]; then zero=1; continue; fi
    count=$((count + 1))
    if [ "$zero" = 0 ]; then
      read -r family type <<<"$entry"
      grep -qxF "# TYPE $family $type" "$tmp/$name.metrics" || fail "$name: no family $family of type $type"
    else
      series=$entry
      grep -qxF "$series 0" "$tmp/$name.metrics" || fail "$name: $series is not there at 0 ($(grep -F "$series" "$tmp/$name.metrics" || echo absent))"
    fi
  done
  echo "check-metrics: $name: checked $count families and series"
}

scrape aggregator "$base/metrics" "${process_families[@]}" "${shared_families[@]}" "${aggregator_families[@]}" \
  -- "${shared_zero_series[@]}" "${aggregator_zero_series[@]}"
grep -q '^ovalstream_nats_connected 1' "$tmp/aggregator.metrics" || fail "aggregator: ovalstream_nats_connected is not 1"
grep -q '^ovalstream_ready 1' "$tmp/aggregator.metrics" || fail "aggregator: ovalstream_ready is not 1 although /readyz is 200"
grep -q '^ovalstream_build_info{component="aggregator",' "$tmp/aggregator.metrics" || fail "aggregator: build_info has no component"

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
    scrape recorder "http://127.0.0.1:$recorder_metrics_port/metrics" "${process_families[@]}" \
      "${shared_families[@]}" "${recorder_families[@]}" -- "${shared_zero_series[@]}" "${recorder_zero_series[@]}"
    grep -q '^ovalstream_build_info{component="recorder",' "$tmp/recorder.metrics" || fail "recorder: build_info has no component"
  else
    fail "recorder: not healthy and ready"
    cat "$tmp/recorder.log" >&2
  fi
fi

# Every family the dashboard and the alerts name is exposed at start by one of the services (a labelled
# family included: each shows its series at 0, or, per competition, its TYPE line).
while read -r family; do
  if grep -qs "^# TYPE $family " "$tmp/aggregator.metrics" "$tmp/recorder.metrics"; then
    echo "check-metrics: $family (dashboard or alerts) scraped"
  else
    fail "$family is named by the dashboard or alerts but not in the scrapes"
  fi
done < <(node "$here/check-monitoring.mjs" --metric-names)

if [ "$failures" -ne 0 ]; then
  echo "check-metrics: aggregator log:" >&2
  cat "$tmp/aggregator.log" >&2
  exit 1
fi
echo "check-metrics: all checks passed"
