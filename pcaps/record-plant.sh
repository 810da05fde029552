#!/usr/bin/env bash
# Records the scenario captures of a small plant with real peers on loopback:
#   pcaps/plant-benign.pcap  known-good traffic (the baseline an analyst learns from)
#   pcaps/plant-attack.pcap  the same plant, with every attack of the detector catalogue on top
# The plant: mosquitto (passwords, 1883), 10 meters publishing every second with their own
# credentials from their own addresses, a dashboard subscribed to plant/+/telemetry, an
# operator sending valve commands, CoAP sensors read with GET by pollers, DTLS clients each
# with its own PSK identity (libcoap coap-server-openssl: CoAP 5683, CoAPS 5684).
# Usage: record-plant.sh [benign|attack|both] [SECONDS]   (run as root; default both, 120 s)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mode=${1:-both}
secs=${2:-120}
for t in mosquitto mosquitto_pub mosquitto_sub mosquitto_passwd tcpdump coap-server-openssl coap-client-openssl node; do
  command -v "$t" >/dev/null || { echo "record-plant: $t is missing (apt-get install mosquitto mosquitto-clients tcpdump libcoap3-bin)" >&2; exit 1; }
done

PSK=plant-dtls-key
declare -a pids=()
work=""
cleanup() {
  for p in "${pids[@]}"; do pkill -P "$p" 2>/dev/null || true; kill "$p" 2>/dev/null || true; done
  pids=()
  pkill -f "mosquitto -c $work" 2>/dev/null || true
  [ -n "$work" ] && rm -rf "$work"
}
trap cleanup EXIT

bg() { "$@" >/dev/null 2>&1 & pids+=($!); }

wait_tcp() { for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.1; done; echo "record-plant: nothing listens on $1" >&2; return 1; }

pub() { mosquitto_pub -h 127.0.0.1 -p 1883 "$@" >/dev/null 2>&1 || true; }

# A meter: one MQTT connection, one telemetry message a second.
meter() {
  local n=$1
  ( while :; do echo "{\"kwh\":$((RANDOM % 100)).$((RANDOM % 10)),\"v\":230}"; sleep 1; done ) |
    mosquitto_pub -h 127.0.0.1 -p 1883 -A "127.0.1.$n" -V mqttv311 -i "meter-0$n" -u "meter-0$n" -P "meter-0$n-pw" \
      -t "plant/meter-0$n/telemetry" -q 0 -l
}

operator() {
  local i=0
  while :; do
    sleep 15; i=$((i + 1))
    pub -A 127.0.2.2 -V mqttv5 -i operator-console -u operator -P operator-pw -t "plant/cmd/valve-$((i % 3))" -q 1 -m "$([ $((i % 2)) = 0 ] && echo open || echo close)"
  done
}

poller() { # CoAP GET of the sensor clock every 5 s from one address
  while :; do coap-client-openssl -a "$1" -m get -B 2 coap://127.0.0.1/time >/dev/null 2>&1 || true; sleep 5; done
}

dtls_client() { # DTLS (PSK) read every 10 s with its own identity
  while :; do coap-client-openssl -a "$1" -k "$PSK" -u "$2" -m get -B 2 coaps://127.0.0.1/time >/dev/null 2>&1 || true; sleep 10; done
}

