#!/usr/bin/env bash
# Writes tshark's decoding of pcaps/tls-*.pcap, dtls-*.pcap and ws-*.pcap as JSON fixtures
# (test/protocols/{tls,dtls,websocket}/fixtures/NAME.tshark.json): one object per frame that
# has any of the fields, each field a list of its occurrences. The golden tests compare the
# decoders' events with these field by field. Needs tshark (4.0 was used). Run by
# pcaps/record-tls.sh after recording; safe to run alone.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"

dump() { # pcap out extra-args -- fields...
  local pcap="$1" out="$2"; shift 2
  local args=()
  while [ "$1" != "--" ]; do args+=("$1"); shift; done
  shift
  local fields=("$@") eargs=()
  for f in "${fields[@]}"; do eargs+=(-e "$f"); done
  mkdir -p "$(dirname "$out")"
  tshark -r "$pcap" "${args[@]}" -T fields -E separator='	' -E occurrence=a -E aggregator='|' -E quote=n \
    "${eargs[@]}" 2>/dev/null | FIELDS="${fields[*]}" node -e '
      const names = process.env.FIELDS.split(" ");
      const rows = require("fs").readFileSync(0, "utf8").split("\n").filter((l) => l.length > 0).map((l) => {
        const cols = l.split("\t");
        const o = {};
        names.forEach((n, i) => { o[n] = cols[i] ? cols[i].split("|") : []; });
        return o;
      }).filter((o) => names.slice(2).some((n) => o[n].length > 0));
      const out = { tshark: "4.0", fields: names, rows };
      if (names.includes("data.data")) {
        // Payload bytes are summarised: per TCP direction the concatenated stream, per row the lengths.
        const { createHash } = require("crypto");
        const streams = {};
        for (const r of rows) {
          const key = `${r["tcp.srcport"][0]}>${r["tcp.dstport"][0]}`;
          for (const h of r["data.data"]) (streams[key] ??= []).push(Buffer.from(h.replace(/:/g, ""), "hex"));
          r["data.length"] = r["data.data"].map((h) => String(h.replace(/:/g, "").length / 2));
          delete r["data.data"];
        }
        out.streams = Object.fromEntries(Object.entries(streams).map(([k, bufs]) => {
          const b = Buffer.concat(bufs);
          return [k, { length: b.length, sha256: createHash("sha256").update(b).digest("hex"), hex: b.length <= 4096 ? b.toString("hex") : undefined }];
        }));
      }
      process.stdout.write(JSON.stringify(out, null, 0).replace(/\},\{/g, "},\n{") + "\n");
    ' > "$out"
  echo "wrote $out"
}

TLS_FIELDS=(frame.number tcp.srcport tls.record.content_type tls.record.version tls.handshake.type tls.handshake.version
  tls.handshake.extensions.supported_version tls.handshake.ciphersuite tls.handshake.extension.type
  tls.handshake.extensions_server_name tls.handshake.extensions_alpn_str tls.handshake.sig_hash_alg
  tls.handshake.extensions_supported_group tls.handshake.session_id_length tls.alert_message.level
  tls.alert_message.desc tls.handshake.certificate x509af.serialNumber x509af.algorithm.id x509af.utcTime
  x509af.generalizedTime x509ce.dNSName x509ce.iPAddress x509ce.cA)
for f in "$REPO"/pcaps/tls-*.pcap; do
  dump "$f" "$REPO/test/protocols/tls/fixtures/$(basename "$f" .pcap).tshark.json" -- "${TLS_FIELDS[@]}"
done

DTLS_FIELDS=(frame.number udp.srcport dtls.record.content_type dtls.record.version dtls.record.epoch
  dtls.record.sequence_number dtls.handshake.type dtls.handshake.message_seq dtls.handshake.fragment_offset
  dtls.handshake.fragment_length dtls.handshake.length dtls.handshake.version dtls.handshake.ciphersuite
  dtls.handshake.extension.type dtls.handshake.extensions_server_name dtls.handshake.cookie
  dtls.handshake.session_id_length dtls.handshake.hint dtls.handshake.identity dtls.alert_message.level
  dtls.alert_message.desc dtls.handshake.certificate x509af.serialNumber x509af.algorithm.id x509af.utcTime x509ce.dNSName)
for f in "$REPO"/pcaps/dtls-*.pcap; do
  dump "$f" "$REPO/test/protocols/dtls/fixtures/$(basename "$f" .pcap).tshark.json" -- "${DTLS_FIELDS[@]}"
done

# MQTT off so that tshark hands the (reassembled, unmasked) message payloads to "data".
WS_FIELDS=(frame.number tcp.srcport tcp.dstport websocket.fin websocket.rsv websocket.opcode websocket.mask websocket.payload_length
  websocket.payload_length_ext_16 websocket.payload_length_ext_64 data.data websocket.payload.close.status_code
  http.request.uri http.response.code http.upgrade http.sec_websocket_protocol)
for f in "$REPO"/pcaps/ws-*.pcap; do
  dump "$f" "$REPO/test/protocols/websocket/fixtures/$(basename "$f" .pcap).tshark.json" \
    -d tcp.port==18080,http --disable-protocol mqtt -- "${WS_FIELDS[@]}"
done
