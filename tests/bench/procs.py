"""Child processes for the benchmark scripts: start, wait for a port, stop, never leave one behind.

Every child runs in its own session, so stopping it stops what it forked too (socat forks one
process per connection, nginx has workers). Everything started here is stopped at exit, on any
exit, and on SIGTERM/SIGINT.
"""

import atexit
import os
import re
import signal
import socket
import subprocess
import sys
import time

_children = []


def free_port(kind=socket.SOCK_STREAM):
    """A port that is free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start(argv, log_path=None, env=None, stdin=subprocess.DEVNULL, stdout=None):
    """Starts argv in a new session; its stderr (and stdout unless given) go to log_path."""
    log = open(log_path, "ab") if log_path else subprocess.DEVNULL
    child = subprocess.Popen(
        argv,
        stdin=stdin,
        stdout=stdout if stdout is not None else log,
        stderr=log,
        env=env,
        start_new_session=True,
    )
    _children.append(child)
    return child


def stop(child, grace=5.0):
    """SIGTERM to the child's whole session, SIGKILL after `grace` seconds."""
    if child.poll() is None:
        try:
            os.killpg(child.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            child.wait(grace)
        except subprocess.TimeoutExpired:
            pass
    # Kill whatever is left in the session (forked helpers), then reap.
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        child.wait(grace)
    except subprocess.TimeoutExpired:
        pass
    if child in _children:
        _children.remove(child)


def stop_all():
    for child in list(reversed(_children)):
        stop(child, grace=2.0)


def _on_signal(signum, _frame):
    stop_all()
    sys.exit(128 + signum)


atexit.register(stop_all)
signal.signal(signal.SIGTERM, _on_signal)
signal.signal(signal.SIGINT, _on_signal)


def wait_listening(port, child=None, limit=10.0):
    """Waits until something accepts on 127.0.0.1:port; fails if the child exits first."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if child is not None and child.poll() is not None:
            raise RuntimeError(f"{child.args[0]} exited with {child.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {limit}s")


def session_pids(leader_pid):
    """The leader and every process of its session (nginx workers, socat children)."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # After the command: state, ppid, pgrp, session.
        if int(fields[3]) == leader_pid:
            pids.append(int(entry))
    return pids


def rss_kib(pids):
    """Summed VmRSS of the pids, in KiB."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as status:
                match = re.search(r"VmRSS:\s+(\d+)", status.read())
        except OSError:
            continue
        if match:
            total += int(match.group(1))
    return total


def run_tool(argv, limit):
    """Runs a measuring tool to completion with a hard time limit; returns its stdout."""
    done = subprocess.run(argv, capture_output=True, text=True, timeout=limit, start_new_session=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()[:400]}")
    return done.stdout
