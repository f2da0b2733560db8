#!/usr/bin/env python3
"""Time from kill -9 of a master to its slots being written again (issue 12), node against redis-server.

For each server kind and round: a fresh 3-master/3-replica cluster (redis-cli --cluster create --cluster-replicas 1,
cluster-node-timeout as given), kill -9 the master of slot 0, then poll a SET of a key in slot 0 on the killed
master's replica until it succeeds (the replica won its election and serves the slot). Prints each round and the
median per kind. Run once on a quiet machine:

    python3 tests/bench/failover-time.py [--rounds 5] [--node-timeout 2000] [--servers node,redis] [--node-dir DIR]

--node-dir is a `dotnet publish node -c Release` output (built into /tmp/cacheoperator-bench/node when absent).
"""
import argparse, os, shutil, signal, socket, statistics, subprocess, sys, tempfile, time

parser = argparse.ArgumentParser()
parser.add_argument("--rounds", type=int, default=5)
parser.add_argument("--node-timeout", type=int, default=2000)
parser.add_argument("--servers", default="node,redis")
parser.add_argument("--node-dir", default="/tmp/cacheoperator-bench/node")
args = parser.parse_args()

repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if "node" in args.servers and not os.path.exists(os.path.join(args.node_dir, "cache-node")):
    subprocess.run(["dotnet", "publish", os.path.join(repo, "node"), "-c", "Release", "-o", args.node_dir, "--nologo", "-v", "quiet"], check=True)


def free_port():
    # A port whose bus port (+10000) is free too.
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port + 10000 < 65536:
            try:
                with socket.socket() as b:
                    b.bind(("127.0.0.1", port + 10000))
                return port
            except OSError:
                pass


def cli(port, *command, timeout=5):
    return subprocess.run(["redis-cli", "-p", str(port), *command], capture_output=True, text=True, timeout=timeout).stdout.strip()


def start(kind, port, directory):
    common = ["--port", str(port), "--bind", "127.0.0.1", "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
              "--cluster-node-timeout", str(args.node_timeout), "--save", "", "--dir", directory]
    if kind == "node":
        command = [os.path.join(args.node_dir, "cache-node"), *common]
    else:
        command = ["redis-server", *common, "--appendonly", "no"]
    process = subprocess.Popen(command, cwd=directory, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while cli(port, "ping") != "PONG":
        if time.monotonic() > deadline:
            raise RuntimeError(f"{kind} on {port} did not start")
        time.sleep(0.05)
    return process


def one_round(kind):
    work = tempfile.mkdtemp(prefix=f"failover-{kind}-")
    ports = [free_port() for _ in range(6)]
    processes = {}
    try:
        for port in ports:
            directory = os.path.join(work, str(port))
            os.makedirs(directory)
            processes[port] = start(kind, port, directory)
        created = subprocess.run(["redis-cli", "--cluster", "create", *[f"127.0.0.1:{p}" for p in ports], "--cluster-replicas", "1", "--cluster-yes"],
                                 capture_output=True, text=True, timeout=120).stdout
        if "[OK] All 16384 slots covered." not in created:
            raise RuntimeError(created)
        # Wait until every node knows its role and every replica is in sync.
        deadline = time.monotonic() + 60
        while True:
            lines = [line.split() for line in cli(ports[0], "cluster", "nodes").splitlines()]
            replicas = [line for line in lines if "slave" in line[2] and line[3] != "-"]
            if len(replicas) == 3 and all("ok" in cli(p, "cluster", "info") for p in ports) and \
                    all("master_link_status:up" in cli(int(r[1].split(":")[1].split("@")[0]), "info", "replication") for r in replicas):
                break
            if time.monotonic() > deadline:
                raise RuntimeError("cluster did not settle")
            time.sleep(0.1)
        master_line = next(line for line in lines if "master" in line[2] and any(s.startswith("0-") for s in line[8:]))
        master_port = int(master_line[1].split(":")[1].split("@")[0])
        replica_port = next(int(r[1].split(":")[1].split("@")[0]) for r in replicas if r[3] == master_line[0])
        key = "{06S}probe"  # slot 0
        killed = time.monotonic()
        processes[master_port].send_signal(signal.SIGKILL)
        deadline = killed + 120
        while cli(replica_port, "set", key, "v", timeout=5) != "OK":
            if time.monotonic() > deadline:
                raise RuntimeError("no failover within 120 s")
            time.sleep(0.02)
        return time.monotonic() - killed
    finally:
        for process in processes.values():
            process.kill()
            process.wait()
        shutil.rmtree(work, ignore_errors=True)


results = {}
for kind in args.servers.split(","):
    times = []
    for round_number in range(args.rounds):
        seconds = one_round(kind)
        times.append(seconds)
        print(f"{kind:6} round {round_number + 1}: {seconds:.2f} s", flush=True)
    results[kind] = times
print(f"cluster-node-timeout {args.node_timeout} ms, {args.rounds} rounds")
for kind, times in results.items():
    print(f"{kind:6} median {statistics.median(times):.2f} s  min {min(times):.2f} s  max {max(times):.2f} s")
if "node" in results and "redis" in results:
    print(f"node/redis median ratio {statistics.median(results['node']) / statistics.median(results['redis']):.2f}")