attacks() {
  # 1. Brute force against the operator account: one source guessing, then many sources.
  for i in $(seq 40); do pub -A 127.0.66.1 -V mqttv311 -i "scan-$i" -u operator -P "guess-$i" -t x -m x; done
  for i in $(seq 2 11); do pub -A "127.0.66.$i" -V mqttv5 -i "spray-$i" -u operator -P "Spring2026!" -t x -m x; done
  # 2. A compromised meter harvests every topic and the broker's $SYS tree.
  timeout 5 mosquitto_sub -h 127.0.0.1 -p 1883 -A 127.0.1.4 -i meter-04-x -u meter-04 -P meter-04-pw -t '#' -t '$SYS/#' >/dev/null 2>&1 || true
  # 3. Client id takeover: a second endpoint keeps taking meter-03's session (flapping).
  for i in $(seq 5); do pub -A 127.0.66.30 -V mqttv311 -i meter-03 -u meter-03 -P meter-03-pw -t plant/meter-03/telemetry -m '{"kwh":0}'; sleep 1.5; done
  # 4. Credential sharing: meter-01's credentials from seven other places.
  for i in $(seq 40 46); do pub -A "127.0.66.$i" -V mqttv311 -i "rogue-$i" -u meter-01 -P meter-01-pw -t plant/meter-01/telemetry -m '{"kwh":1}'; done
  # 5. Retained flood: 300 retained messages on new topics.
  for i in $(seq 300); do echo "retained-$i"; done |
    mosquitto_pub -h 127.0.0.1 -p 1883 -A 127.0.66.50 -i meter-06-r -u meter-06 -P meter-06-pw -t plant/meter-06/retained -r -q 1 -l >/dev/null 2>&1 || true
  for i in $(seq 150); do pub -A 127.0.66.51 -i "ret-$i" -u meter-06 -P meter-06-pw -t "plant/meter-06/r/$i" -r -m "x$i"; done
  # 6. Subscription spike: one client, 120 distinct filters.
  args=(); for i in $(seq 120); do args+=(-t "plant/meter-0$((i % 9 + 1))/f$i"); done
  timeout 3 mosquitto_sub -h 127.0.0.1 -p 1883 -A 127.0.66.60 -i meter-07-s -u meter-07 -P meter-07-pw "${args[@]}" >/dev/null 2>&1 || true
  # 7. Connect flood: 300 connections in a few seconds.
  for b in $(seq 10); do
    local batch=()
    for i in $(seq 30); do pub -A 127.0.66.70 -i "flood-$b-$i" -u meter-02 -P meter-02-pw -t plant/meter-02/telemetry -m x & batch+=($!); done
    wait "${batch[@]}" 2>/dev/null || true   # only this batch: the plant's own clients run on
  done
  # 8. Topic ACL drift: meter-05 writes on a command topic.
  pub -A 127.0.1.5 -V mqttv311 -i meter-05-cmd -u meter-05 -P meter-05-pw -t plant/cmd/valve-1 -q 1 -m open
  # 9. Rate anomaly: meter-08's credentials publishing 600 messages as fast as possible.
  seq 600 | mosquitto_pub -h 127.0.0.1 -p 1883 -A 127.0.1.8 -i meter-08-burst -u meter-08 -P meter-08-pw -t plant/meter-08/telemetry -l >/dev/null 2>&1 || true
  # 11. CoAP request flood from one source, 12. discovery fan-out from twenty.
  node -e '
    const d = require("dgram").createSocket("udp4");
    d.bind(0, "127.0.77.1", async () => {
      for (let i = 0; i < 400; i++) {
        const m = Buffer.from([0x50, 0x01, i >> 8, i & 0xff, 0xb4, 0x74, 0x69, 0x6d, 0x65]); // NON GET /time
        d.send(m, 5683, "127.0.0.1");
        if (i % 50 === 49) await new Promise((r) => setTimeout(r, 20));
      }
      setTimeout(() => d.close(), 500);
    });' || true
  for i in $(seq 2 21); do coap-client-openssl -a "127.0.77.$i" -m get -B 2 coap://127.0.0.1/.well-known/core >/dev/null 2>&1 || true; done
  # 13. Spoofed responses and a RST storm towards a poller from a "server" that got no request.
  node -e '
    const d = require("dgram").createSocket("udp4");
    d.bind(5683, "127.0.0.9", async () => {
      for (let i = 0; i < 100; i++) {
        const ack = Buffer.from([0x61, 0x45, 0x7a, i, 0x42, 0xff, 0x32, 0x31]); // ACK 2.05, token 42, payload "21"
        const rst = Buffer.from([0x70, 0x00, 0x7b, i]);
        d.send(ack, 40999, "127.0.3.1");
        d.send(rst, 40999, "127.0.3.1");
        if (i % 20 === 19) await new Promise((r) => setTimeout(r, 20));
      }
      setTimeout(() => d.close(), 300);
    });' || true
  # 14. Writes on a resource that was only ever read, over plain CoAP.
  coap-client-openssl -a 127.0.3.2 -m put -e 1999-01-01 -B 2 coap://127.0.0.1/time >/dev/null 2>&1 || true
  coap-client-openssl -a 127.0.3.2 -m delete -B 2 coap://127.0.0.1/time >/dev/null 2>&1 || true
  # 16. One DTLS PSK identity from six endpoints.
  for i in $(seq 90 95); do coap-client-openssl -a "127.0.66.$i" -k "$PSK" -u sensor-01 -m get -B 2 coaps://127.0.0.1/time >/dev/null 2>&1 || true; done
}

