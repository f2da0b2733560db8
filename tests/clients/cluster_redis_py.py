"""redis-py's RedisCluster against the ports given: keys across all slots, a hash-tagged MSET/MGET,
a pipeline, the cross-slot error; prints "ok <keys>" or exits non-zero."""
import sys

from redis.cluster import ClusterNode, RedisCluster
from redis.exceptions import RedisClusterException, ResponseError

ports = [int(p) for p in sys.argv[1:]]
cluster = RedisCluster(startup_nodes=[ClusterNode("127.0.0.1", p) for p in ports], socket_timeout=20)
count = 2000
for i in range(count):
    cluster.set(f"py:{i}", f"v{i}")
for i in range(count):
    value = cluster.get(f"py:{i}")
    assert value == f"v{i}".encode(), (i, value)
cluster.mset_nonatomic({"{tag}a": "1", "{tag}b": "2"})
assert cluster.execute_command("MGET", "{tag}a", "{tag}b") == [b"1", b"2"]
try:
    cluster.execute_command("MGET", "a", "b")
    raise AssertionError("MGET across slots succeeded")
except (RedisClusterException, ResponseError) as e:
    assert "slot" in str(e).lower(), str(e)
pipe = cluster.pipeline()
pipe.set("{p}x", "1")
pipe.incr("{p}x")
pipe.get("{p}x")
assert pipe.execute()[2] == b"2"
masters = [n for n in cluster.get_nodes() if n.server_type == "primary"]
assert len(masters) == len(ports), masters
print(f"ok {count}")
