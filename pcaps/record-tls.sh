#!/usr/bin/env bash
# Records the TLS, DTLS and MQTT-over-WebSocket captures used by test/protocols/{tls,dtls,websocket}.
# Real peers only, everything on loopback: mosquitto (TLS listeners), mosquitto_pub, libcoap's
# coap-server-openssl / coap-client-openssl (PSK DTLS), and for WebSocket an aedes broker behind
# the `ws` server with the mqtt.js client (Debian's mosquitto 2.0.11 is built without websockets:
# a `protocol websockets` listener fails with "Unable to start any listening sockets").
# Run as root (tcpdump on lo). Idempotent: rewrites pcaps/tls-*.pcap, dtls-*.pcap, ws-*.pcap and
# the tshark reference fixtures in test/protocols/*/fixtures/. Needs: mosquitto, mosquitto-clients,
# libcoap3-bin, tcpdump, tshark, openssl, node + npm (npm registry for mqtt, aedes, ws).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/.." && pwd)"
WORK="$(mktemp -d /tmp/iotwatch-record-tls.XXXXXX)"
chmod 755 "$WORK"
PIDS=()

cleanup() {
  for p in "${PIDS[@]:-}"; do
    [ -n "$p" ] && kill "$p" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

for port in 18883 18884 18885 18886 18080 25683 25684; do
  if ss -Hltnu "( sport = :$port )" | grep -q .; then
    echo "port $port is in use; edit the port numbers in $0" >&2; exit 1
  fi
done

# Starts tcpdump on lo with filter $2 writing $1; waits until it is listening.
TCPDUMP_PID=""
start_capture() {
  local out="$1" filter="$2"
  local err="$WORK/tcpdump.$(basename "$out").err"
  rm -f "$out" "$err"
  tcpdump -i lo -U -Z root -s 0 -w "$out" "$filter" 2>"$err" &
  TCPDUMP_PID=$!
  PIDS+=("$TCPDUMP_PID")
  for _ in $(seq 50); do grep -q "listening on" "$err" 2>/dev/null && break; sleep 0.1; done
  sleep 0.3
}
stop_capture() {
  sleep 0.5
  kill -INT "$TCPDUMP_PID" 2>/dev/null || true
  wait "$TCPDUMP_PID" 2>/dev/null || true
}
start_bg() { "$@" & PIDS+=("$!"); LAST_PID=$!; }
stop_bg() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
wait_port() { # proto(t|u) port
  for _ in $(seq 50); do ss -Hl"$1"n "( sport = :$2 )" | grep -q . && return 0; sleep 0.1; done
  echo "nothing listening on $2" >&2; return 1
}

# ------------------------------------------------------------------ certificates
cd "$WORK"
# Short-lived self-signed server certificate (EC P-256, 1 day).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
  -subj "/CN=localhost/O=iotwatch test" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
  -keyout ss.key -out ss.crt 2>/dev/null
# A small CA (RSA 2048) issuing a server certificate (RSA 2048) and a client certificate (EC P-384).
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=iotwatch test CA" \
  -keyout ca.key -out ca.crt 2>/dev/null
openssl req -new -newkey rsa:2048 -nodes -subj "/CN=broker.local" -keyout srv.key -out srv.csr 2>/dev/null
printf 'subjectAltName=DNS:broker.local,DNS:localhost\n' > srv.ext
openssl x509 -req -in srv.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 1 -sha256 \
  -extfile srv.ext -out srv.crt 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -subj "/CN=sensor-17/O=devices" \
  -keyout cli.key -out cli.csr 2>/dev/null
openssl x509 -req -in cli.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 1 -sha384 -out cli.crt 2>/dev/null
cat srv.crt ca.crt > srv-chain.crt
cat cli.crt ca.crt > cli-chain.crt
# An already expired self-signed certificate: `openssl ca -selfsign` accepts explicit
# -startdate/-enddate (openssl 3.0's req/x509 only take -days).
mkdir -p expca && : > expca/index.txt && echo 01 > expca/serial
cat > expca.cnf <<CNF
[ ca ]
default_ca = exp
[ exp ]
dir = $WORK/expca
database = \$dir/index.txt
serial = \$dir/serial
new_certs_dir = \$dir
default_md = sha256
policy = pol
copy_extensions = copy
unique_subject = no
[ pol ]
commonName = supplied
[ req ]
distinguished_name = dn
[ dn ]
CNF
openssl req -new -newkey rsa:2048 -nodes -subj "/CN=expired.local" -keyout exp.key -out exp.csr 2>/dev/null
openssl ca -batch -config expca.cnf -selfsign -keyfile exp.key -in exp.csr \
  -startdate 20240101000000Z -enddate 20240102000000Z -out exp.crt 2>/dev/null
openssl x509 -in exp.crt -out exp.crt  # strip the text dump openssl ca prepends
chmod 644 ./*.key ./*.crt

mosquitto_passwd -b -c pw sensor s3cret-pw >/dev/null 2>&1 || true
chmod 644 pw

# mosquitto's `tls_version tlsv1.2` is a minimum (it still negotiates 1.3): cap the broker at
# TLS 1.2 through OpenSSL's configuration, which libssl loads when it initialises.
cat > tls12-max.cnf <<CNF
openssl_conf = default_conf
[default_conf]
ssl_conf = ssl_sect
[ssl_sect]
system_default = system_default_sect
[system_default_sect]
MaxProtocol = TLSv1.2
CNF

tls_conf() { # name port certfile keyfile version [extra lines]
  local name="$1" port="$2" cert="$3" key="$4" ver="$5"; shift 5
  {
    echo "per_listener_settings true"
    echo "listener $port 127.0.0.1"
    echo "allow_anonymous false"
    echo "password_file $WORK/pw"
    echo "certfile $WORK/$cert"
    echo "keyfile $WORK/$key"
    echo "tls_version $ver"
    for l in "$@"; do echo "$l"; done
  } > "$name.conf"
}

# ------------------------------------------------------------------ TLS 1.2, self-signed
tls_conf selfsigned 18883 ss.crt ss.key tlsv1.2
start_capture "$HERE/tls-mqtt-selfsigned.pcap" "tcp port 18883"
OPENSSL_CONF="$WORK/tls12-max.cnf" start_bg mosquitto -c selfsigned.conf 2>>"$WORK/mosquitto.log"; MP=$LAST_PID; wait_port t 18883
# SNI "localhost", verified against the self-signed certificate.
mosquitto_pub -h localhost -p 18883 --cafile ss.crt --tls-version tlsv1.2 -u sensor -P s3cret-pw -i dev-ss-1 -q 1 -t iot/temp -m 21.5
# IP address: no SNI; --insecure skips the host name check.
mosquitto_pub -h 127.0.0.1 -p 18883 --cafile ss.crt --insecure --tls-version tlsv1.2 -u sensor -P s3cret-pw -i dev-ss-2 -t iot/hum -m 40
stop_bg "$MP"; stop_capture

# ------------------------------------------------------------------ TLS 1.2, CA chain + client certificates
tls_conf mutual 18884 srv-chain.crt srv.key tlsv1.2 "cafile $WORK/ca.crt" "require_certificate true" "use_identity_as_username false"
start_capture "$HERE/tls-mqtt-mutual.pcap" "tcp port 18884"
OPENSSL_CONF="$WORK/tls12-max.cnf" start_bg mosquitto -c mutual.conf 2>>"$WORK/mosquitto.log"; MP=$LAST_PID; wait_port t 18884
mosquitto_pub -h localhost -p 18884 --cafile ca.crt --insecure --cert cli-chain.crt --key cli.key \
  --tls-alpn mqtt --tls-version tlsv1.2 -u sensor -P s3cret-pw -i dev-mtls -t iot/door -m open
# Without a client certificate: the server refuses in the handshake (an alert in clear).
mosquitto_pub -h localhost -p 18884 --cafile ca.crt --insecure -u sensor -P s3cret-pw -i dev-nocert --tls-version tlsv1.2 -t x -m y 2>/dev/null || true
stop_bg "$MP"; stop_capture

# ------------------------------------------------------------------ TLS 1.2, expired certificate
tls_conf expired 18885 exp.crt exp.key tlsv1.2
start_capture "$HERE/tls-mqtt-expired.pcap" "tcp port 18885"
OPENSSL_CONF="$WORK/tls12-max.cnf" start_bg mosquitto -c expired.conf 2>>"$WORK/mosquitto.log"; MP=$LAST_PID; wait_port t 18885
# The client's verification fails: it sends a certificate_expired alert.
mosquitto_pub -h localhost -p 18885 --cafile exp.crt --insecure -u sensor -P s3cret-pw -i dev-exp --tls-version tlsv1.2 -t x -m y 2>/dev/null || true
stop_bg "$MP"; stop_capture

# ------------------------------------------------------------------ TLS 1.3
tls_conf tls13 18886 ss.crt ss.key tlsv1.3
start_capture "$HERE/tls-mqtt-13.pcap" "tcp port 18886"
start_bg mosquitto -c tls13.conf 2>>"$WORK/mosquitto.log"; MP=$LAST_PID; wait_port t 18886
mosquitto_pub -h localhost -p 18886 --cafile ss.crt --tls-version tlsv1.3 -u sensor -P s3cret-pw -i dev-13 -t iot/temp -m 22
stop_bg "$MP"; stop_capture

# ------------------------------------------------------------------ MQTT over WebSocket
# aedes (MQTT broker) behind the `ws` WebSocket server; clients: mqtt.js (ws://, subprotocol
# "mqtt") and a raw `ws` client that fragments messages and interleaves pings on purpose
# (subprotocol "mqttv3.1", MQTT 3.1 CONNECT "MQIsdp").
NODEDIR="$WORK/node"
mkdir -p "$NODEDIR"
( cd "$NODEDIR" && npm init -y >/dev/null 2>&1 && \
  npm install --no-audit --no-fund --silent mqtt@5 aedes@0.51 ws@8 mqtt-packet@9 >/dev/null 2>&1 )
cat > "$NODEDIR/server.js" <<'JS'
const aedes = require('aedes')();
const { WebSocketServer, createWebSocketStream } = require('ws');
aedes.authenticate = (client, username, password, cb) => cb(null, username === 'sensor');
const wss = new WebSocketServer({
  host: '127.0.0.1', port: 18080,
  handleProtocols: (p) => (p.has('mqtt') ? 'mqtt' : p.has('mqttv3.1') ? 'mqttv3.1' : false),
});
wss.on('connection', (ws) => aedes.handle(createWebSocketStream(ws)));
wss.on('listening', () => console.log('listening'));
JS
cat > "$NODEDIR/client-mqttjs.js" <<'JS'
const mqtt = require('mqtt');
const c = mqtt.connect('ws://127.0.0.1:18080/mqtt', {
  clientId: 'ws-dev-1', username: 'sensor', password: 's3cret-pw', protocolVersion: 4, reconnectPeriod: 0,
});
c.on('connect', () => {
  c.subscribe('iot/#', { qos: 1 }, () => {
    c.publish('iot/temp', '21.5', { qos: 1 });
    c.publish('iot/blob', Buffer.alloc(3000, 0x61), { qos: 1 });
  });
});
let n = 0;
c.on('message', () => { if (++n === 2) c.end(); });
JS
cat > "$NODEDIR/client-raw.js" <<'JS'
// MQTT 3.1 over WebSocket with deliberate framing: CONNECT split over a fragmented message
// with a ping between the fragments; PUBLISH of 70000 bytes (64-bit frame length); one
// WebSocket message carrying SUBSCRIBE + the start of PUBLISH, the rest in a second message.
const WebSocket = require('ws');
const mp = require('mqtt-packet');
const gen = (p) => mp.generate(p, { protocolVersion: 3 });
const ws = new WebSocket('ws://127.0.0.1:18080/', ['mqttv3.1']);
ws.on('open', () => {
  const connect = gen({ cmd: 'connect', protocolId: 'MQIsdp', protocolVersion: 3, clientId: 'ws-raw-31',
    clean: true, keepalive: 30, username: 'sensor', password: Buffer.from('s3cret-pw') });
  ws.send(connect.subarray(0, 5), { binary: true, fin: false });
  ws.ping(Buffer.from('hb'));
  ws.send(connect.subarray(5), { binary: true, fin: true });
  const sub = gen({ cmd: 'subscribe', messageId: 7, subscriptions: [{ topic: 'raw/#', qos: 0 }] });
  const pub = gen({ cmd: 'publish', topic: 'raw/big', payload: Buffer.alloc(70000, 0x42), qos: 0, retain: false, dup: false });
  const both = Buffer.concat([sub, pub]);
  setTimeout(() => {
    ws.send(both.subarray(0, sub.length + 100), { binary: true });
    ws.send(both.subarray(sub.length + 100), { binary: true });
  }, 200);
  setTimeout(() => { ws.send(gen({ cmd: 'disconnect' })); ws.close(1000, 'bye'); }, 800);
});
ws.on('close', () => process.exit(0));
JS
start_capture "$HERE/ws-mqtt.pcap" "tcp port 18080"
( cd "$NODEDIR" && exec node server.js > server.log 2>&1 ) & WSP=$!; PIDS+=("$WSP"); wait_port t 18080
( cd "$NODEDIR" && timeout 20 node client-mqttjs.js )
( cd "$NODEDIR" && timeout 20 node client-raw.js )
stop_bg "$WSP"; stop_capture

# ------------------------------------------------------------------ DTLS (CoAP over DTLS with PSK)
PSK=sesame
PSKHEX=$(printf %s "$PSK" | od -An -tx1 | tr -d ' \n')
start_capture "$HERE/dtls-coap-psk.pcap" "udp port 25684"
start_bg coap-server-openssl -A 127.0.0.1 -p 25683 -k "$PSK" -h CoAP; CP=$LAST_PID; wait_port u 25684
# libcoap's client offers PSK suites and the server picks ECDHE-PSK (0xccac): the identity
# comes first in the ClientKeyExchange, then the ECDH point (RFC 5489 section 2).
timeout 15 coap-client-openssl -a 127.0.0.2 -k "$PSK" -u device-01 -B 3 coaps://127.0.0.1:25684/ >/dev/null 2>&1
timeout 15 coap-client-openssl -a 127.0.0.3 -k "$PSK" -u device-02 -B 3 coaps://127.0.0.1:25684/time >/dev/null 2>&1
# openssl s_client offering one plain PSK suite (RFC 4279 section 2) and one DHE-PSK suite
# (section 3), from two more addresses; stdin carries one CoAP CON GET (RFC 7252 section 3).
for spec in "127.0.0.4 device-03 PSK-AES128-CCM8" "127.0.0.5 device-04 DHE-PSK-AES128-CBC-SHA256"; do
  set -- $spec
  ( printf '\x40\x01\x12\x34'; sleep 1 ) | timeout 10 openssl s_client -quiet -dtls1_2 -bind "$1:0" \
    -connect 127.0.0.1:25684 -psk_identity "$2" -psk "$PSKHEX" -cipher "$3" >/dev/null 2>&1 || true
done
stop_bg "$CP"; stop_capture

# DTLS with certificates and a small MTU: handshake messages fragmented across records
# (RFC 6347 section 4.2.3), an RSA_PSK suite (RFC 4279 section 4) whose identity precedes the
# encrypted premaster secret, and a second handshake that the server aborts with an alert.
start_capture "$HERE/dtls-fragmented.pcap" "udp port 25700"
start_bg openssl s_server -quiet -dtls1_2 -accept 127.0.0.1:25700 -mtu 300 -cert srv.crt -key srv.key \
  -psk "$PSKHEX" -psk_hint gw-hint -cipher RSA-PSK-AES128-CBC-SHA256 -naccept 2; SP=$LAST_PID; wait_port u 25700
( printf 'hello\n'; sleep 1 ) | timeout 10 openssl s_client -quiet -dtls1_2 -bind 127.0.0.6:0 -connect 127.0.0.1:25700 \
  -mtu 300 -psk_identity sensor-rsa-psk -psk "$PSKHEX" -cipher RSA-PSK-AES128-CBC-SHA256 >/dev/null 2>&1 || true
( sleep 1 ) | timeout 10 openssl s_client -quiet -dtls1_2 -bind 127.0.0.7:0 -connect 127.0.0.1:25700 \
  -mtu 300 -psk_identity wrong -psk 00112233 -cipher RSA-PSK-AES128-CBC-SHA256 >/dev/null 2>&1 || true
stop_bg "$SP"; stop_capture

chmod 644 "$HERE"/tls-*.pcap "$HERE"/dtls-*.pcap "$HERE"/ws-*.pcap
ls -l "$HERE"/tls-*.pcap "$HERE"/dtls-*.pcap "$HERE"/ws-*.pcap

# tshark's decoding of the new captures, as the golden tests' reference.
bash "$REPO/test/protocols/tls/make-tshark-fixtures.sh"
