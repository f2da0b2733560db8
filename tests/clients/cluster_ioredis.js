// ioredis in cluster mode against the ports given: writes keys across all slots, reads them back,
// runs a multi-key command on one hash tag and a pipeline, and prints "ok <keys>" or throws.
const Redis = require("ioredis");

async function main() {
  const ports = process.argv.slice(2).map(Number);
  const cluster = new Redis.Cluster(ports.map((port) => ({ host: "127.0.0.1", port })), {
    redisOptions: { connectTimeout: 20000 },
    slotsRefreshTimeout: 20000,
  });
  const count = 2000;
  for (let i = 0; i < count; i++) {
    await cluster.set(`io:${i}`, `v${i}`);
  }
  for (let i = 0; i < count; i++) {
    const value = await cluster.get(`io:${i}`);
    if (value !== `v${i}`) throw new Error(`io:${i} read ${value}`);
  }
  await cluster.mset("{tag}a", "1", "{tag}b", "2");
  const both = await cluster.mget("{tag}a", "{tag}b");
  if (both.join(",") !== "1,2") throw new Error(`mget read ${both}`);
  let crossSlot = "";
  try {
    await cluster.mget("a", "b");
  } catch (e) {
    crossSlot = e.message;
  }
  if (!crossSlot.startsWith("CROSSSLOT")) throw new Error(`mget across slots answered '${crossSlot}'`);
  const results = await cluster.pipeline().set("{p}x", "1").incr("{p}x").get("{p}x").exec();
  if (results[2][1] !== "2") throw new Error(`pipeline read ${JSON.stringify(results)}`);
  const nodes = cluster.nodes("master").length;
  if (nodes !== ports.length) throw new Error(`ioredis found ${nodes} masters`);
  console.log(`ok ${count}`);
  cluster.disconnect();
}

main().catch((e) => {
  console.error(e.stack || String(e));
  process.exit(1);
});
