#!/usr/bin/env python3
"""Footprint of srv-proxy on loopback: idle RSS, and RSS with N open, active connections.

Usage: python3 proxy/bench/footprint.py PATH/TO/srv-proxy [N]   (N defaults to 1000)

It starts dnsmasq (SRV record -> a local echo backend), the proxy, then N clients that each send
one line and read the echo, and keeps them open while it reads VmRSS from /proc. Everything is on
127.0.0.1, bounded in count and time, and stops by itself.
"""
import asyncio, os, re, resource, socket, subprocess, sys, time

binary = sys.argv[1]
count = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))

def free_port(kind):
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))

async def echo(reader, writer):
    while data := await reader.read(4096):
        writer.write(data)
        await writer.drain()
    writer.close()

async def main():
    backend = await asyncio.start_server(echo, "127.0.0.1", 0, backlog=2048)
    backend_port = backend.sockets[0].getsockname()[1]
    dns_port = free_port(socket.SOCK_DGRAM)
    dnsmasq = subprocess.Popen(["dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts",
        "--conf-file=/dev/null", "--listen-address=127.0.0.1", "--bind-interfaces", "--pid-file=",
        f"--port={dns_port}", "--user=root",
        f"--srv-host=_echo._tcp.bench.test,t1.bench.test,{backend_port},10,1",
        "--host-record=t1.bench.test,127.0.0.1"], stderr=subprocess.DEVNULL)
    listen_port = free_port(socket.SOCK_STREAM)
    proxy = subprocess.Popen([binary, "--route", f"127.0.0.1:{listen_port}=_echo._tcp.bench.test",
        "--dns", f"127.0.0.1:{dns_port}", "--max-connections", str(count + 10),
        "--drain-timeout", "2s"],
        stderr=subprocess.DEVNULL)
    try:
        await asyncio.sleep(1.0)
        # One connection first, so the idle figure includes a resolved route and a warm runtime.
        r, w = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", listen_port), 5)
        w.write(b"warm\n"); await asyncio.wait_for(r.readline(), 5); w.close()
        await asyncio.sleep(0.5)
        idle = rss_kib(proxy.pid)
        clients = []
        for i in range(count):
            r, w = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", listen_port), 5)
            w.write(b"ping\n")
            clients.append((r, w))
        for r, _ in clients:
            assert await asyncio.wait_for(r.readline(), 10) == b"ping\n"
        await asyncio.sleep(0.5)
        loaded = rss_kib(proxy.pid)
        print(f"| idle RSS (after one connection) | {idle} KiB |")
        print(f"| RSS with {count} open connections (each echoed one line) | {loaded} KiB |")
        print(f"| per connection | {(loaded - idle) * 1024 / count:.0f} bytes |")
        for _, w in clients:
            w.close()
        await asyncio.sleep(0.5)
    finally:
        proxy.terminate(); dnsmasq.terminate()
        for child in (proxy, dnsmasq):
            try:
                await asyncio.to_thread(child.wait, 10)
            except subprocess.TimeoutExpired:
                child.kill()
        backend.close()

asyncio.run(asyncio.wait_for(main(), 120))
