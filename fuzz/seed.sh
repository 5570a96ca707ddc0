#!/usr/bin/env bash
# Seed the fuzz corpora from the project's captures: every frame of every capture in
# captures/ becomes one input of frames_to_rpc; TCP payloads seed record_reassembly.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p corpus/frames_to_rpc corpus/record_reassembly corpus/rpc_bodies
for f in ../captures/*.pcap; do
  [ -e "$f" ] || continue
  b=$(basename "$f" .pcap)
  tshark -r "$f" -T fields -e frame.number -e tcp.payload -e udp.payload 2>/dev/null |
  while IFS=$'\t' read -r n tcp udp; do
    [ -n "$tcp" ] && printf '%s' "$tcp" | xxd -r -p > "corpus/record_reassembly/$b-$n"
    [ -n "$udp" ] && printf '%s' "$udp" | xxd -r -p > "corpus/rpc_bodies/$b-$n"
  done
  # whole captures, framed as the target expects
  python3 - "$f" "corpus/frames_to_rpc/$b" <<'PY'
import struct, sys
data = open(sys.argv[1], 'rb').read()
out = bytearray([1])
off = 24
while off + 16 <= len(data):
    incl = struct.unpack('<I', data[off+8:off+12])[0]
    frame = data[off+16:off+16+incl]
    out += struct.pack('>H', min(len(frame), 65535)) + frame[:65535]
    off += 16 + incl
open(sys.argv[2], 'wb').write(out)
PY
done
echo "corpora: $(ls corpus/*/ | wc -l) files"
