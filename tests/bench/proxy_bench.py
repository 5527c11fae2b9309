#!/usr/bin/env python3
"""srv-proxy beside its peers on loopback: throughput, requests/s, latency, connections/s, memory.

Usage: proxy_bench.py --srv-proxy PATH --out results.json [--rounds 7] [--seconds 3]

Every peer forwards to the same backends: iperf3 for bulk throughput, nginx serving a small
static file for wrk, and a Python echo server for the idle-connection memory figure. srv-proxy
finds its backends through SRV records served by dnsmasq: once at the publisher's default TTL,
and once more at TTL 0 (the demo's setting: a resolution for every connection), for the
request figures only, since bulk transfers do not depend on DNS.

The machine is shared, and its load drifts by more than the differences measured. So every
figure is measured in rounds, and within a round the peers run that figure one after the other:
HAProxy, srv-proxy and srv-proxy at TTL 0 first, right after each other, then direct, HAProxy
with splice-auto and nginx stream, each group starting one peer further on from round to round.
A ratio between two peers is taken within each round, from measurements seconds apart, and the
report gives the median of those ratios with their spread. The memory figure is measured in rounds too, each peer freshly started. At least
MIN_ROUNDS rounds. Everything listens on 127.0.0.1 and every tool has a time limit.
"""

import argparse
import asyncio
import atexit
import json
import os
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import procs  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
NGINX_STREAM_MODULE = "/usr/lib/nginx/modules/ngx_stream_module.so"
SRV = {"iperf": "_iperf._tcp.bench.test", "http": "_http._tcp.bench.test", "echo": "_echo._tcp.bench.test"}
# The publisher's default record TTL: srv-proxy re-resolves every 10 s, as it would behind Route 53.
DNS_TTL = 10
# A small static file, the size of a typical JSON API answer.
STATIC_BYTES = 612
# Medians of fewer rounds than this say too little on a shared 2-core machine.
MIN_ROUNDS = 5
# The figures each peer runs; srv-proxy at TTL 0 differs from srv-proxy only per connection.
ALL_FIGURES = ("iperf1", "iperf8", "keepalive", "latency1", "close")
REQUEST_FIGURES = ("keepalive", "latency1", "close")


def log(message):
    print(f"bench: {message}", file=sys.stderr, flush=True)


class Workdir:
    def __init__(self):
        self.path = tempfile.mkdtemp(prefix="ecs-srv-bench-")

    def file(self, name, text=None):
        path = os.path.join(self.path, name)
        if text is not None:
            with open(path, "w") as out:
                out.write(text)
        return path


# ---------------------------------------------------------------- backends


class Backends:
    """iperf3, nginx (HTTP) and the echo server: one of each, shared by every peer."""

    def __init__(self, work):
        self.work = work
        self.ports = {"iperf": procs.free_port(), "http": procs.free_port(), "echo": procs.free_port()}
        self.iperf = procs.start(
            ["iperf3", "--server", "--bind", "127.0.0.1", "--port", str(self.ports["iperf"])],
            log_path=work.file("iperf3.log"),
        )
        procs.wait_listening(self.ports["iperf"], self.iperf)
        root = os.path.join(work.path, "www")
        os.makedirs(root, exist_ok=True)
        with open(os.path.join(root, "index.html"), "w") as page:
            page.write("x" * (STATIC_BYTES - 1) + "\n")
        conf = work.file(
            "backend-nginx.conf",
            f"""
user root;
worker_processes 1;
daemon off;
pid {work.path}/backend-nginx.pid;
error_log {work.path}/backend-nginx.err warn;
worker_rlimit_nofile 20000;
events {{ worker_connections 10000; }}
http {{
  access_log off;
  keepalive_requests 10000000;
  keepalive_timeout 300s;
  client_body_temp_path {work.path}/nginx-tmp;
  proxy_temp_path {work.path}/nginx-tmp;
  fastcgi_temp_path {work.path}/nginx-tmp;
  uwsgi_temp_path {work.path}/nginx-tmp;
  scgi_temp_path {work.path}/nginx-tmp;
  server {{
    listen 127.0.0.1:{self.ports["http"]} backlog=4096;
    root {root};
  }}
}}
""",
        )
        self.nginx = procs.start(
            ["nginx", "-e", work.file("backend-nginx.err"), "-p", work.path, "-c", conf],
            log_path=work.file("backend-nginx.log"),
        )
        procs.wait_listening(self.ports["http"], self.nginx)
        self.echo = procs.start(
            [sys.executable, os.path.join(HERE, "echo_backend.py"), str(self.ports["echo"])],
            log_path=work.file("echo.log"),
        )
        procs.wait_listening(self.ports["echo"], self.echo)


