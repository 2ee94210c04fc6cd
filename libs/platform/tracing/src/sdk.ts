import { format } from 'node:util';
import { Logger } from '@nestjs/common';
import { DiagLogLevel, diag, type DiagLogger } from '@opentelemetry/api';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { NodeSDK, type NodeSDKConfiguration } from '@opentelemetry/sdk-node';

export interface TracingSdk {
  /** Exports the spans still queued, then stops. */
  shutdown(): Promise<void>;
}

/** Where spans go: left out, the exporter OTEL_TRACES_EXPORTER and OTEL_EXPORTER_OTLP_* name, behind a batch processor (OTEL_BSP_*). */
export type SpanProcessors = NodeSDKConfiguration['spanProcessors'];

/**
 * The OpenTelemetry Node SDK, set up as its own environment variables say (exporter, OTLP
 * protocol, endpoint, headers and timeout, sampler, batch processor, span limits, resource
 * attributes, propagators, OTEL_SDK_DISABLED): this module is only loaded when tracing is on
 * (tracing.ts). Traces only: metrics stay Prometheus text on /metrics and logs stay on stdout, so
 * the SDK's metric and log exporters are not started. No automatic instrumentation: the spans
 * are the ones tracing.ts makes (HTTP requests, run events handled, model calls, callbacks).
 */
export function startSdk(serviceName: string, spanProcessors?: SpanProcessors): TracingSdk {
  const sdk = new NodeSDK({
    // The base resource: the attributes the SDK detects (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES,
    // host, process, a service.instance.id per process) win over it.
    resource: defaultResource().merge(resourceFromAttributes({ 'service.name': serviceName })),
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [],
    ...(spanProcessors ? { spanProcessors } : {}),
  });
  // The SDK's own complaints (a collector that does not answer, a bad setting) in the service's log.
  diag.setLogger(diagLogger(new Logger('OpenTelemetry')), { logLevel: diagLevel(process.env.OTEL_LOG_LEVEL), suppressOverrideMessage: true });
  sdk.start();
  return sdk;
}

function diagLogger(logger: Logger): DiagLogger {
  const line = (message: string, args: unknown[]) => format(message, ...args);
  return {
    error: (message, ...args) => logger.error(line(message, args)),
    warn: (message, ...args) => logger.warn(line(message, args)),
    info: (message, ...args) => logger.log(line(message, args)),
    debug: (message, ...args) => logger.debug(line(message, args)),
    verbose: (message, ...args) => logger.verbose(line(message, args)),
  };
}

/** OTEL_LOG_LEVEL, `info` unless set. */
function diagLevel(value: string | undefined): DiagLogLevel {
  const levels: Record<string, DiagLogLevel> = {
    none: DiagLogLevel.NONE,
    error: DiagLogLevel.ERROR,
    warn: DiagLogLevel.WARN,
    info: DiagLogLevel.INFO,
    debug: DiagLogLevel.DEBUG,
    verbose: DiagLogLevel.VERBOSE,
    all: DiagLogLevel.ALL,
  };
  return levels[(value ?? 'info').trim().toLowerCase()] ?? DiagLogLevel.INFO;
}
