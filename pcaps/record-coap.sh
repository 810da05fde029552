#!/usr/bin/env bash
# Records real CoAP traffic between libcoap's coap-server-notls and coap-client-notls on loopback:
#   pcaps/coap-basic.pcap  CoAP over UDP (RFC 7252): discovery, GET/PUT/DELETE, Observe, block-wise
#                          Block1/Block2, NON, a separate response with CoAP pings and RST, 4.04,
#                          4.02, No-Response, Echo/Request-Tag/OSCORE options, IPv4 from several
#                          source addresses and one IPv6 exchange.
#   pcaps/coap-tcp.pcap    CoAP over TCP (RFC 8323): CSM signals, GET, PUT, DELETE, Observe, Block2.
#
# Runs as root inside a private network namespace (unshare --net): its loopback is empty, so
# port 5683 is free whatever the host runs, and no other host traffic reaches the capture.
# Idempotent: every run rewrites both captures; the server and both tcpdumps are started by this
# script and stopped by their process ids (tcpdump with SIGINT after a pause, so it flushes).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
port=5683
server_addr=127.0.0.1

if [[ "${1:-}" != "--in-netns" ]]; then
  if [[ $EUID -ne 0 ]]; then
    echo "record-coap.sh: run as root (needs unshare --net and tcpdump)" >&2
    exit 1
  fi
  for tool in unshare ip tcpdump coap-server-notls coap-client-notls; do
    command -v "$tool" >/dev/null || { echo "record-coap.sh: $tool not found" >&2; exit 1; }
  done
  exec unshare --net -- "${BASH_SOURCE[0]}" --in-netns
fi

# ---------------------------------------------------------------- inside the namespace
ip link set lo up
work=$(mktemp -d)
udp_out="$here/coap-basic.pcap"
tcp_out="$here/coap-tcp.pcap"
pids=()

cleanup() {
  local pid
  for pid in "${pids[@]}"; do
    kill -INT "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

start_tcpdump() { # file filter
  tcpdump -i lo -U --immediate-mode -s 0 -Z root -w "$1" "$2" 2>"$work/$(basename "$1").log" &
  pids+=("$!")
  local i
  for i in $(seq 50); do
    grep -qs "listening on" "$work/$(basename "$1").log" && return 0
    sleep 0.1
  done
  echo "record-coap.sh: tcpdump did not start" >&2
  cat "$work/$(basename "$1").log" >&2
  exit 1
}

stop_all() { # in reverse order of start: clients are done, let tcpdump read what is queued
  sleep 1
  local i
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill -INT "${pids[$i]}" 2>/dev/null || true
    wait "${pids[$i]}" 2>/dev/null || true
  done
  pids=()
}

rm -f "$udp_out" "$tcp_out"
start_tcpdump "$udp_out" "udp port $port"
start_tcpdump "$tcp_out" "tcp port $port"

# No -A: the server listens on [::] (dual stack) so the IPv6 request below reaches it too.
# -d 10 allows PUT to create up to 10 resources.
coap-server-notls -p "$port" -d 10 -v 3 >"$work/server.log" 2>&1 &
pids+=("$!")
for i in $(seq 50); do
  ss -lun | grep -q ":$port " && break
  sleep 0.1
done

client() { # source-address, then coap-client arguments; output goes to the log
  local src=$1
  shift
  echo "+ coap-client -a $src $*" >>"$work/clients.log"
  coap-client-notls -a "$src" "$@" >>"$work/clients.log" 2>&1 || echo "  (exit $?)" >>"$work/clients.log"
}

base="coap://$server_addr"
head -c 300 /dev/zero | tr '\0' 'x' >"$work/block-payload"

# ---- CoAP over UDP
client 127.0.0.2 -B 5 "$base/.well-known/core"                             # discovery, CON GET
client 127.0.0.2 -B 5 "$base/time"
client 127.0.0.3 -B 5 -m put -t 0 -e '21.5' "$base/sensors/temp"           # creates it: 2.01
client 127.0.0.3 -B 5 "$base/sensors/temp"
client 127.0.0.4 -B 5 -m put -b 32 -f "$work/block-payload" "$base/sensors/log"  # Block1, 2.31 Continue
client 127.0.0.4 -B 5 -b 32 "$base/sensors/log"                            # Block2
client 127.0.0.5 -B 5 -s 3 "$base/time"                                   # Observe: CON notifications
client 127.0.0.6 -B 5 -N "$base/time"                                      # NON request, NON response
client 127.0.0.6 -B 1 -N -m put -O 258,0x02 -e '22' "$base/sensors/temp"   # No-Response: no answer
client 127.0.0.7 -B 5 -O 252,0x0102 -O 292,0xaa "$base/nothing"            # Echo, Request-Tag; 4.04
client 127.0.0.7 -B 5 -m post -O 9,0x0914 -e 'xyz' "$base/sensors/temp"    # OSCORE option; 4.02
client 127.0.0.7 -B 5 -m delete "$base/sensors/temp"                       # 2.02
client 127.0.0.9 -B 5 -K 1 "$base/async?3"                                 # empty ACK, pings + RST, separate response
client ::1 -B 5 "coap://[::1]/time"                                        # IPv6

# ---- CoAP over TCP
tbase="coap+tcp://$server_addr"
client 127.0.0.8 -B 5 "$tbase/.well-known/core"
client 127.0.0.8 -B 5 -m put -t 0 -e '19.0' "$tbase/sensors/tcp"
client 127.0.0.8 -B 5 "$tbase/sensors/tcp"
client 127.0.0.8 -B 5 -m delete "$tbase/sensors/tcp"
client 127.0.0.10 -B 5 -s 2 "$tbase/time"
client 127.0.0.10 -B 5 -b 32 "$tbase/.well-known/core"

stop_all
if grep -q "(exit" "$work/clients.log"; then
  echo "record-coap.sh: some clients failed:" >&2
  grep -B1 "(exit" "$work/clients.log" >&2
fi
echo "wrote $udp_out ($(stat -c %s "$udp_out") bytes) and $tcp_out ($(stat -c %s "$tcp_out") bytes)"
if command -v tshark >/dev/null; then
  for f in "$udp_out" "$tcp_out"; do
    echo "  $(basename "$f"): $(tshark -r "$f" 2>/dev/null | wc -l) packets, $(tshark -r "$f" -Y coap 2>/dev/null | wc -l) CoAP messages (tshark)"
  done
  echo "  after re-recording: node test/protocols/coap/fixtures/make-golden.mjs, and update pcaps/README.md and the counts in test/protocols/coap/golden.test.ts"
fi
