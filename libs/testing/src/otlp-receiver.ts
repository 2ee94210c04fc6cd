import { CallbackReceiver } from './callback-receiver';

/** One span as a receiver saw it, with its resource's service name and attribute values unwrapped. */
export interface ReceivedSpan {
  service: string;
  resource: Record<string, unknown>;
  traceId: string;
  spanId: string;
  /** Empty for a root span. */
  parentSpanId: string;
  name: string;
  /** OTLP's numbers: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  attributes: Record<string, unknown>;
  /** 0 unset, 1 ok, 2 error. */
  status: { code: number; message?: string };
  events: string[];
  startTimeUnixNano: string;
  endTimeUnixNano: string;
}

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values?: OtlpValue[] };
}
type OtlpAttributes = { key: string; value: OtlpValue }[] | undefined;
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: OtlpAttributes;
  status?: { code?: number; message?: string };
  events?: { name: string }[];
  startTimeUnixNano: string;
  endTimeUnixNano: string;
}
interface OtlpTraceRequest {
  resourceSpans?: { resource?: { attributes?: OtlpAttributes }; scopeSpans?: { spans?: OtlpSpan[] }[] }[];
}

const unwrap = (value: OtlpValue): unknown =>
  value.arrayValue ? (value.arrayValue.values ?? []).map(unwrap) : value.intValue !== undefined ? Number(value.intValue) : (value.stringValue ?? value.doubleValue ?? value.boolValue);
const attributesOf = (attributes: OtlpAttributes) => Object.fromEntries((attributes ?? []).map(({ key, value }) => [key, unwrap(value)]));

/**
 * An OpenTelemetry collector stand-in on 127.0.0.1: records the OTLP/HTTP JSON export requests it
 * is sent (`POST /v1/traces`, as the SDK sends them with OTEL_EXPORTER_OTLP_PROTOCOL=http/json)
 * and reads their spans.
 */
export class OtlpReceiver {
  private constructor(private readonly receiver: CallbackReceiver) {}

  static async start(): Promise<OtlpReceiver> {
    return new OtlpReceiver(await CallbackReceiver.start());
  }

  /** For OTEL_EXPORTER_OTLP_ENDPOINT: the SDK appends `/v1/traces`. */
  get endpoint(): string {
    return this.receiver.url('');
  }

  get spans(): ReceivedSpan[] {
    return this.receiver.forPath('/v1/traces').flatMap(({ body }) =>
      ((body as OtlpTraceRequest).resourceSpans ?? []).flatMap((resourceSpans) => {
        const resource = attributesOf(resourceSpans.resource?.attributes);
        return (resourceSpans.scopeSpans ?? []).flatMap((scope) =>
          (scope.spans ?? []).map((span) => ({
            service: String(resource['service.name']),
            resource,
            traceId: span.traceId,
            spanId: span.spanId,
            parentSpanId: span.parentSpanId ?? '',
            name: span.name,
            kind: span.kind,
            attributes: attributesOf(span.attributes),
            status: { code: span.status?.code ?? 0, ...(span.status?.message ? { message: span.status.message } : {}) },
            events: (span.events ?? []).map((event) => event.name),
            startTimeUnixNano: span.startTimeUnixNano,
            endTimeUnixNano: span.endTimeUnixNano,
          })),
        );
      }),
    );
  }

  inTrace(traceId: string): ReceivedSpan[] {
    return this.spans.filter((span) => span.traceId === traceId);
  }

  stop(): Promise<void> {
    return this.receiver.stop();
  }
}
