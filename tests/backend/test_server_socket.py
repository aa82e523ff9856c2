"""The API's listening socket hands out connections with TCP_NODELAY.

Without it, a response written in two pieces (headers, then body) waits for
the client's delayed ACK: 40 ms on every request of a kept-alive connection
(44 ms instead of 2 ms median for a small GET through `plait.Remote`).
uvicorn serves on the socket `plait server` binds, through asyncio, which sets
the option on accepted sockets only when the listener says IPPROTO_TCP; Linux
also copies it from the listener. Both paths are checked here.
"""

from __future__ import annotations

import asyncio
import socket
import sys

import pytest
from plait.backend.server import bind


def _nodelay(sock: socket.socket) -> bool:
    return bool(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))


def test_connections_served_by_asyncio_have_tcp_nodelay() -> None:
    listener = bind("127.0.0.1", 0)
    port = listener.getsockname()[1]

    async def main() -> bool:
        accepted: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

        class Probe(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                accepted.set_result(_nodelay(transport.get_extra_info("socket")))
                transport.close()

        server = await asyncio.get_running_loop().create_server(Probe, sock=listener)  # as uvicorn does
        async with server:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            result = await asyncio.wait_for(accepted, 10)
            writer.close()
            return result

    assert asyncio.run(main()) is True


@pytest.mark.skipif(sys.platform != "linux", reason="Linux copies TCP_NODELAY from a listener to what it accepts")
def test_accepted_sockets_inherit_tcp_nodelay_on_linux() -> None:
    with bind("127.0.0.1", 0) as listener, socket.create_connection(listener.getsockname(), timeout=10):
        connection, _ = listener.accept()
        with connection:
            assert _nodelay(listener) and _nodelay(connection)
