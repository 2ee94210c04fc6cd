import { Injectable, Logger, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { startTracing, stopTracing } from './tracing';

@Injectable()
class TracingLifecycle implements OnApplicationShutdown {
  /** After every module's beforeApplicationShutdown: consumers have stopped and their last spans ended. */
  async onApplicationShutdown(): Promise<void> {
    // A collector that does not answer costs the spans still queued, not the rest of the shutdown.
    await stopTracing().catch((error: unknown) => new Logger('OpenTelemetry').warn(`spans not exported at shutdown: ${error instanceof Error ? error.message : String(error)}`));
  }
}

/**
 * OpenTelemetry tracing for a service (README, "Operations"): the SDK starts as the module is
 * built, when OTEL_EXPORTER_OTLP_ENDPOINT is set, and the spans still queued are exported at shutdown.
 */
@Module({})
export class TracingModule {
  static forRoot(serviceName: string): DynamicModule {
    return {
      module: TracingModule,
      providers: [
        {
          provide: TracingLifecycle,
          useFactory: () => {
            startTracing(serviceName);
            return new TracingLifecycle();
          },
        },
      ],
    };
  }
}
