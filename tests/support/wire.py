"""A TCP relay on loopback in front of the PostgreSQL server, for what only the wire shows: how
many round trips an operation takes, and a line that goes silent."""

from __future__ import annotations

import asyncio

from sqlalchemy.engine import make_url


class Relay:
    """Relays every connection to `target` and counts round trips: each time a client speaks
    after the server last answered it (what asyncpg pipelines into one write is one trip). With
    `speaking` cleared, existing connections stay open but nothing crosses any more, as when a
    firewall or NAT forgets an idle connection; new connections still get through."""

    def __init__(self, url: str) -> None:
        server = make_url(url)
        self._target = (server.host or "127.0.0.1", server.port or 5432)
        self._url = server
        self.speaking = asyncio.Event()
        self.speaking.set()
        self.round_trips = 0
        self.url = ""
        self._server: asyncio.Server | None = None
        self._relays: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> Relay:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = self._url.set(host="127.0.0.1", port=port).render_as_string(False)
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in self._relays:
            task.cancel()
        await asyncio.gather(*self._relays, return_exceptions=True)

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self._target)
        # A connection made while the line is silent is a new one, which works.
        joined_silent = not self.speaking.is_set()
        answered = True  # the server has answered everything the client said so far

        async def pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter, up: bool) -> None:
            nonlocal answered
            while data := await source.read(65536):
                if not joined_silent:
                    await self.speaking.wait()  # held back, and the line stays open
                if up and answered:
                    self.round_trips += 1
                answered = not up
                sink.write(data)
                await sink.drain()
            sink.close()  # one side hung up: so does the relay

        for task in (pump(reader, up_writer, True), pump(up_reader, writer, False)):
            self._relays.add(asyncio.ensure_future(task))
