#!/usr/bin/env bash
# Live capture check: replay a capture at a fixed rate onto the loopback interface of a
# private network namespace (which has nothing but lo), run `gracewatch audit -i lo`
# there, and report libpcap's drop counts. Nothing leaves the namespace. Needs root.
#
#   benches/live.sh [CAPTURE] [MBPS]
#
# CAPTURE defaults to the bulk benchmark input (the largest capture of the pool,
# decompressed into target/pool-originals); MBPS defaults to 1000 (1 Gbit/s). GW names
# another gracewatch binary to run (default: the release build).
set -euo pipefail
cd "$(dirname "$0")/.."
cap=${1:-target/pool-originals/eth-ipv4-tcp-nfsv3-4-41-cifs1-2.pcap}
mbps=${2:-1000}
for t in ip tcpreplay; do
  command -v "$t" >/dev/null || { echo "missing: $t (apt-get install iproute2 tcpreplay)" >&2; exit 2; }
done
if [ ! -f "$cap" ]; then
  src=../shared/captures-pool/nfstrace/originals-bz2/$(basename "$cap").bz2
  [ -f "$src" ] || { echo "no capture $cap" >&2; exit 2; }
  mkdir -p "$(dirname "$cap")"
  bzip2 -dc "$src" > "$cap.tmp" && mv "$cap.tmp" "$cap"
fi
cargo build --release -q
gw=${GW:-$PWD/target/release/gracewatch}
ns=gracewatch-live-$$
out=$(mktemp -d)
ip netns add "$ns"
cleanup() {
  [ -n "${gwpid:-}" ] && kill "$gwpid" 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$out"
}
trap cleanup EXIT
ip netns exec "$ns" ip link set lo up
# Only lo exists in the namespace: the replay cannot reach any other interface. On lo
# every replayed frame is seen going out and coming in: capture the inbound copy.
ip netns exec "$ns" ip -o link show | awk -F': ' '{print $2}' | grep -qvx lo && { echo "namespace has more than lo" >&2; exit 1; }

# `ip netns exec` may fork: the shell writes its own pid, then becomes gracewatch.
ip netns exec "$ns" sh -c 'echo $$ > "$1"; exec "$2" audit -i lo inbound' sh "$out/pid" "$gw" > "$out/audit.txt" 2> "$out/audit.err" &
sleep 1
gwpid=$(cat "$out/pid")
frames=$(capinfos -c -M "$cap" 2>/dev/null | awk -F: '/Number of packets/ {gsub(/ /, "", $2); print $2}')
ip netns exec "$ns" tcpreplay -q -i lo --mbps="$mbps" "$cap" > "$out/replay.txt" 2>&1 || { cat "$out/replay.txt"; exit 1; }
# Let the last kernel block reach gracewatch, then stop the capture.
sleep 2
kill -INT "$gwpid"
while kill -0 "$gwpid" 2>/dev/null; do sleep 0.2; done
gwpid=
echo "capture: $cap ($frames frames) replayed onto lo at $mbps Mbit/s in a private namespace"
grep -E "Actual|Rated" "$out/replay.txt" | sed 's/^ */tcpreplay: /'
grep -E "packets received by filter" "$out/audit.err" | sed 's/^/gracewatch: /'
grep -E "warning: libpcap dropped" "$out/audit.err" || true
recv=$(sed -n 's/^\([0-9]*\) packets received by filter, \([0-9]*\) packets dropped by kernel, \([0-9]*\) dropped by interface.*/\1 \2 \3/p' "$out/audit.err")
read -r r d i <<< "${recv:-0 0 0}"
echo "libpcap drops: $((d + i)) of $r received"
[ $((d + i)) -eq 0 ]
