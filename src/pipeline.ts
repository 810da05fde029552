// Packets in, typed events out: link/IP decoding, the flow table and the protocol decoders,
// wired for one input (a file or an interface). Frame numbers and flow ids are per input.
import { createDecodedPacket, PacketDecoder, type DecodeStats } from './capture/link';
import type { DecodedPacket, PacketRecord } from './capture/types';
import type { AnomalyEvent, EventSink, FlowSide } from './events/types';
import { FlowTable, type FlowTableOptions, type FlowTableStats } from './flow/flow-table';
import { createClassifier, type ClassifierOptions } from './protocols/classifier';

export interface PipelineOptions {
  sensorId: string;
  /** Installation secret that keys password hashes. */
  secret: Buffer;
  emit: EventSink;
  emitFlowEvents?: boolean;
  /** MQTT messages above this many bytes are reported oversized and skipped. Default 1 MiB. */
  maxMqttMessage?: number;
  mqttPorts?: readonly number[];
  coapPorts?: readonly number[];
  coapStrictPorts?: readonly number[];
  flow?: Partial<Omit<FlowTableOptions, 'classifier' | 'emit' | 'sensorId'>>;
}

export interface PipelineStats {
  decode: DecodeStats;
  flows: FlowTableStats;
  events: number;
}

export class Pipeline {
  readonly decoder: PacketDecoder;
  readonly flows: FlowTable;
  private readonly dp: DecodedPacket = createDecodedPacket();
  private lastTs = 0;
  private lastFrame = 0;
  private events = 0;
  private readonly emit: EventSink;
  private readonly ipSide: FlowSide;

  constructor(opts: PipelineOptions) {
    const sink = opts.emit;
    this.emit = (e) => {
      this.events++;
      sink(e);
    };
    this.ipSide = {
      proto: 'ip', src: '', sport: 0, dst: '', dport: 0, communityId: '', dir: 'to_server', flowId: 0,
      sensor: opts.sensorId,
    };
    const classifierOpts: ClassifierOptions = {
      emit: this.emit,
      mqtt: { secret: opts.secret, maxMessageLength: opts.maxMqttMessage },
      mqttPorts: opts.mqttPorts,
      coapPorts: opts.coapPorts,
      coapStrictPorts: opts.coapStrictPorts,
    };
    this.decoder = new PacketDecoder({
      onAnomaly: (code, detail) => {
        const e: AnomalyEvent = { type: 'anomaly', ts: this.lastTs, frame: this.lastFrame, flow: this.ipSide, code, layer: 'ip', detail };
        this.emit(e);
      },
    });
    this.flows = new FlowTable({
      ...opts.flow,
      sensorId: opts.sensorId,
      classifier: createClassifier(classifierOpts),
      emit: this.emit,
      emitFlowEvents: opts.emitFlowEvents ?? true,
    });
  }

  /** Feed one packet; bound so it can be passed as a PacketHandler. Idle flows are expired by the flow table in capture time. */
  readonly packet = (rec: PacketRecord): void => {
    this.lastTs = rec.tsUs;
    this.lastFrame = rec.frame;
    if (this.decoder.decode(rec, this.dp)) this.flows.packet(this.dp, rec.tsUs, rec.frame);
  };

  /** End of input: every flow ends (reason 'eof') and pending messages are flushed. */
  finish(): PipelineStats {
    // Datagrams whose fragments never all arrived are reported (ip.fragment_timeout) before flows end.
    this.decoder.defrag?.flush();
    this.flows.flush(this.lastTs, this.lastFrame);
    return this.stats();
  }

  stats(): PipelineStats {
    return { decode: { ...this.decoder.stats }, flows: this.flows.stats(), events: this.events };
  }
}
