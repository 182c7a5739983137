#!/usr/bin/env bash
# Runs one libFuzzer target for a fixed time (the CTest tests core_fuzz and client_frame_fuzz, label "fuzz";
# scripts/fuzz for long runs).
#   run_fuzzer.sh NAME FUZZER FUZZ_SOURCE_DIR DATA_DIR WORK_DIR SECONDS
# The inputs are fuzz/corpus/NAME/ (small hand-written seeds), fuzz/regressions/NAME/ (inputs that once
# failed: each runs first, every time) and, for core_fuzz when the real recording is in DATA_DIR
# (OVALSTREAM_DATA_DIR overrides it), windows of its lines; the recording itself stays outside the repo.
# WORK_DIR/corpus is where libFuzzer adds what it finds; it is kept when it exists (FUZZ_KEEP_CORPUS=1), so
# long runs continue where the last stopped. Findings go to WORK_DIR/artifacts.
# Exit 77 (CTest: skipped) when FUZZER is not built.
set -euo pipefail
name=$1
fuzzer=$2
source_dir=$3
data_dir=${OVALSTREAM_DATA_DIR:-$4}
work=$5
seconds=$6
recording=$data_dir/20200112-ec-recover-10-3.jsonl

if [ -z "$fuzzer" ] || [ ! -x "$fuzzer" ]; then
  echo "SKIP: $name not built${fuzzer:+ ($fuzzer missing)}: it needs clang; scripts/test builds it" \
    "in <build>-fuzz, or configure a clang build with -DOVALSTREAM_BUILD_FUZZERS=ON"
  exit 77
fi

if [ "${FUZZ_KEEP_CORPUS:-0}" != 1 ]; then
  rm -rf "$work"
fi
mkdir -p "$work/corpus" "$work/artifacts"
cp "$source_dir/corpus/$name"/* "$work/corpus/"

if [ "$name" = core_fuzz ] && [ -r "$recording" ]; then
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
  echo "seed corpus: fuzz/corpus/$name plus $(ls "$work/corpus" | grep -c '^recording-') seeds from $recording"
elif [ "$name" = core_fuzz ]; then
  echo "real recording $recording not found (set OVALSTREAM_DATA_DIR or -DOVALSTREAM_SHARED_DATA_DIR):" \
    "fuzzing with the committed seeds only"
fi

inputs=("$work/corpus")
regressions=$source_dir/regressions/$name
if [ -n "$(ls -A "$regressions" 2>/dev/null | grep -v '^README')" ]; then
  # Regression inputs are read (and run) first but never written to: libFuzzer adds to the first dir only.
  mkdir -p "$work/regressions"
  find "$regressions" -type f ! -name 'README*' -exec cp {} "$work/regressions/" \;
  inputs+=("$work/regressions")
fi
dict=()
if [ -r "$source_dir/$name.dict" ]; then
  dict=(-dict="$source_dir/$name.dict")
fi

# -max_len 128 KiB: room for the largest real event (84 KB) and a client frame over the 64 KiB bound.
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
status=0
# libFuzzer's own exit code for a finding is 77, which CTest would read as "skipped": make it 1.
"$fuzzer" -max_total_time="$seconds" -max_len=131072 -timeout=30 -rss_limit_mb=4096 -error_exitcode=1 \
  -timeout_exitcode=1 "${dict[@]}" -artifact_prefix="$work/artifacts/" -print_final_stats=1 \
  "${inputs[@]}" || status=$?
if [ "$status" -ne 0 ]; then
  echo "$name failed (exit $status); reproduce with: $fuzzer $work/artifacts/<crash file>"
  ls -l "$work/artifacts"
fi
exit "$status"
