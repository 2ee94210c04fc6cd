import { Counter, Gauge, Histogram, collectDefaultMetrics, register } from 'prom-client';

/**
 * The process's Prometheus metrics (prom-client's default registry), served as text at `/metrics`
 * on the gateway's port and on each service's HEALTH_PORT (README, "Operations"). Every process
 * declares the same families; a service reports the ones it acts on.
 */
let defaultsCollected = false;

export function startMetrics(service: string): void {
  if (defaultsCollected) return;
  defaultsCollected = true;
  register.setDefaultLabels({ service });
  collectDefaultMetrics();
}

export const metricsContentType = register.contentType;

export function metricsText(): Promise<string> {
  return register.metrics();
}

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

export const METRICS = {
  httpRequests: new Counter({ name: 'lrs_http_requests_total', help: 'HTTP requests answered, by route and status', labelNames: ['method', 'route', 'status'] }),
  httpDuration: new Histogram({ name: 'lrs_http_request_duration_seconds', help: 'HTTP request durations, by route', labelNames: ['method', 'route'], buckets: SECONDS }),
  runsCreated: new Counter({ name: 'lrs_runs_created_total', help: 'Runs created (RunCreated appended)' }),
  runsFinished: new Counter({ name: 'lrs_runs_finished_total', help: 'Runs ended, by status and stop reason', labelNames: ['status', 'stop_reason'] }),
  modelCalls: new Histogram({ name: 'lrs_model_call_duration_seconds', help: 'Model calls, by outcome', labelNames: ['outcome'], buckets: SECONDS }),
  timeToFirstToken: new Histogram({ name: 'lrs_model_time_to_first_token_seconds', help: 'Model calls: request sent to first streamed token', buckets: SECONDS }),
  steps: new Histogram({ name: 'lrs_step_duration_seconds', help: 'Steps, from StepRequested handled to the answer appended, by outcome', labelNames: ['outcome'], buckets: SECONDS }),
  callbackAttempts: new Counter({ name: 'lrs_callback_attempts_total', help: 'Callback deliveries, by outcome', labelNames: ['outcome'] }),
  consumerDeliveries: new Counter({ name: 'lrs_consumer_deliveries_total', help: 'Messages handled by a consumer, by outcome (acked, retried, dead_lettered)', labelNames: ['consumer', 'outcome'] }),
  consumerRedeliveries: new Counter({ name: 'lrs_consumer_redeliveries_total', help: 'Messages a consumer received more than once', labelNames: ['consumer'] }),
};

/** Sources of a process's gauges, read when /metrics is scraped. */
const gaugeSources: (() => Promise<void>)[] = [];
let refreshing: Promise<void> | null = null;

/** Runs every source once per scrape, however many gauges ask (prom-client collects them at once). */
function refreshGauges(): Promise<void> {
  refreshing ??= Promise.all(gaugeSources.map((source) => source().catch(() => undefined))).then(() => {
    refreshing = null;
  });
  return refreshing;
}

export const GAUGES = {
  consumerLag: new Gauge({
    name: 'lrs_consumer_lag_messages',
    help: 'Messages a consumer has not received yet (JetStream num_pending), as of the scrape',
    labelNames: ['consumer'],
    collect: refreshGauges,
  }),
  consumerUnacked: new Gauge({
    name: 'lrs_consumer_unacked_messages',
    help: 'Messages delivered and not yet acknowledged (JetStream num_ack_pending), as of the scrape',
    labelNames: ['consumer'],
    collect: refreshGauges,
  }),
  inFlight: new Gauge({ name: 'lrs_consumer_in_flight', help: 'Messages this process is handling now', labelNames: ['consumer'], collect: refreshGauges }),
};

/** Registers work that sets gauges just before a scrape (e.g. reading consumer info from JetStream). */
export function onScrape(source: () => Promise<void>): void {
  gaugeSources.push(source);
}
