#!/usr/bin/env bash
# Records pcaps/mqtt-basic.pcap: real MQTT 3.1, 3.1.1 and 5 traffic between Debian's
# mosquitto broker and mosquitto_pub/mosquitto_sub on loopback. Run as root (tcpdump on lo).
# Idempotent: it starts its own broker on free ports and cleans up after itself.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/mqtt-basic.pcap}
for t in mosquitto mosquitto_pub mosquitto_sub mosquitto_passwd tcpdump; do
  command -v "$t" >/dev/null || { echo "record-mqtt: $t is missing (apt-get install mosquitto mosquitto-clients tcpdump)" >&2; exit 1; }
done
work=$(mktemp -d)
chmod 755 "$work"   # mosquitto drops root privileges and must read its files
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

AUTH_PORT=1883      # the standard port, with passwords
ANON_PORT=18831     # a non-standard port, anonymous: proves detection by content
mosquitto_passwd -c -b "$work/passwd" meter-01 'Meter-01-secret' 2>/dev/null
mosquitto_passwd -b "$work/passwd" dashboard 'Dash-pass-9' 2>/dev/null
chmod 644 "$work/passwd"
cat > "$work/mosquitto.conf" <<CONF
per_listener_settings true
persistence false
log_dest stderr
listener $AUTH_PORT 127.0.0.1
allow_anonymous false
password_file $work/passwd
listener $ANON_PORT 127.0.0.1
allow_anonymous true
CONF
mosquitto -c "$work/mosquitto.conf" 2>"$work/broker.log" &
pids+=($!)
up=0
for _ in $(seq 50); do if (exec 3<>/dev/tcp/127.0.0.1/$AUTH_PORT) 2>/dev/null; then up=1; break; fi; sleep 0.1; done
[ $up = 1 ] || { echo "record-mqtt: mosquitto did not start:" >&2; cat "$work/broker.log" >&2; exit 1; }

tcpdump -i lo -U -s 0 -w "$work/cap.pcap" "tcp port $AUTH_PORT or tcp port $ANON_PORT" 2>"$work/tcpdump.log" &
tcpdump_pid=$!
sleep 1

A="-h 127.0.0.1 -p $AUTH_PORT"
# A dashboard subscribed with an ordinary wildcard (MQTT 5), ping every 5 s (the client minimum).
mosquitto_sub $A -V mqttv5 -i dashboard-1 -u dashboard -P 'Dash-pass-9' -t 'plant/+/telemetry' -q 1 -k 5 -W 12 -F '%t %p' >"$work/sub.txt" 2>/dev/null &
sub_pid=$!
sleep 0.5
# MQTT 3.1.1 QoS 0, 1 and 2 publishes with credentials, one retained.
for q in 0 1 2; do
  mosquitto_pub $A -V mqttv311 -i meter-01 -u meter-01 -P 'Meter-01-secret' -t plant/meter-01/telemetry -q $q -m "{\"kwh\":1$q.5}"
done
mosquitto_pub $A -V mqttv311 -i meter-01 -u meter-01 -P 'Meter-01-secret' -t plant/meter-01/status -r -q 1 -m online
# MQTT 5 with properties: user property, content type, message expiry, session expiry, topic alias.
mosquitto_pub $A -V mqttv5 -i meter-01 -u meter-01 -P 'Meter-01-secret' -t plant/meter-01/telemetry -q 1 \
  -D connect session-expiry-interval 30 -D publish user-property site north -D publish content-type application/json \
  -D publish message-expiry-interval 60 -D publish topic-alias 1 --repeat 3 -m '{"kwh":12.5}'
# MQTT 3.1 (MQIsdp) with a will.
mosquitto_pub $A -V mqttv31 -i meter-legacy -u meter-01 -P 'Meter-01-secret' --will-topic plant/meter-legacy/status \
  --will-payload offline --will-qos 1 -t plant/meter-legacy/telemetry -m '{"kwh":3}'
# Wrong password: CONNACK 5 (3.1.1) and 0x86 (5).
mosquitto_pub $A -V mqttv311 -i meter-01 -u meter-01 -P 'wrong-guess' -t x -m x 2>/dev/null || true
mosquitto_pub $A -V mqttv5 -i meter-01 -u meter-01 -P 'wrong-guess-2' -t x -m x 2>/dev/null || true
# Anonymous on the non-standard port: subscribe, unsubscribe, $SYS, wildcard.
mosquitto_sub -h 127.0.0.1 -p $ANON_PORT -V mqttv311 -i anon-probe -t '#' -t '$SYS/broker/version' -q 2 -C 1 -W 3 >/dev/null 2>&1 &
probe_pid=$!
sleep 0.5
mosquitto_pub -h 127.0.0.1 -p $ANON_PORT -V mqttv5 -i anon-writer -t plant/cmd/valve-7 -q 2 -m open
mosquitto_sub -h 127.0.0.1 -p $ANON_PORT -V mqttv5 -i anon-unsub -t 'a/b' -t 'c/#' -U 'a/b' -E 2>/dev/null || true
wait $probe_pid 2>/dev/null || true
wait $sub_pid 2>/dev/null || true   # -W 12: long enough for PINGREQ/PINGRESP
sleep 1
kill -INT $tcpdump_pid; wait $tcpdump_pid 2>/dev/null || true
cp "$work/cap.pcap" "$out"
echo "record-mqtt: wrote $out ($(tcpdump -r "$out" 2>/dev/null | wc -l) packets)"
