#!/usr/bin/env bash
# Side-by-side timing of gracewatch, tshark and tcpdump on the same captures.
#
#   benches/compare.sh [CAPTURE] [RUNS]
#
# With CAPTURE, one table for that file. Without, the two benchmark inputs:
#   bulk           the largest capture of ../shared/captures-pool (decompressed into
#                  target/pool-originals by the test suite or by this script);
#   metadata-heavy a capture generated on the fly by examples/gencap (2000 NLM and
#                  NFSv4.1 clients locking, a server restart and a reclaim storm,
#                  about 2 million packets),
# then the scaling checks on generated captures: peak memory for 1x vs 2x the file
# (same clients, twice the cycles) and 1x vs 2x the clients, and time for 1x vs 10x
# the file; and the metadata-heavy capture again with NFSv4.0 clients in place of the
# NFSv4.1 ones (`gencap --v40`: no sessions, a RELEASE_LOCKOWNER ending every cycle).
#
# Each command runs RUNS times (default 5; META_RUNS, default 3, for the
# metadata-heavy input, where tshark takes minutes; gracewatch's commands, which take
# seconds, at least GW_RUNS times, default 9, and GW_RUNS times in the scaling checks);
# the median wall time, its ratio to
# gracewatch's audit and the peak resident memory (from /usr/bin/time -v) are printed
# as Markdown tables, with audit's throughput at its median and at its fastest run (the
# one the machine slowed least). Absolute times on shared machines are noisy: read the
# ratios.
#
# gracewatch is the build of benches/pgo.sh (profile-guided, trained on captures/);
# the tables also time `audit` from the plain `cargo build --release`.
#
# Environment: META_CLIENTS (2000), META_CYCLES (90), META_RUNS (3), GW_RUNS (9),
# SCALING (1: run the scaling checks; 0: skip them), PGO (1; 0: time the plain build
# only).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${2:-5}
cap=${1:-}
meta_runs=${META_RUNS:-3}
gw_runs=${GW_RUNS:-9}
meta_clients=${META_CLIENTS:-2000}
meta_cycles=${META_CYCLES:-90}
scaling=${SCALING:-1}
for t in tshark tcpdump capinfos /usr/bin/time; do
  command -v "$t" >/dev/null || { echo "missing: $t (apt-get install tshark tcpdump time)" >&2; exit 2; }
done
cargo build --release -q
cargo build --release -q --example gencap
plain=target/release/gracewatch
gw=$plain
if [ "${PGO:-1}" = 1 ]; then
  bash benches/pgo.sh >/dev/null
  gw=target/pgo/gracewatch
fi
gen=target/release/examples/gencap
mkdir -p target/bench

# The fields gracewatch prints for each message.
tshark_fields=(-e frame.number -e frame.time_epoch -e ip.src -e ip.dst -e ipv6.src -e ipv6.dst
  -e tcp.srcport -e tcp.dstport -e udp.srcport -e udp.dstport -e rpc.xid -e rpc.msgtyp
  -e rpc.program -e rpc.programversion -e rpc.procedure -e rpc.replystat -e rpc.state_accept
  -e rpc.repframe -e rpc.time -e nlm.procedure_v4 -e nlm.reclaim -e nlm.lock.l_offset64 -e nlm.lock.l_len64 -e nlm.stat -e nfs.opcode -e nfs.nfsstat4)

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# run_cmd CMD RUNS FILE: sets $med (median seconds), $best (fastest run) and $peak
# (largest peak RSS, KB).
# FILE, the capture CMD reads, is read once beforehand, so that every command reads it
# from the page cache, as the runs after the first would anyway (the first read from
# disk of a 553 MB capture took the audit twice as long).
# Times are taken to the millisecond around /usr/bin/time (which gives hundredths).
run_cmd() {
  local times=() kb i t0 t1
  peak=0
  cat "$3" >/dev/null
  for ((i = 0; i < $2; i++)); do
    t0=$EPOCHREALTIME
    kb=$( { /usr/bin/time -f "%M" bash -c "$1 >/dev/null 2>/dev/null || true"; } 2>&1 | tail -1)
    t1=$EPOCHREALTIME
    times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')")
    if (( kb > peak )); then peak=$kb; fi
  done
  med=$(printf '%s\n' "${times[@]}" | median)
  best=$(printf '%s\n' "${times[@]}" | sort -n | head -1)
}

