"""The MLLP listener and sender (HL7 v2 Minimal Lower Layer Protocol, HL7 v2.5.1 appendix C).

Each connection reads blocks and answers each with an ACK once the message is stored; many
connections are served at once. Processing (matching, stays, alerts) runs afterwards in one
queue, in arrival order, so a slow match never delays an ACK and an A03 never overtakes its
A01. Django's ORM is synchronous, so every database call goes through `sync_to_async`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from asgiref.sync import sync_to_async
from django.db import close_old_connections, connection
from hl7.mllp import open_hl7_connection, start_hl7_server
from hl7.mllp.exceptions import InvalidBlockError

from caseboard.transitions import hl7v2
from caseboard.transitions.processing import pending_message_ids, process_message
from caseboard.transitions.receive import Receipt, receive

logger = logging.getLogger(__name__)
T = TypeVar("T")
# Largest message accepted (bytes): ADT messages with many DG1/OBX segments run to tens of
# kilobytes; this leaves room without letting one sender exhaust memory.
BLOCK_LIMIT = 4 * 1024 * 1024
# SQLite takes one writer at a time and its in-memory shared cache fails, rather than waits,
# on a locked table: with it, database calls take turns. Other databases run them side by side.
_sqlite_turns = threading.Lock()


def _in_thread(function: Callable[..., T], *args: Any) -> T:
    close_old_connections()
    if connection.vendor == "sqlite":
        with _sqlite_turns:
            return function(*args)
    try:
        return function(*args)
    finally:
        # Executor threads outlive the call; a connection left open in one would outlive the
        # listener too (and keep a server from dropping or migrating its database).
        connection.close()


def _run(function: Callable[..., T], *args: Any) -> Awaitable[T]:
    return sync_to_async(_in_thread, thread_sensitive=False)(function, *args)


class Listener:
    """Accepts connections, stores and acknowledges messages, then processes them in order."""

    def __init__(self, *, process: bool = True) -> None:
        self.process = process
        self.queue: asyncio.Queue[int] = asyncio.Queue()
        self.server: asyncio.Server | None = None
        self.worker: asyncio.Task[None] | None = None
        self.received = 0

    async def start(self, host: str, port: int) -> asyncio.Server:
        self.server = await start_hl7_server(
            self.handle, host=host, port=port, limit=BLOCK_LIMIT, encoding="latin-1"
        )
        if self.process:
            # What was stored but not processed before the last stop goes first.
            for message_id in await _run(pending_message_ids):
                self.queue.put_nowait(message_id)
            self.worker = asyncio.create_task(self._work())
        return self.server

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    async def handle(self, reader: Any, writer: Any) -> None:
        peer = writer.get_extra_info("peername")
        try:
            while True:
                try:
                    block = await reader.readblock()
                except asyncio.IncompleteReadError:
                    break  # the sender closed the connection
                except InvalidBlockError:
                    logger.warning("MLLP block from %s without start character; closing", peer)
                    break
                except ValueError:
                    logger.warning("MLLP block from %s over %s bytes; closing", peer, BLOCK_LIMIT)
                    break
                receipt: Receipt = await _run(receive, block)
                self.received += 1
                writer.writeblock(receipt.ack.encode("utf-8"))
                await writer.drain()
                if receipt.to_process and receipt.message_id is not None and self.process:
                    self.queue.put_nowait(receipt.message_id)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def _work(self) -> None:
        while True:
            message_id = await self.queue.get()
            try:
                await _run(process_message, message_id)
            except Exception:  # the queue must keep going
                logger.exception("ADT message %s could not be processed", message_id)
            finally:
                self.queue.task_done()

    async def drain(self) -> None:
        """Wait until every queued message has been processed."""
        await self.queue.join()

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
        if self.worker is not None:
            self.worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.worker


async def serve(host: str, port: int, *, ready: Callable[[int], None] | None = None) -> None:
    listener = Listener()
    server = await listener.start(host, port)
    if ready is not None:
        ready(listener.port)
    try:
        async with server:
            await server.serve_forever()
    finally:
        await listener.stop()


async def send(messages: list[str], host: str, port: int, timeout: float = 30) -> list[str]:
    """Send messages over one MLLP connection, each waiting for its ACK; returns the ACKs."""
    reader, writer = await asyncio.wait_for(
        open_hl7_connection(host, port, limit=BLOCK_LIMIT, encoding="utf-8"), timeout
    )
    acks = []
    try:
        for message in messages:
            writer.writeblock(hl7v2.normalize(message).encode("utf-8"))
            await writer.drain()
            block = await asyncio.wait_for(reader.readblock(), timeout)
            acks.append(block.decode("utf-8", "replace"))
    finally:
        writer.close()
    return acks
