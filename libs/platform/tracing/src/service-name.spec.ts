import { trace, type ProxyTracerProvider } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type TracerProvider } from '@opentelemetry/sdk-trace';
import { SpanKind, inSpan, startTracing, stopTracing } from './tracing';

// A file of its own: the SDK registers itself once per process (here, per test file).
describe('service.name', () => {
  const saved = { ...process.env };
  afterAll(async () => {
    await stopTracing();
    process.env = saved;
  });

  it('is OTEL_SERVICE_NAME when set, and OTEL_RESOURCE_ATTRIBUTES add to the resource', async () => {
    Object.assign(process.env, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1', OTEL_SERVICE_NAME: 'custom-name', OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=test' });
    const exporter = new InMemorySpanExporter();
    startTracing('orchestrator', [new SimpleSpanProcessor({ exporter })]);
    await inSpan('work', { kind: SpanKind.INTERNAL }, async () => undefined);
    await ((trace.getTracerProvider() as ProxyTracerProvider).getDelegate() as TracerProvider).forceFlush();
    expect(exporter.getFinishedSpans()[0].resource.attributes).toMatchObject({ 'service.name': 'custom-name', 'deployment.environment.name': 'test' });
  });
});
