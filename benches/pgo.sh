#!/usr/bin/env bash
# Build gracewatch with profile-guided optimisation, into target/pgo/gracewatch.
#
#   benches/pgo.sh
#
# 1. a release build instrumented to count what runs (target/pgo/gen);
# 2. training: `audit`, `audit --json`, `state`, `state --json`, `decode --json` and
#    `stats` over the project's own lab recordings in captures/ (never the benchmark
#    inputs of compare.sh);
# 3. the counts merged with llvm-profdata (rustup's llvm-tools component, added if
#    missing);
# 4. the release build again, laid out and inlined by those counts (target/pgo/use).
#
# The compiler then keeps the code that runs for every message together and moves the
# rest (errors, rare procedures, reports) aside: the thread that decodes and audits
# runs through less code, and misses the instruction cache less often.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$PWD/target/pgo
host=$(rustc -vV | sed -n 's/^host: //p')
profdata=$(rustc --print sysroot)/lib/rustlib/$host/bin/llvm-profdata
if [ ! -x "$profdata" ]; then
  rustup component add llvm-tools >/dev/null 2>&1 || rustup component add llvm-tools-preview >/dev/null 2>&1 || true
fi
[ -x "$profdata" ] || { echo "pgo.sh: llvm-profdata is missing: run 'rustup component add llvm-tools'" >&2; exit 2; }

rm -rf "$out/raw" "$out/build-raw"
mkdir -p "$out/raw"
# Build scripts run instrumented too: their counts go elsewhere.
RUSTFLAGS="${RUSTFLAGS:-} -Cprofile-generate=$out/build-raw" cargo build --release -q --target-dir "$out/gen"
gen=$out/gen/release/gracewatch
shopt -s nullglob
captures=(captures/*.pcap)
[ ${#captures[@]} -gt 0 ] || { echo "pgo.sh: no captures in captures/ to train on" >&2; exit 2; }
for f in "${captures[@]}"; do
  for cmd in "audit" "audit --json" "state" "state --json" "decode --json" "stats"; do
    # audit exits 1 when it finds something: what counts is the profile written.
    LLVM_PROFILE_FILE="$out/raw/gw-%p.profraw" "$gen" $cmd -r "$f" >/dev/null 2>&1 || true
  done
done
raw=("$out"/raw/*.profraw)
[ ${#raw[@]} -gt 0 ] || { echo "pgo.sh: the training runs wrote no profile" >&2; exit 2; }
"$profdata" merge -o "$out/merged.profdata" "${raw[@]}"
RUSTFLAGS="${RUSTFLAGS:-} -Cprofile-use=$out/merged.profdata" cargo build --release -q --target-dir "$out/use"
cp "$out/use/release/gracewatch" "$out/gracewatch"
echo "target/pgo/gracewatch: trained on ${#captures[@]} captures (${#raw[@]} runs)"
