// node-redis 5's client-side cache (RESP3, CLIENT TRACKING ON, invalidation pushes) against the port given:
// reads are served from the local cache until another client's writes, an expiry, a FLUSHALL invalidate them.
// Prints "ok <hits> <misses> <invalidations>" or throws.
const { createClient, BasicClientSideCache } = require("redis");

async function until(what, condition) {
  const deadline = Date.now() + 20000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function main() {
  const url = `redis://127.0.0.1:${Number(process.argv[2])}`;
  const cache = new BasicClientSideCache({ ttl: 0, maxEntries: 0 });
  let invalidations = 0;
  cache.on("invalidate", () => invalidations++);
  const cached = createClient({ url, RESP: 3, clientSideCache: cache });
  const writer = createClient({ url });
  await cached.connect();
  await writer.connect();
  await writer.flushAll();

  await writer.set("csc:a", "1");
  await writer.hSet("csc:h", { f: "v" });
  if ((await cached.get("csc:a")) !== "1") throw new Error("first read");
  if ((await cached.get("csc:a")) !== "1") throw new Error("cached read");
  if ((await cached.hGetAll("csc:h")).f !== "v") throw new Error("hash read");
  await cached.hGetAll("csc:h");
  if (cache.stats().hitCount !== 2 || cache.stats().missCount !== 2) throw new Error(`stats ${JSON.stringify(cache.stats())}`);

  // Another client's write: the push removes the entry, the next read goes to the server.
  await writer.set("csc:a", "2");
  await until("csc:a is invalidated", () => cache.size() < 2);
  await until("csc:a reads 2", async () => (await cached.get("csc:a")) === "2");
  await writer.hSet("csc:h", { f: "w" });
  await until("csc:h reads w", async () => (await cached.hGetAll("csc:h")).f === "w");

  // Expiry invalidates too.
  await writer.set("csc:t", "soon", { PX: 50 });
  if ((await cached.get("csc:t")) !== "soon") throw new Error("volatile read");
  await until("csc:t expired", async () => (await cached.get("csc:t")) === null);

  // FLUSHALL: the null push clears the whole cache.
  await cached.get("csc:a");
  await writer.flushAll();
  await until("the cache is emptied", () => cache.size() === 0);
  if ((await cached.get("csc:a")) !== null) throw new Error("read after FLUSHALL");

  const stats = cache.stats();
  if (invalidations < 4) throw new Error(`only ${invalidations} invalidations`);
  console.log(`ok ${stats.hitCount} ${stats.missCount} ${invalidations}`);
  await cached.quit();
  await writer.quit();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
