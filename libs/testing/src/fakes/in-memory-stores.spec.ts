import { InMemoryLaneStore } from './in-memory-lane-store';
import { InMemoryRunEventStore } from './in-memory-run-event-store';
import { describeLaneStorageContract, describeRunEventLogContract } from './contracts';

// The same cases run against JetStream in libs/messaging/jetstream/src/run-event-store.int-spec.ts.
describeRunEventLogContract('InMemoryRunEventStore', () => new InMemoryRunEventStore());
// Every handle of a process's lanes is the one store, as every LaneStore shares the one bucket.
const lanes = new InMemoryLaneStore();
describeLaneStorageContract('InMemoryLaneStore', async () => lanes);
