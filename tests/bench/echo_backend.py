#!/usr/bin/env python3
"""An echo server on 127.0.0.1:PORT for the memory figures: each client sends one line, gets it
back, then stays open and idle. It runs in its own process so that its sockets do not count
against the file descriptor limit of the process holding the clients."""

import asyncio
import resource
import sys


async def echo(reader, writer):
    try:
        while data := await reader.read(4096):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    writer.close()


async def main(port):
    server = await asyncio.start_server(echo, "127.0.0.1", port, backlog=4096)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    asyncio.run(main(int(sys.argv[1])))