# RPC messages gracewatch hands to its sinks for a capture.
messages() {
  "$gw" stats --json -r "$1" 2>/dev/null | python3 -c 'import json,sys
c = json.load(sys.stdin)["counters"]
print(c["rpc_calls"] + c["retransmitted_calls"] + c["rpc_replies"] + c["duplicate_replies"] + c["orphan_replies"])'
}

frames() { capinfos -c -M "$1" 2>/dev/null | awk -F: '/Number of packets/ {gsub(/ /, "", $2); print $2}'; }

# table CAPTURE RUNS: the four tools side by side.
table() {
  local c=$1 n=$2 name base k
  declare -A cmds med_of mem_of best_of runs_of
  local names=()
  add() { names+=("$1"); cmds["$1"]="$2"; }
  add "gracewatch audit" "$gw audit -r $c"
  [ "$gw" = "$plain" ] || add "gracewatch audit, plain build" "$plain audit -r $c"
  add "gracewatch decode --json" "$gw decode --json -r $c"
  add "tcpdump -nn -vv -r" "tcpdump -nn -vv -r $c"
  add "tshark -T fields" "tshark -n -r $c -T fields ${tshark_fields[*]} -Y rpc"
  for name in "${names[@]}"; do
    k=$n
    if [[ $name == gracewatch* ]] && (( gw_runs > k )); then k=$gw_runs; fi
    run_cmd "${cmds[$name]}" "$k" "$c"
    med_of[$name]=$med
    best_of[$name]=$best
    mem_of[$name]=$peak
    runs_of[$name]=$k
  done
  base="gracewatch audit"
  local msgs
  msgs=$(messages "$c")
  echo "capture: $c ($(du -h "$c" | cut -f1), $(frames "$c") frames, $msgs RPC messages), $(nproc) cores"
  echo
  echo "| command | runs | median s | × $base | fastest s | peak RSS MB |"
  echo "|---|---:|---:|---:|---:|---:|"
  for name in "${names[@]}"; do
    ratio=$(awk -v a="${med_of[$name]}" -v b="${med_of[$base]}" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
    echo "| \`$name\` | ${runs_of[$name]} | ${med_of[$name]} | $ratio | ${best_of[$name]} | $(( mem_of[$name] / 1024 )) |"
  done
  echo
  awk -v m="$msgs" -v t="${med_of[$base]}" -v tb="${best_of[$base]}" -v td="${med_of[tcpdump -nn -vv -r]}" -v ts="${med_of[tshark -T fields]}" 'BEGIN {
    printf "audit: %.2f million RPC messages/s (median run; fastest run %.2f million/s); %.2fx faster than tcpdump, %.1fx faster than tshark\n\n", (t > 0 ? m / t / 1e6 : 0), (tb > 0 ? m / tb / 1e6 : 0), (t > 0 ? td / t : 0), (t > 0 ? ts / t : 0) }'
}

generate() { # OUT CLIENTS CYCLES [GENCAP OPTION...]
  if [ ! -f "$1" ]; then
    "$gen" --clients "$2" --cycles "$3" "${@:4}" "$1.tmp" 2>/dev/null && mv "$1.tmp" "$1"
  fi
}

if [ -n "$cap" ]; then
  table "$cap" "$runs"
  exit 0
fi

src=../shared/captures-pool/nfstrace/originals-bz2/eth-ipv4-tcp-nfsv3-4-41-cifs1-2.pcap.bz2
bulk=target/pool-originals/eth-ipv4-tcp-nfsv3-4-41-cifs1-2.pcap
if [ ! -f "$bulk" ]; then
  mkdir -p target/pool-originals
  bzip2 -dc "$src" > "$bulk.tmp" && mv "$bulk.tmp" "$bulk"
fi
meta=target/bench/meta-${meta_clients}c-${meta_cycles}y.pcap
generate "$meta" "$meta_clients" "$meta_cycles"

