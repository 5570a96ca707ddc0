#!/usr/bin/env bash
# Side-by-side timing of gracewatch, tshark and tcpdump on the same capture.
#
#   benches/compare.sh [CAPTURE] [RUNS]
#
# CAPTURE defaults to the largest capture of ../shared/captures-pool (decompressed
# into target/pool-originals by the test suite or by this script). Each command runs
# RUNS times (default 5); the median wall time, its ratio to gracewatch's audit (or
# decode when audit is not built) and the peak resident memory (from /usr/bin/time -v)
# are printed as a Markdown table. Absolute times on shared machines are noisy: read
# the ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${2:-5}
cap=${1:-}
if [ -z "$cap" ]; then
  src=../shared/captures-pool/nfstrace/originals-bz2/eth-ipv4-tcp-nfsv3-4-41-cifs1-2.pcap.bz2
  cap=target/pool-originals/eth-ipv4-tcp-nfsv3-4-41-cifs1-2.pcap
  if [ ! -f "$cap" ]; then
    mkdir -p target/pool-originals
    bzip2 -dc "$src" > "$cap.tmp" && mv "$cap.tmp" "$cap"
  fi
fi
for t in tshark tcpdump /usr/bin/time; do
  command -v "$t" >/dev/null || { echo "missing: $t (apt-get install tshark tcpdump time)" >&2; exit 2; }
done
cargo build --release -q
gw=target/release/gracewatch

# The fields gracewatch prints for each message.
tshark_fields=(-e frame.number -e frame.time_epoch -e ip.src -e ip.dst -e ipv6.src -e ipv6.dst
  -e tcp.srcport -e tcp.dstport -e udp.srcport -e udp.dstport -e rpc.xid -e rpc.msgtyp
  -e rpc.program -e rpc.programversion -e rpc.procedure -e rpc.replystat -e rpc.state_accept
  -e rpc.repframe -e rpc.time -e nlm.procedure_v4 -e nlm.reclaim -e nlm.lock.l_offset64 -e nlm.lock.l_len64 -e nlm.stat -e nfs.opcode -e nfs.nfsstat4)

declare -A cmds
names=()
add() { names+=("$1"); cmds["$1"]="$2"; }
if "$gw" audit --help >/dev/null 2>&1; then
  add "gracewatch audit" "$gw audit -r $cap"
fi
add "gracewatch decode --json" "$gw decode --json -r $cap"
add "gracewatch stats" "$gw stats -r $cap"
add "tcpdump -nn -vv -r" "tcpdump -nn -vv -r $cap"
add "tshark -T fields" "tshark -n -r $cap -T fields ${tshark_fields[*]} -Y rpc"

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

declare -A med mem
for n in "${names[@]}"; do
  times=(); peak=0
  for ((i = 0; i < runs; i++)); do
    out=$( { /usr/bin/time -f "%e %M" bash -c "${cmds[$n]} >/dev/null 2>/dev/null"; } 2>&1 | tail -1)
    times+=("${out% *}")
    kb=${out#* }
    if (( kb > peak )); then peak=$kb; fi
  done
  med[$n]=$(printf '%s\n' "${times[@]}" | median)
  mem[$n]=$peak
done
base="${names[0]}"
echo "capture: $cap ($(du -h "$cap" | cut -f1), $(capinfos -c -M "$cap" 2>/dev/null | awk -F: '/Number of packets/ {gsub(/ /, "", $2); print $2}') frames), $runs runs each, $(nproc) cores"
echo
echo "| command | median s | × $base | peak RSS MB |"
echo "|---|---:|---:|---:|"
for n in "${names[@]}"; do
  ratio=$(awk -v a="${med[$n]}" -v b="${med[$base]}" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
  echo "| \`$n\` | ${med[$n]} | $ratio | $(( mem[$n] / 1024 )) |"
done
