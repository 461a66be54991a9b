"""The MLLP listener and sender (HL7 v2 Minimal Lower Layer Protocol, HL7 v2.5.1 appendix C).

Each connection reads blocks and answers each with an ACK once the message is stored; many
connections are served at once, and what they bring at the same moment is stored together
(`receive.store`: one INSERT for the lot). Processing (matching, stays, alerts) runs
afterwards in one queue, in arrival order, so a slow match never delays an ACK and an A03
never overtakes its A01. Django's ORM is synchronous, so every database call runs in one of
the listener's database threads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from django.db import close_old_connections, connection
from hl7.mllp import open_hl7_connection, start_hl7_server
from hl7.mllp.exceptions import InvalidBlockError

from caseboard.transitions import hl7v2
from caseboard.transitions.processing import pending_message_ids, process_message
from caseboard.transitions.receive import Receipt, read_all, store

logger = logging.getLogger(__name__)
T = TypeVar("T")
# Largest message accepted (bytes): ADT messages with many DG1/OBX segments run to tens of
# kilobytes; this leaves room without letting one sender exhaust memory.
BLOCK_LIMIT = 4 * 1024 * 1024
START_BLOCK = b"\x0b"
# SQLite takes one writer at a time and its in-memory shared cache fails, rather than waits,
# on a locked table: with it, database calls take turns. Other databases run them side by side.
_sqlite_turns = threading.Lock()


# Lots being stored at once: while one waits for its commit, the next is read and parsed.
STORERS = 2
# Most messages stored in one transaction.
MOST_PER_LOT = 50
# Threads for the ORM's calls: the storers' and processing's.
DATABASE_THREADS = STORERS + 1
# See `Listener._quiet`.
PROCESSING_MAX_WAIT = 0.25


def _in_thread(function: Callable[..., T], *args: Any) -> T:
    if connection.vendor == "sqlite":
        close_old_connections()
        with _sqlite_turns:
            return function(*args)
    try:
        return function(*args)
    finally:
        if connection.errors_occurred:
            # A broken connection is not reused: the next call opens a fresh one.
            connection.close()


class _DatabaseThreads:
    """Where the listener's database calls run. On a server database each thread keeps its
    connection from one call to the next (opening one per message would cost more than
    storing the message) and closes it when the listener stops, so none outlives it (a
    connection left open keeps a server from dropping or migrating its database)."""

    def __init__(self, size: int = DATABASE_THREADS) -> None:
        self.size = size
        self.executor = ThreadPoolExecutor(max_workers=size, thread_name_prefix="adt-db")

    def run(self, function: Callable[..., T], *args: Any) -> Awaitable[T]:
        loop = asyncio.get_running_loop()
        return loop.run_in_executor(self.executor, _in_thread, function, *args)

    def close(self) -> None:
        # One closing call per thread: each waits at the barrier until every thread holds one.
        barrier = threading.Barrier(self.size)

        def close_own() -> None:
            connection.close()
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(timeout=10)

        for future in [self.executor.submit(close_own) for _ in range(self.size)]:
            future.result()
        self.executor.shutdown(wait=True)


class Listener:
    """Accepts connections, stores and acknowledges messages, then processes them in order."""

    def __init__(self, *, process: bool = True) -> None:
        self.process = process
        self.queue: asyncio.Queue[int] = asyncio.Queue()
        self.server: asyncio.Server | None = None
        self.worker: asyncio.Task[None] | None = None
        self.received = 0
        self.database = _DatabaseThreads()
        # Messages being stored right now: processing waits for them (see `_quiet`).
        self.inflight = 0
        # Messages waiting for a storer, with what their connection awaits.
        self.arrivals: list[tuple[bytes, asyncio.Future[Receipt]]] = []
        self.arrived = asyncio.Event()
        self.storers: list[asyncio.Task[None]] = []

    async def start(self, host: str, port: int) -> asyncio.Server:
        self.server = await start_hl7_server(
            self.handle, host=host, port=port, limit=BLOCK_LIMIT, encoding="latin-1"
        )
        self.storers = [asyncio.create_task(self._store_lots()) for _ in range(STORERS)]
        if self.process:
            # What was stored but not processed before the last stop goes first.
            for message_id in await self.database.run(pending_message_ids):
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
                if START_BLOCK in block:
                    # A frame whose end never came, then a whole one (MLLP, HL7 v2.5.1 appendix
                    # C.4.3: a receiver drops an incomplete block). Its sender got no ACK for
                    # it and sends it again; only the whole frame is stored.
                    block = block.rpartition(START_BLOCK)[2]
                    logger.warning("MLLP block from %s cut short by a new one; dropped", peer)
                self.inflight += 1
                try:
                    receipt = await self._store(block)
                finally:
                    self.inflight -= 1
                self.received += 1
                writer.writeblock(receipt.ack.encode("utf-8"))
                await writer.drain()
                if receipt.to_process and receipt.message_id is not None and self.process:
                    self.queue.put_nowait(receipt.message_id)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    def _store(self, block: bytes) -> asyncio.Future[Receipt]:
        stored: asyncio.Future[Receipt] = asyncio.get_running_loop().create_future()
        self.arrivals.append((block, stored))
        self.arrived.set()
        return stored

    async def _store_lots(self) -> None:
        """Take whatever has arrived, store it in one go and answer each message's
        connection; while a lot is being stored the next one gathers."""
        while True:
            await self.arrived.wait()
            lot, self.arrivals = self.arrivals[:MOST_PER_LOT], self.arrivals[MOST_PER_LOT:]
            if not self.arrivals:
                self.arrived.clear()
            if not lot:
                continue
            try:
                # Reading (python-hl7's parse and the checks) is CPU work: here, rather than
                # in a database thread that would take turns with this loop for the
                # interpreter. The database thread only waits on the database.
                readings = read_all([block for block, _ in lot])
                receipts = await self.database.run(store, readings)
            except BaseException as error:
                for _, stored in lot:
                    if not stored.done():
                        stored.set_exception(error)
                if isinstance(error, asyncio.CancelledError):
                    raise
                logger.exception("ADT messages could not be stored")
                continue
            for (_, stored), receipt in zip(lot, receipts, strict=True):
                if not stored.done():
                    stored.set_result(receipt)

    async def _work(self) -> None:
        while True:
            message_id = await self.queue.get()
            await self._quiet()
            try:
                await self.database.run(process_message, message_id)
            except Exception:  # the queue must keep going
                logger.exception("ADT message %s could not be processed", message_id)
            finally:
                self.queue.task_done()

    async def _quiet(self) -> None:
        """Let the messages being received go first: their senders wait for the ACK, while
        processing can catch up between bursts. Under a steady stream it still takes one
        message at least every PROCESSING_MAX_WAIT seconds, so it never stops."""
        waited = 0.0
        while self.inflight and waited < PROCESSING_MAX_WAIT:
            await asyncio.sleep(0.002)
            waited += 0.002

    async def drain(self) -> None:
        """Wait until every queued message has been processed."""
        await self.queue.join()

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
        for task in [*self.storers, *([self.worker] if self.worker else [])]:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for _, stored in self.arrivals:
            stored.cancel()
        await asyncio.get_running_loop().run_in_executor(None, self.database.close)


async def serve(
    host: str,
    port: int,
    *,
    ready: Callable[[int], None] | None = None,
) -> None:
    """Listen until SIGTERM or Ctrl-C, then stop in order: no new connections, database
    connections closed."""
    listener = Listener()
    server = await listener.start(host, port)
    stopping = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopping.set)
    if ready is not None:
        ready(listener.port)
    try:
        async with server:
            await stopping.wait()
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
