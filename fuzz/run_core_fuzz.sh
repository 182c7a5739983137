#!/usr/bin/env bash
# Runs core_fuzz for a fixed time on a fresh corpus (the CTest test "core_fuzz", label "fuzz").
#   run_core_fuzz.sh FUZZER FUZZ_SOURCE_DIR DATA_DIR WORK_DIR SECONDS
# The corpus is fuzz/corpus/ (small hand-written seeds) plus, when the real recording is in DATA_DIR
# (OVALSTREAM_DATA_DIR overrides it), windows of its lines; the recording itself stays outside the repo.
# Exit 77 (CTest: skipped) when FUZZER is not built.
set -euo pipefail
fuzzer=$1
source_dir=$2
data_dir=${OVALSTREAM_DATA_DIR:-$3}
work=$4
seconds=$5
recording=$data_dir/20200112-ec-recover-10-3.jsonl

if [ -z "$fuzzer" ] || [ ! -x "$fuzzer" ]; then
  echo "SKIP: core_fuzz not built${fuzzer:+ ($fuzzer missing)}: it needs clang; scripts/test builds it" \
    "in <build>-fuzz, or configure a clang build with -DOVALSTREAM_BUILD_FUZZERS=ON"
  exit 77
fi

rm -rf "$work"
mkdir -p "$work/corpus" "$work/artifacts"
cp "$source_dir"/corpus/* "$work/corpus/"

if [ -r "$recording" ]; then
  # Heat events change nothing unless their heat is shown, so each window of 16 live lines comes after
  # the distance and heat activations; one more seed is the recovery burst as recorded (at most 64
  # windows, so a long recording does not make a huge corpus).
  activation='"typeName": *"(Competition|Distance|Heat)ActivatedEvent"'
  grep -E '"typeName": *"(Distance|Heat)ActivatedEvent"' "$recording" >"$work/activations" || true
  grep -vE "$activation" "$recording" | head -n $((16 * 64)) | awk -v out="$work/corpus/recording-" \
    -v activations="$work/activations" '
      (NR - 1) % 16 == 0 {
        if (file) close(file)
        file = sprintf("%s%03d", out, (NR - 1) / 16)
        while ((getline line < activations) > 0) print line > file
        close(activations)
      }
      { print > file }'
  grep -m 1 -E '"typeName": *"CompetitionActivatedEvent"' "$recording" >"$work/corpus/recording-burst" || true
  cat "$work/activations" >>"$work/corpus/recording-burst"
  echo "seed corpus: fuzz/corpus plus $(ls "$work/corpus" | grep -c '^recording-') seeds from $recording"
else
  echo "real recording $recording not found (set OVALSTREAM_DATA_DIR or -DOVALSTREAM_SHARED_DATA_DIR):" \
    "fuzzing with the committed seeds only"
fi

# -max_len 128 KiB: room for the largest real event (84 KB) while keeping each run fast.
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
status=0
# libFuzzer's own exit code for a finding is 77, which CTest would read as "skipped": make it 1.
"$fuzzer" -max_total_time="$seconds" -max_len=131072 -timeout=30 -rss_limit_mb=4096 -error_exitcode=1 \
  -timeout_exitcode=1 \
  -dict="$source_dir/core_fuzz.dict" -artifact_prefix="$work/artifacts/" -print_final_stats=1 \
  "$work/corpus" || status=$?
if [ "$status" -ne 0 ]; then
  echo "core_fuzz failed (exit $status); reproduce with: $fuzzer $work/artifacts/<crash file>"
  ls -l "$work/artifacts"
fi
exit "$status"