record() {
  local kind=$1 out=$2
  work=$(mktemp -d)
  chmod 755 "$work"
  : >"$work/passwd"
  for n in 1 2 3 4 5 6 7 8 9; do mosquitto_passwd -b "$work/passwd" "meter-0$n" "meter-0$n-pw"; done
  mosquitto_passwd -b "$work/passwd" dashboard dashboard-pw
  mosquitto_passwd -b "$work/passwd" operator operator-pw
  chmod 644 "$work/passwd"
  printf 'persistence false\nlog_dest none\nmax_keepalive 60\nlistener 1883 127.0.0.1\nallow_anonymous false\npassword_file %s\n' "$work/passwd" >"$work/mosquitto.conf"
  chmod 644 "$work/mosquitto.conf"
  bg mosquitto -c "$work/mosquitto.conf"
  wait_tcp 1883
  bg coap-server-openssl -A 127.0.0.1 -p 5683 -k "$PSK" -d 10
  sleep 0.5
  tcpdump -i lo -U -s 0 -w "$work/cap.pcap" 'tcp port 1883 or udp port 5683 or udp port 5684 or (udp and host 127.0.0.9)' >/dev/null 2>&1 &
  local tcpdump_pid=$!
  sleep 1
  bg timeout $((secs + 5)) mosquitto_sub -h 127.0.0.1 -p 1883 -A 127.0.2.1 -V mqttv5 -i dashboard -u dashboard -P dashboard-pw -t 'plant/+/telemetry' -q 0
  sleep 0.5
  local meter9=0
  for n in 1 2 3 4 5 6 7 8 9; do bg meter "$n"; [ "$n" = 9 ] && meter9=$!; done
  bg operator
  for a in 1 2 3; do bg poller "127.0.3.$a"; done
  for a in 1 2 3; do bg dtls_client "127.0.4.$a" "sensor-0$a"; done
  if [ "$kind" = attack ]; then
    sleep $((secs / 2))
    # 10. Device silent: meter-09 stops publishing for the rest of the capture.
    pkill -P "$meter9" 2>/dev/null || true; kill "$meter9" 2>/dev/null || true
    local t0=$SECONDS
    attacks
    local left=$((secs / 2 - (SECONDS - t0)))
    [ $left -gt 0 ] && sleep $left
  else
    sleep "$secs"
  fi
  sleep 1
  for p in "${pids[@]}"; do pkill -P "$p" 2>/dev/null || true; kill "$p" 2>/dev/null || true; done
  pids=()
  sleep 1
  kill -INT $tcpdump_pid; wait $tcpdump_pid 2>/dev/null || true
  cp "$work/cap.pcap" "$out"
  echo "record-plant: wrote $out ($(tcpdump -r "$out" 2>/dev/null | wc -l) packets)"
  rm -rf "$work"; work=""
}

case "$mode" in
  benign) record benign "$here/plant-benign.pcap" ;;
  attack) record attack "$here/plant-attack.pcap" ;;
  both) record benign "$here/plant-benign.pcap"; record attack "$here/plant-attack.pcap" ;;
  *) echo "usage: record-plant.sh [benign|attack|both] [SECONDS]" >&2; exit 2 ;;
esac
