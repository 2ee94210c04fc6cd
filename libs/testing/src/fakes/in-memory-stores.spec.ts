import { InMemoryLaneStore } from './in-memory-lane-store';
import { InMemoryRunEventStore } from './in-memory-run-event-store';
import { describeLaneStorageContract, describeRunEventLogContract } from './contracts';

// The same cases run against JetStream in libs/messaging/jetstream/src/run-event-store.int-spec.ts.
describeRunEventLogContract('InMemoryRunEventStore', () => new InMemoryRunEventStore());
describeLaneStorageContract('InMemoryLaneStore', async () => new InMemoryLaneStore());
