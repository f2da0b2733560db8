// A published job-queue library's Lua scripts against a server: bee-queue 2.0.0 (EVALSHA of addJob, addDelayedJob,
// raiseDelayedJobs, checkStalledJobs and removeJob over lists, sets, hashes, sorted sets; events over pub/sub) runs a
// fixed workload and prints a canonical transcript: job ids, states, counts, events and every key's type and contents.
// Timestamps, stack traces and anything else that depends on timing are left out, so that the transcripts from
// redis-server and from the node can be compared byte for byte.
// Usage: node jobqueue_bee_queue.js <port>
'use strict';

const Queue = require('bee-queue');
const redis = require('bee-queue/node_modules/redis');

const port = Number(process.argv[2]);
const redisOptions = { host: '127.0.0.1', port };
const lines = [];
const errors = [];
const out = (...parts) => lines.push(parts.join(' '));

function call(client, command, ...args) {
  return new Promise((resolve, reject) =>
    client.send_command(command, args, (err, reply) => (err ? reject(err) : resolve(reply)))
  );
}

// Polls (no fixed sleeps) until check() is true; fails after a generous deadline for slow machines.
async function until(what, check) {
  const deadline = Date.now() + 60000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

// A job's stored JSON without what depends on the clock or on the machine (timestamps, stack traces).
function canonicalJob(json) {
  const job = JSON.parse(json);
  delete job.options.timestamp;
  if (job.options.delay !== undefined) job.options.delay = '<time>';
  job.options.stacktraces = job.options.stacktraces.map((trace) => trace.split('\n')[0]);
  return JSON.stringify(job);
}

async function dumpKeys(client) {
  const keys = [];
  let cursor = '0';
  do {
    const [next, batch] = await call(client, 'scan', cursor, 'COUNT', '7');
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  keys.sort();
  // SCAN may return a key twice; the transcript lists each once.
  for (const key of keys.filter((k, i) => keys.indexOf(k) === i)) {
    const type = await call(client, 'type', key);
    const pttl = await call(client, 'pttl', key);
    const expiry = pttl === -1 ? 'persistent' : pttl > 0 ? 'expiring' : `pttl ${pttl}`;
    let value;
    switch (type) {
      case 'string':
        value = await call(client, 'get', key);
        break;
      case 'list':
        value = (await call(client, 'lrange', key, '0', '-1')).join(',');
        break;
      case 'set':
        value = (await call(client, 'smembers', key)).sort().join(',');
        break;
      case 'zset':
        // Scores are run-time timestamps: only the members and their order.
        value = (await call(client, 'zrange', key, '0', '-1')).join(',');
        break;
      case 'hash': {
        const hash = await call(client, 'hgetall', key);
        value = Object.keys(hash)
          .sort()
          .map((field) => `\n    ${field} = ${key.endsWith(':jobs') ? canonicalJob(hash[field]) : hash[field]}`)
          .join('');
        break;
      }
      default:
        value = '?';
    }
    out('key', key, type, expiry, value);
  }
}

async function main() {
  const raw = redis.createClient(redisOptions);
  raw.on('error', (err) => errors.push(`raw: ${err.message}`));
  await call(raw, 'flushall');

  // A producer that listens to the workers' events over pub/sub, and a worker that raises delayed jobs.
  const producer = new Queue('work', { redis: redisOptions, isWorker: false, getEvents: true, stallInterval: 3600000 });
  const worker = new Queue('work', {
    redis: redisOptions,
    isWorker: true,
    getEvents: false,
    activateDelayedJobs: true,
    stallInterval: 3600000,
  });
  for (const queue of [producer, worker]) queue.on('error', (err) => errors.push(`queue: ${err.message}`));
  await producer.ready();
  await worker.ready();

  const events = new Map();
  const record = (id, text) => {
    if (!events.has(id)) events.set(id, []);
    events.get(id).push(text);
  };
  let eventCount = 0;
  for (const name of ['succeeded', 'failed', 'retrying', 'progress']) {
    producer.on(`job ${name}`, (id, data) => {
      eventCount++;
      record(id, `${name}:${data instanceof Error ? data.message : JSON.stringify(data)}`);
    });
  }

  // Jobs with counter ids (addJob), one of them with a custom id and a duplicate of it (the script returns nil).
  const plain = [];
  for (let n = 1; n <= 3; n++) plain.push(await producer.createJob({ kind: 'double', n }).save());
  out('plain ids', plain.map((job) => job.id).join(','));
  const custom = await producer.createJob({ kind: 'double', n: 10 }).setId('custom-a').save();
  const duplicate = await producer.createJob({ kind: 'double', n: 11 }).setId('custom-a').save();
  out('custom id', custom.id, 'duplicate id', String(duplicate.id));

  // A pipelined batch: EVALSHA inside one write of several commands.
  const batch = [4, 5, 6].map((n) => producer.createJob({ kind: 'double', n }));
  const batchErrors = await producer.saveAll(batch);
  out('batch ids', batch.map((job) => job.id).join(','), 'errors', batchErrors.size);

  // Retries: one job fails twice and then succeeds (immediate backoff), one always fails (fixed backoff through the
  // delayed set and raiseDelayedJobs), one fails without retries, one reports progress.
  const flaky = await producer.createJob({ kind: 'flaky', failures: 2 }).retries(3).save();
  const doomed = await producer.createJob({ kind: 'fail' }).retries(2).backoff('fixed', 30).save();
  const fatal = await producer.createJob({ kind: 'fail' }).save();
  const progress = await producer.createJob({ kind: 'progress' }).save();
  out('retry ids', flaky.id, doomed.id, fatal.id, progress.id);

  // A delayed job far in the future (stays in the delayed set).
  const later = await producer
    .createJob({ kind: 'double', n: 8 })
    .setId('far-future')
    .delayUntil(Date.now() + 3600000)
    .save();
  out('delayed id', later.id);

  // Removal before processing: from the waiting list, and a delayed one from the delayed set.
  const removed = await producer.createJob({ kind: 'double', n: 9 }).save();
  const removedDelayed = await producer.createJob({ kind: 'double', n: 12 }).delayUntil(Date.now() + 3600000).save();
  await producer.removeJob(removed.id);
  await removedDelayed.remove();
  out('removed ids', removed.id, removedDelayed.id);
  out('health before processing', JSON.stringify(await producer.checkHealth()));
  out('waiting', (await producer.getJobs('waiting', { start: 0, end: -1 })).map((job) => job.id).join(','));
  out('delayed', (await producer.getJobs('delayed', { start: 0, end: -1 })).map((job) => job.id).join(','));
  // A job due soon, raised by the worker's timer (after the snapshot above, which would otherwise depend on timing).
  const soon = await producer.createJob({ kind: 'double', n: 7 }).delayUntil(Date.now() + 200).save();
  out('soon id', soon.id);

  const attempts = new Map();
  const local = [];
  for (const name of ['succeeded', 'retrying', 'failed']) {
    worker.on(name, (job, result) => local.push(`${job.id} ${name} ${result instanceof Error ? result.message : JSON.stringify(result)}`));
  }
  worker.process(1, async (job) => {
    const attempt = (attempts.get(job.id) || 0) + 1;
    attempts.set(job.id, attempt);
    switch (job.data.kind) {
      case 'double':
        return job.data.n * 2;
      case 'flaky':
        if (attempt <= job.data.failures) throw new Error(`flaky attempt ${attempt}`);
        return 'recovered';
      case 'fail':
        throw new Error(`job ${job.id} failed attempt ${attempt}`);
      case 'progress':
        await job.reportProgress({ step: 1 });
        await job.reportProgress(50);
        return 'done';
      default:
        throw new Error('unknown kind');
    }
  });

  // Everything but the far-future job finishes: 10 succeed (7 doubles, custom-a, flaky, progress), 2 fail.
  await until('the workload', async () => {
    const health = await producer.checkHealth();
    return health.succeeded === 10 && health.failed === 2 && health.waiting === 0 && health.active === 0 && health.delayed === 1;
  });
  // 10 succeeded + 2 failed + 2 flaky retries + 2 doomed retries + 2 progress events.
  await until('every event', () => eventCount === 18);
  // The worker's own events follow its MULTI's reply: 10 succeeded, 4 retrying (each also 'failed'), 2 failed.
  await until('every worker event', () => local.length === 20);
  out('health after processing', JSON.stringify(await producer.checkHealth()));
  for (const id of [...events.keys()].sort()) out('events', id, events.get(id).join(' '));
  for (const line of local.sort()) out('worker', line);
  for (const id of [...attempts.keys()].sort()) out('attempts', id, attempts.get(id));
  for (const type of ['succeeded', 'failed', 'delayed', 'waiting', 'active']) {
    const jobs = await producer.getJobs(type, { start: 0, end: -1, size: 100 });
    out(type, jobs.map((job) => job.id).sort().join(','));
  }
  for (const id of [plain[0].id, doomed.id, 'far-future', removed.id]) {
    const job = await producer.getJob(id);
    out('job', id, job ? `${job.status} ${JSON.stringify(job.data)} progress ${JSON.stringify(job.progress)}` : 'null');
  }
  const failedJob = await producer.getJob(fatal.id);
  out('in failed set', fatal.id, await failedJob.isInSet('failed'));

  // Removing finished jobs (from the succeeded and failed sets).
  await producer.removeJob(plain[1].id);
  await producer.removeJob(fatal.id);
  out('health after removals', JSON.stringify(await producer.checkHealth()));
  await worker.close();

  // Stalled jobs: a worker takes a job into the active list and dies. The first check marks the active jobs as
  // stalling, the next one (once the stall block is gone) moves them back to waiting; with the block present the
  // script returns nothing.
  const stall = new Queue('stall', { redis: redisOptions, isWorker: true, getEvents: false, stallInterval: 3600000 });
  stall.on('error', (err) => errors.push(`stall queue: ${err.message}`));
  const stalledEvents = [];
  stall.on('stalled', (id) => stalledEvents.push(id));
  await stall.ready();
  const s1 = await stall.createJob({ kind: 'double', n: 20 }).save();
  const s2 = await stall.createJob({ kind: 'double', n: 21 }).save();
  out('stall ids', s1.id, s2.id);
  out('taken by a dying worker', await call(raw, 'rpoplpush', 'bq:stall:waiting', 'bq:stall:active'));
  out('stall check 1', await stall.checkStalledJobs());
  out('stalling after check 1', (await call(raw, 'smembers', 'bq:stall:stalling')).sort().join(','));
  out('stall check 2 (blocked)', await stall.checkStalledJobs());
  out('stall block deleted', await call(raw, 'del', 'bq:stall:stallBlock'));
  out('stall check 3', await stall.checkStalledJobs());
  out('stalled events', stalledEvents.join(','));
  out('stall waiting', (await call(raw, 'lrange', 'bq:stall:waiting', '0', '-1')).join(','));
  out('stall health', JSON.stringify(await stall.checkHealth()));
  const stallDone = [];
  stall.on('succeeded', (job, result) => stallDone.push(`${job.id}=${result}`));
  stall.process(async (job) => job.data.n * 2);
  await until('the stalled jobs', () => stallDone.length === 2);
  out('stall processed', stallDone.sort().join(','));
  out('stall health after', JSON.stringify(await stall.checkHealth()));
  await stall.close();
  await producer.close();

  // raiseDelayedJobs's reply itself, with scores fixed far in the future: 1,500 delayed jobs, raised in LIMIT batches of
  // 1,000 (LPUSH of 1,000 unpacked ids), then the rest; the reply is {raised, score of the last job in the window or -1}.
  const direct = new Queue('direct', { redis: redisOptions, isWorker: false, getEvents: false });
  direct.on('error', (err) => errors.push(`direct queue: ${err.message}`));
  await direct.ready();
  const base = 4102444800000; // 2100-01-01T00:00:00Z
  const many = [];
  for (let i = 0; i < 1500; i++) many.push(direct.createJob({ i }).setId(`d${i}`).delayUntil(base + i));
  out('direct saved errors', (await direct.saveAll(many)).size);
  out('direct delayed head', JSON.stringify(await call(raw, 'zrange', 'bq:direct:delayed', '0', '2', 'WITHSCORES')));
  const raise = (now) => direct._evalScript('raiseDelayedJobs', 2, direct.toKey('delayed'), direct.toKey('waiting'), now, 1000);
  out('direct raise 1', JSON.stringify(await raise(base + 1200)));
  out('direct raise 2', JSON.stringify(await raise(base + 1300)));
  out('direct raise 3', JSON.stringify(await raise(base + 100000)));
  out('direct raise 4', JSON.stringify(await raise(base + 100000)));
  out('direct waiting', await call(raw, 'llen', 'bq:direct:waiting'),
    (await call(raw, 'lrange', 'bq:direct:waiting', '0', '2')).join(','),
    (await call(raw, 'lrange', 'bq:direct:waiting', '-3', '-1')).join(','));
  out('direct destroyed', await direct.destroy());
  await direct.close();

  await dumpKeys(raw);
  for (const error of errors) out('error', error);
  await call(raw, 'quit');
  process.stdout.write(lines.join('\n') + '\n');
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stdout.write(lines.join('\n') + '\n');
    process.stderr.write(`${err.stack}\n`);
    process.exit(1);
  }
);