class Dnsmasq:
    """SRV records for srv-proxy: each backend name points at t1.bench.test (127.0.0.1)."""

    def __init__(self, work, backend_ports, ttl=DNS_TTL):
        binary = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
        records = [f"--srv-host={SRV[kind]},t1.bench.test,{port},10,1" for kind, port in backend_ports.items()]
        for _attempt in range(10):
            self.port = procs.free_port(socket.SOCK_DGRAM)
            self.child = procs.start(
                [binary, "--keep-in-foreground", "--no-resolv", "--no-hosts", "--conf-file=/dev/null",
                 "--listen-address=127.0.0.1", "--bind-interfaces", "--pid-file=", "--user=root",
                 f"--port={self.port}", f"--local-ttl={ttl}",
                 "--host-record=t1.bench.test,127.0.0.1", *records],
                log_path=work.file("dnsmasq.log"),
            )
            time.sleep(0.3)
            if self.child.poll() is None:
                return
        raise RuntimeError("dnsmasq did not start on 127.0.0.1")


# ---------------------------------------------------------------- peers


class Peer:
    """A forwarder with one listening port per backend kind."""

    name = "?"
    figures = ALL_FIGURES

    def __init__(self, work, backends):
        self.work = work
        self.backends = backends
        self.ports = {}
        self.child = None

    def start(self):
        raise NotImplementedError

    def pids(self):
        return procs.session_pids(self.child.pid) if self.child else []

    def stop(self):
        if self.child:
            procs.stop(self.child)
            self.child = None

    def _wait(self):
        for port in self.ports.values():
            procs.wait_listening(port, self.child)


class Direct(Peer):
    name = "direct"

    def start(self):
        self.ports = dict(self.backends.ports)


class Haproxy(Peer):
    def __init__(self, work, backends, splice, maxconn):
        super().__init__(work, backends)
        self.splice = splice
        # HAProxy refuses to start if the descriptor limit cannot cover 2 per connection.
        self.maxconn = maxconn
        self.name = "HAProxy splice-auto" if splice else "HAProxy"

    def start(self):
        self.ports = {kind: procs.free_port() for kind in self.backends.ports}
        listens = "".join(
            f"listen {kind}\n  bind 127.0.0.1:{port}\n  server {kind}1 127.0.0.1:{self.backends.ports[kind]}\n"
            for kind, port in self.ports.items()
        )
        conf = self.work.file(
            f"haproxy-{'splice' if self.splice else 'plain'}.cfg",
            f"""global
  maxconn {self.maxconn}
  nbthread 2
defaults
  mode tcp
  timeout connect 5s
  timeout client 1h
  timeout server 1h
{'  option splice-auto' if self.splice else ''}
{listens}""",
        )
        self.child = procs.start(["haproxy", "-db", "-f", conf], log_path=self.work.file("haproxy.log"))
        self._wait()


class NginxStream(Peer):
    name = "nginx stream"

    @staticmethod
    def available():
        return os.path.exists(NGINX_STREAM_MODULE)

    def start(self):
        self.ports = {kind: procs.free_port() for kind in self.backends.ports}
        servers = "".join(
            f"  server {{ listen 127.0.0.1:{port} backlog=4096; proxy_pass 127.0.0.1:{self.backends.ports[kind]}; }}\n"
            for kind, port in self.ports.items()
        )
        conf = self.work.file(
            "stream-nginx.conf",
            f"""load_module {NGINX_STREAM_MODULE};
worker_processes 2;
daemon off;
pid {self.work.path}/stream-nginx.pid;
error_log {self.work.path}/stream-nginx.err warn;
worker_rlimit_nofile 20000;
events {{ worker_connections 20000; }}
stream {{
  proxy_timeout 1h;
{servers}}}
""",
        )
        self.child = procs.start(
            ["nginx", "-e", self.work.file("stream-nginx.err"), "-p", self.work.path, "-c", conf],
            log_path=self.work.file("stream-nginx.log"),
        )
        self._wait()


