import { parseArgs } from 'node:util';
import { Env } from '@lrs/config';
import { DeadLetters, connectJetStream, type DeadLetter } from '@lrs/jetstream';

const USAGE = `usage: npm run dlq -- list [--consumer NAME]
       npm run dlq -- redrive (--seq N ... | --all) [--consumer NAME]

Lists the messages the consumers gave up on (the DLQ stream), or hands them back to their
consumer's handler (one running replica of its service takes each); an entry that goes through
leaves the DLQ. Reads NATS_URL.`;

/** `npm run dlq`: the DLQ for operators (docs/run-path.md). */
async function main(): Promise<number> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { consumer: { type: 'string' }, seq: { type: 'string', multiple: true }, all: { type: 'boolean' }, help: { type: 'boolean' } },
  });
  const [command] = positionals;
  if (values.help || (command !== 'list' && command !== 'redrive') || (command === 'redrive' && !values.all && !values.seq?.length)) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  const nats = await connectJetStream({ servers: new Env().string('NATS_URL', 'nats://127.0.0.1:4222'), name: 'dlq' });
  try {
    const deadLetters = new DeadLetters(nats.nc, nats.jsm);
    const letters = await deadLetters.list(values.consumer);
    if (command === 'list') {
      for (const letter of letters) console.log(describe(letter));
      console.log(`${letters.length} dead-lettered message(s)`);
      return 0;
    }
    const wanted = values.all ? letters : letters.filter((letter) => values.seq!.includes(String(letter.dlqSeq)));
    let failed = 0;
    for (const letter of wanted) {
      const reply = await deadLetters.redrive(letter);
      if (!reply.ok) failed++;
      console.log(`${reply.ok ? 'redriven' : 'failed  '} ${describe(letter)}${reply.ok ? '' : ` -> ${reply.error}`}`);
    }
    console.log(`${wanted.length - failed} redriven, ${failed} failed`);
    return failed === 0 ? 0 : 1;
  } finally {
    await nats.nc.drain();
  }
}

function describe(letter: DeadLetter): string {
  return `#${letter.dlqSeq} ${letter.deadAt} ${letter.consumer} ${letter.eventType} ${letter.runId} (${letter.stream} seq ${letter.streamSeq}): ${letter.error}`;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`dlq failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
