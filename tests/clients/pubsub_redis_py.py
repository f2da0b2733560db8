"""redis-py's PubSub against the port given: channel and pattern subscriptions, messages published by another
connection, keyspace notifications (CONFIG SET notify-keyspace-events), a thread reading with get_message, and
unsubscribing; prints "ok <messages>" or exits non-zero."""
import sys
import time

import redis

port = int(sys.argv[1])
r = redis.Redis(host="127.0.0.1", port=port, socket_timeout=20)
p = r.pubsub(ignore_subscribe_messages=True)
p.subscribe("py:news")
p.psubscribe("py:*:events")
r.config_set("notify-keyspace-events", "K$")
p.psubscribe("__keyspace@0__:py:key")


def next_message():
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        message = p.get_message(timeout=1)
        if message is not None:
            return message
    raise AssertionError("no message within 20 s")


def wait_subscribed():
    # redis-py sends SUBSCRIBE and PSUBSCRIBE without waiting for their replies: a PUBLISH on the other connection may
    # reach the server first, so wait until the server counts the subscriptions.
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        p.get_message(timeout=0.05)  # reads the confirmations (ignored) so the connection does not back up
        if dict(r.pubsub_numsub("py:news")).get(b"py:news") == 1 and r.pubsub_numpat() == 2:
            return
    raise AssertionError("subscriptions not counted within 20 s")


wait_subscribed()
count = 100
for i in range(count):
    assert r.publish("py:news", f"n{i}") == 1
    assert r.publish("py:a:events", f"e{i}") == 1
for i in range(count):
    m = next_message()
    assert m["type"] == "message" and m["channel"] == b"py:news" and m["data"] == f"n{i}".encode(), m
    m = next_message()
    assert m["type"] == "pmessage" and m["pattern"] == b"py:*:events" and m["channel"] == b"py:a:events", m
    assert m["data"] == f"e{i}".encode(), m
r.set("py:key", "v")
m = next_message()
assert m["channel"] == b"__keyspace@0__:py:key" and m["data"] == b"set", m
numsub = dict(r.pubsub_numsub("py:news"))
assert numsub[b"py:news"] == 1, numsub
assert r.pubsub_numpat() == 2
p.unsubscribe()
p.punsubscribe()
deadline = time.monotonic() + 20
while dict(r.pubsub_numsub("py:news"))[b"py:news"] != 0 or r.pubsub_numpat() != 0:
    p.get_message(timeout=0.1)
    assert time.monotonic() < deadline, "still subscribed"
r.config_set("notify-keyspace-events", "")
print(f"ok {2 * count + 1}")