class SrvProxy(Peer):
    def __init__(self, work, backends, binary, dns_port, ttl_zero=False):
        super().__init__(work, backends)
        self.binary = binary
        self.dns_port = dns_port
        self.name = "srv-proxy TTL 0" if ttl_zero else "srv-proxy"
        if ttl_zero:
            self.figures = REQUEST_FIGURES

    def start(self):
        self.ports = {kind: procs.free_port() for kind in self.backends.ports}
        argv = [self.binary, "--dns", f"127.0.0.1:{self.dns_port}", "--max-connections", "10000"]
        for kind, port in self.ports.items():
            argv += ["--route", f"127.0.0.1:{port}={SRV[kind]}"]
        env = dict(os.environ, RUST_LOG="warn")
        self.child = procs.start(argv, log_path=self.work.file("srv-proxy.log"), env=env)
        self._wait()


# ---------------------------------------------------------------- figures


def iperf(port, streams, seconds):
    # The iperf3 server takes one test at a time and may still be closing the last one ("server is
    # busy"): a bounded number of retries.
    for _attempt in range(5):
        done = subprocess.run(
            ["iperf3", "--client", "127.0.0.1", "--port", str(port), "--time", str(seconds), "--omit", "1",
             "--parallel", str(streams), "--json"],
            capture_output=True, text=True, timeout=seconds + 20, start_new_session=True,
        )
        report = {}
        try:
            report = json.loads(done.stdout)
            return report["end"]["sum_received"]["bits_per_second"] / 1e9
        except (json.JSONDecodeError, KeyError):
            error = report.get("error") or done.stderr
            log(f"iperf3 through port {port} failed ({str(error).strip()[:120]}); retrying")
            time.sleep(1.0)
    raise RuntimeError(f"iperf3 through port {port} failed 5 times")


def _micros(text):
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 1, "ms": 1e3, "s": 1e6}[unit]


def wrk(port, seconds, close, connections=64):
    threads = min(2, connections)
    argv = ["wrk", "--threads", str(threads), "--connections", str(connections), "--duration", f"{seconds}s",
            "--latency",
            "--timeout", "5s"]
    if close:
        argv += ["--header", "Connection: close"]
    out = procs.run_tool(argv + [f"http://127.0.0.1:{port}/index.html"], limit=seconds + 30)
    result = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}
    for pct in ("50", "99"):
        result[f"p{pct}_us"] = _micros(re.search(rf"^\s+{pct}%\s+(\S+)", out, re.M).group(1))
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    result["errors"] = sum(int(n) for n in errors.groups()) if errors else 0
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    result["non2xx"] = int(bad.group(1)) if bad else 0
    return result


async def _hold_idle(port, count):
    """Opens `count` connections, each echoing one line, and returns them still open."""
    clients = []
    batch = 200
    for start in range(0, count, batch):
        opened = await asyncio.gather(*[
            asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 10)
            for _ in range(min(batch, count - start))
        ])
        for _reader, writer in opened:
            writer.write(b"ping\n")
        for reader, _writer in opened:
            line = await asyncio.wait_for(reader.readline(), 10)
            if line != b"ping\n":
                raise RuntimeError(f"connection {len(clients)} got {line!r} instead of its echo")
        clients.extend(opened)
    return clients


def start_peer(peer):
    """Starts a peer on fresh free ports; another process may take a port in between, so a bounded
    number of tries."""
    for attempt in range(1, 4):
        try:
            peer.start()
            return
        except RuntimeError as error:
            peer.stop()
            if attempt == 3:
                raise
            log(f"{peer.name} did not start ({error}); trying other ports")


def memory(peer, count):
    """Idle RSS (after one proxied connection) and RSS with `count` idle connections open."""
    start_peer(peer)
    try:
        async def measure():
            warm = await _hold_idle(peer.ports["echo"], 1)
            for _, writer in warm:
                writer.close()
            await asyncio.sleep(1.0)
            idle = procs.rss_kib(peer.pids())
            clients = await _hold_idle(peer.ports["echo"], count)
            await asyncio.sleep(1.0)
            loaded = procs.rss_kib(peer.pids())
            for _, writer in clients:
                writer.close()
            await asyncio.sleep(0.5)
            return idle, loaded

        idle, loaded = asyncio.run(asyncio.wait_for(measure(), 180))
    finally:
        peer.stop()
    return {"idle_kib": idle, "loaded_kib": loaded, "per_conn_bytes": (loaded - idle) * 1024 / count}


def in_turn(peers, round_number):
    """The peers in this round's order: each round starts one peer further on, so that no peer
    always runs right after the same neighbour (a busy backend, a machine whose load drifts)."""
    shift = (round_number - 1) % len(peers)
    return peers[shift:] + peers[:shift]


# The peers whose ratios the report gives: measured one right after the other in every round.
COMPARED = ("HAProxy", "srv-proxy", "srv-proxy TTL 0")


