#!/usr/bin/env python3
"""Cache-aside workload with Zipf-distributed keys: GET a key, SET it on a miss.

Runs the same seeded sequence against each server given as name=port, prints the hit ratio
(after a warm-up), evicted keys, used_memory and the server process's RSS.

  hitratio.py --ops 1000000 --keys 200000 --value-size 128 --zipf 0.99 node=7000:PID redis=7001:PID
"""
import argparse
import bisect
import random
import socket


def resp(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class Client:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def _line(self):
        while b"\r\n" not in self.buf:
            self.buf += self.sock.recv(1 << 20)
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def read(self):
        line = self._line()
        kind = line[:1]
        if kind == b"$":
            n = int(line[1:])
            if n < 0:
                return None
            while len(self.buf) < n + 2:
                self.buf += self.sock.recv(1 << 20)
            value, self.buf = self.buf[:n], self.buf[n + 2:]
            return value
        if kind == b"-":
            raise RuntimeError(line.decode())
        return line[1:]

    def call(self, *args):
        self.send(resp(*args))
        return self.read()


def info(client, field):
    text = client.call(b"INFO", b"all").decode()
    for line in text.split("\r\n"):
        if line.startswith(field + ":"):
            return line.split(":", 1)[1]
    return "?"


def rss(pid):
    with open("/proc/%s/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def run(name, port, pid, args, sequence):
    c = Client(port)
    try:
        c.call(b"FLUSHALL")
    except RuntimeError:
        pass  # start from a fresh server instead
    c.call(b"CONFIG", b"SET", b"maxmemory-policy", args.policy.encode())
    c.call(b"CONFIG", b"SET", b"maxmemory", args.maxmemory.encode())
    c.call(b"CONFIG", b"RESETSTAT")
    value = b"v" * args.value_size
    warmup = int(len(sequence) * args.warmup)
    hits = gets = 0
    batch = 64
    for start in range(0, len(sequence), batch):
        keys = sequence[start:start + batch]
        c.send(b"".join(resp(b"GET", k) for k in keys))
        misses = []
        for i, k in enumerate(keys):
            found = c.read() is not None
            if start + i >= warmup:
                gets += 1
                hits += found
            if not found:
                misses.append(k)
        if misses:
            c.send(b"".join(resp(b"SET", k, value) for k in misses))
            for _ in misses:
                c.read()
    used = int(info(c, "used_memory"))
    print("%-6s policy=%s maxmemory=%s hit_ratio=%.4f keys=%s evicted=%s used_memory=%.1fMB rss=%.1fMB"
          % (name, args.policy, args.maxmemory, hits / gets, info(c, "db0").split(",")[0].split("=")[1],
             info(c, "evicted_keys"), used / 1048576, rss(pid) / 1048576))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--ops", type=int, default=1000000)
    p.add_argument("--keys", type=int, default=200000)
    p.add_argument("--value-size", type=int, default=128)
    p.add_argument("--zipf", type=float, default=0.99)
    p.add_argument("--maxmemory", default="16mb")
    p.add_argument("--policy", default="allkeys-lru")
    p.add_argument("--warmup", type=float, default=0.2)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("servers", nargs="+", help="name=port:pid")
    args = p.parse_args()
    rng = random.Random(args.seed)
    weights = [1.0 / (i + 1) ** args.zipf for i in range(args.keys)]
    cdf, total = [], 0.0
    for w in weights:
        total += w
        cdf.append(total)
    names = list(range(args.keys))
    rng.shuffle(names)
    sequence = [b"key:%d" % names[min(bisect.bisect_left(cdf, rng.random() * total), args.keys - 1)] for _ in range(args.ops)]
    for server in args.servers:
        name, rest = server.split("=")
        port, pid = rest.split(":")
        run(name, int(port), pid, args, sequence)


if __name__ == "__main__":
    main()
