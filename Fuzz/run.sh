#!/bin/bash
# Runs every fuzz target for $1 seconds each (default 300), two at a time (one per core), from copies
# of seeds/. $2 (or $FUZZ_BUILD) is the scratch folder the targets were built in (default .build-asan):
#   .build-asan     swift build -c release --scratch-path .build-asan -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
#   .build-release  swift build -c release --scratch-path .build-release -Xswiftc -sanitize=fuzzer -Xswiftc -parse-as-library
# $3 (or $FUZZ_TARGETS) picks targets, e.g. "ZipFuzz NpyFuzz"; $FUZZ_FLAGS adds libFuzzer flags (e.g.
# "-fork=1 -ignore_crashes=1" to go on past a finding). Each run's corpus grows in
# work/CONFIG/TARGET, its log is CONFIG-TARGET.log and what it finds lands in artifacts/CONFIG-TARGET-*.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-300}
build=${2:-${FUZZ_BUILD:-.build-asan}}
targets=(${3:-${FUZZ_TARGETS:-PickleFuzz SafeTensorsFuzz ZipFuzz NpyFuzz SessionFuzz CutListFuzz}})
config=$(basename "$build" | sed 's/^\.build-\{0,1\}//; s/^$/default/')
bin="$build/release"
# A trap (SIGILL) should be reported by libFuzzer's handler; Swift's backtracer, run in the signal
# handler of an ASan build, trips ASan itself and buries the report.
export SWIFT_BACKTRACE=${SWIFT_BACKTRACE:-enable=no}

seeds() {  # the seed folder and -max_len of a target
    case $1 in
        PickleFuzz) echo "pickle 16384" ;;
        SafeTensorsFuzz) echo "safetensors 8192" ;;
        ZipFuzz) echo "zip 8192" ;;
        NpyFuzz) echo "npy 8192" ;;
        SessionFuzz) echo "session 8192" ;;
        CutListFuzz) echo "cutlist 4096" ;;
        *) echo "unknown target $1" >&2; exit 2 ;;
    esac
}

one() {
    local target=$1 seed max
    read -r seed max <<< "$(seeds "$target")"
    mkdir -p "work/$config/$target" artifacts
    cp -n "seeds/$seed"/* "work/$config/$target/" 2>/dev/null || true
    "$bin/$target" "work/$config/$target" -max_total_time="$seconds" -max_len="$max" -rss_limit_mb=3072 -timeout=10 \
        -artifact_prefix="artifacts/$config-$target-" -print_final_stats=1 ${FUZZ_FLAGS:-} > "$config-$target.log" 2>&1 || true
}

for ((i = 0; i < ${#targets[@]}; i += 2)); do
    one "${targets[i]}" &
    if ((i + 1 < ${#targets[@]})); then one "${targets[i + 1]}" & fi
    wait
done
for target in "${targets[@]}"; do
    echo "== $config $target"
    grep -E '^#[0-9]+.*(DONE|pulse|NEW|REDUCE)' "$config-$target.log" | tail -n 1 || true
    grep -E 'stat::number_of_executed_units|stat::average_exec_per_sec|ERROR|SUMMARY|Fatal error|Test unit written' "$config-$target.log" || true
done