echo "## bulk data"
echo
table "$bulk" "$runs"
echo "## metadata-heavy (generated: $meta_clients clients, $meta_cycles cycles)"
echo
table "$meta" "$meta_runs"

[ "$scaling" = 1 ] || exit 0

# Scaling of gracewatch audit on generated captures: 1x, 2x the cycles (the same live
# state over twice the time), 2x the clients (twice the live state), and a capture of
# ten times 1x's frames for the time linearity (against 1x, long enough that timer
# resolution and start-up do not weigh). Frames grow linearly with the cycles on top of
# a fixed part (set-up, restart, reclaims): the large capture's cycles come from the
# line through 1x and 2x.
half=$(( meta_clients / 2 ))
base_cycles=$(( meta_cycles / 2 ))
one=target/bench/meta-${half}c-${base_cycles}y.pcap
long=target/bench/meta-${half}c-$(( base_cycles * 2 ))y.pcap
wide=target/bench/meta-${meta_clients}c-${base_cycles}y.pcap
generate "$one" "$half" "$base_cycles"
generate "$long" "$half" $(( base_cycles * 2 ))
generate "$wide" "$meta_clients" "$base_cycles"
f_one=$(frames "$one"); f_long=$(frames "$long")
big_cycles=$(awk -v c1="$base_cycles" -v f1="$f_one" -v c2=$(( base_cycles * 2 )) -v f2="$f_long" 'BEGIN {
  b = (f2 - f1) / (c2 - c1); a = f1 - b * c1; printf "%d", (10 * f1 - a) / b + 0.5 }')
big=target/bench/meta-${half}c-${big_cycles}y.pcap
generate "$big" "$half" "$big_cycles"
v40=target/bench/meta40-${meta_clients}c-${meta_cycles}y.pcap
generate "$v40" "$meta_clients" "$meta_cycles" --v40
echo "## scaling of \`gracewatch audit\` (generated captures, $gw_runs runs each)"
echo
echo "| capture | clients | cycles | frames | RPC messages | median s | messages/s | fastest s | messages/s | peak RSS MB |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
declare -A sec fast fr mem
for spec in "1x:$one:$half:$base_cycles" "2x file:$long:$half:$(( base_cycles * 2 ))" "2x clients:$wide:$meta_clients:$base_cycles" "10x file:$big:$half:$big_cycles" "NFSv4.0:$v40:$meta_clients:$meta_cycles"; do
  IFS=: read -r label f cl cy <<< "$spec"
  run_cmd "$gw audit -r $f" "$gw_runs" "$f"
  m=$(messages "$f")
  fr[$label]=$(frames "$f")
  sec[$label]=$med
  fast[$label]=$best
  mem[$label]=$peak
  rate=$(awk -v m="$m" -v t="$med" 'BEGIN { printf "%.2f M", (t > 0 ? m / t / 1e6 : 0) }')
  brate=$(awk -v m="$m" -v t="$best" 'BEGIN { printf "%.2f M", (t > 0 ? m / t / 1e6 : 0) }')
  echo "| $label | $cl | $cy | ${fr[$label]} | $m | $med | $rate | $best | $brate | $(( peak / 1024 )) |"
done
echo
awk -v a="${mem[1x]}" -v b="${mem[2x file]}" -v c="${mem[2x clients]}" 'BEGIN {
  printf "peak memory: 2x file %.2fx, 2x clients %.2fx of 1x\n", b / a, c / a }'
# 10x the packets: 1x against the large capture, at the median runs and at the fastest
# (the runs the machine slowed least: 1x takes a few tenths of a second, and the
# machine's speed moves its median most).
awk -v f1="${fr[1x]}" -v f2="${fr[10x file]}" -v t1="${sec[1x]}" -v t2="${sec[10x file]}" -v b1="${fast[1x]}" -v b2="${fast[10x file]}" 'BEGIN {
  printf "time linearity: %.1fx the frames took %.1fx the time at the median runs (%.2f of linear), %.1fx at the fastest (%.2f)\n", f2 / f1, t2 / t1, (t2 / t1) / (f2 / f1), b2 / b1, (b2 / b1) / (f2 / f1) }'