def figure_order(peers, round_number):
    """HAProxy and srv-proxy first, within seconds of each other, in an order that turns from
    round to round; then the other peers, turning too."""
    compared = [p for p in peers if p.name in COMPARED]
    others = [p for p in peers if p.name not in COMPARED]
    return in_turn(compared, round_number) + in_turn(others, round_number)


def measure(figure, peer, seconds):
    if figure.startswith("iperf"):
        return iperf(peer.ports["iperf"], int(figure[len("iperf"):]), seconds)
    if figure == "latency1":
        return wrk(peer.ports["http"], seconds, close=False, connections=1)
    return wrk(peer.ports["http"], seconds, close=figure == "close")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--srv-proxy", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--seconds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=10000)
    args = parser.parse_args()
    if args.rounds < MIN_ROUNDS:
        log(f"{args.rounds} rounds asked; medians of at least {MIN_ROUNDS} are reported, so {MIN_ROUNDS} run")
        args.rounds = MIN_ROUNDS

    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    # A proxied connection costs the proxy two descriptors; keep a margin for everything else.
    idle_count = min(args.connections, (hard - 300) // 2)

    work = Workdir()
    atexit.register(lambda: (procs.stop_all(), shutil.rmtree(work.path, ignore_errors=True)))
    backends = Backends(work)
    dns = Dnsmasq(work, backends.ports)
    dns_ttl_zero = Dnsmasq(work, backends.ports, ttl=0)
    peers = [Direct(work, backends), Haproxy(work, backends, False, idle_count + 10),
             # Splicing also reserves pipes (maxconn/4, two descriptors each); this peer is not in
             # the memory figures, so a smaller maxconn keeps it within the descriptor limit.
             Haproxy(work, backends, True, 2000)]
    # socat (a process per connection, far behind every other peer) is left out of the rounds,
    # so that five rounds of the peers that matter fit the bench's time.
    notes = []
    if NginxStream.available():
        peers.append(NginxStream(work, backends))
    else:
        notes.append(f"nginx stream: left out, {NGINX_STREAM_MODULE} is missing (Debian package libnginx-mod-stream).")
    peers.append(SrvProxy(work, backends, args.srv_proxy, dns.port))
    peers.append(SrvProxy(work, backends, args.srv_proxy, dns_ttl_zero.port, ttl_zero=True))

    samples = {}

    def record(figure, peer, value):
        samples.setdefault(figure, {}).setdefault(peer.name, []).append(value)

    for peer in peers:
        start_peer(peer)
    # A first request through each peer, so that srv-proxy's first DNS lookup is not in a figure.
    for peer in peers:
        wrk(peer.ports["http"], 1, close=False)
    for round_number in range(1, args.rounds + 1):
        for figure in ALL_FIGURES:
            log(f"round {round_number}/{args.rounds}: {figure}")
            for peer in figure_order([p for p in peers if figure in p.figures], round_number):
                record(figure, peer, measure(figure, peer, args.seconds))
    for peer in peers:
        peer.stop()

    memory_samples = {}
    memory_peers = [p for p in peers if p.name in ("HAProxy", "nginx stream", "srv-proxy")]
    for round_number in range(1, args.rounds + 1):
        for peer in in_turn(memory_peers, round_number):
            log(f"memory, round {round_number}/{args.rounds}: {peer.name} with {idle_count} idle connections")
            memory_samples.setdefault(peer.name, []).append(memory(peer, idle_count))

    with open(args.out, "w") as out:
        json.dump({
            "rounds": args.rounds,
            "seconds": args.seconds,
            "peers": [p.name for p in peers],
            "samples": samples,
            "memory": memory_samples,
            "idle_connections": idle_count,
            "idle_connections_asked": args.connections,
            "nofile_hard_limit": hard,
            "dns_ttl": DNS_TTL,
            "static_bytes": STATIC_BYTES,
            "notes": notes,
            "versions": tool_versions(),
        }, out, indent=1)


def tool_versions():
    def first_line(argv, stderr=False):
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=10)
            text = done.stderr if stderr else done.stdout
            return (text or done.stdout or done.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return "unknown"
    return {
        "haproxy": first_line(["haproxy", "-v"]),
        "nginx": first_line(["nginx", "-v"], stderr=True),
        "iperf3": first_line(["iperf3", "--version"]),
        "wrk": first_line(["wrk", "--version"]),
        "dnsmasq": first_line(["dnsmasq", "--version"]),
    }


if __name__ == "__main__":
    main()
