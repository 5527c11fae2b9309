"""Runs moto server on 127.0.0.1 until its standard input closes.

Tests and the demo start this script as a child process with a piped stdin: when the
parent exits, for any reason, the pipe closes and moto stops with it, so no emulator is
ever left behind. It prints one line, `READY http://127.0.0.1:PORT`, once it serves.

ECS tasks in moto advance towards STOPPED on their own, one step per DescribeTasks,
unless the state manager pins them; the pin is set here so that every consumer sees
tasks stay where the test put them.
"""

import argparse
import logging
import sys

from moto.moto_api import state_manager
from moto.server import ThreadedMotoServer


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    args = parser.parse_args()

    # One log line per request drowns the test output; errors still show.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    state_manager.set_transition(
        model_name="ecs::task",
        transition={"progression": "manual", "times": 1_000_000_000},
    )
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=args.port, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    print(f"READY http://{host}:{port}", flush=True)
    sys.stdin.read()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
