"""HL7 v2 ADT over MLLP: our listener, which stores every message durably before its ACK and
processes it, against python-hl7's own plain asyncio MLLP server, which stores nothing and
answers a canned ACK — both as separate processes on loopback, driven by the same client in
the same run.

    uv run python bench/bench_mllp.py --connections 8 --messages 1500

The client opens N connections; each sends its messages one after another, waiting for every
ACK (as an interface engine does). Reported per server: messages per second over the whole run
and the p50/p99 time from writing a message to reading its ACK. Ours runs on PostgreSQL
(`--database`, default the local server; a fresh database is created and dropped) or, with
`--sqlite`, on a SQLite file. Issue target: at least 1,000 messages/s sustained with durable
storage, p99 ACK under 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

START, END = b"\x0b", b"\x1c\x0d"
PLAIN_SERVER = """
import asyncio, sys
from hl7.mllp import start_hl7_server

ACK = ("MSH|^~\\\\&|CASEBOARD|PLANP|EPIC|GENHOSP|20261102093500||ACK^A01|1|P|2.5.1\\r"
       "MSA|AA|1\\r")

async def handle(reader, writer):
    try:
        while True:
            await reader.readblock()
            writer.writeblock(ACK.encode())
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()

async def main(port):
    server = await start_hl7_server(handle, host="127.0.0.1", port=port)
    async with server:
        await server.serve_forever()

asyncio.run(main(int(sys.argv[1])))
"""


def adt(trigger: str, *, control_id: str, identifiers: str, visit_number: str) -> str:
    """An ED registration (A04) or update (A08) as a hospital interface engine sends it."""
    pv1 = ["PV1", "1", "E", "ED^01^A^GENHOSP"] + [""] * 42
    pv1[19] = visit_number
    pv1[44] = "20261102093000"
    return (
        "\r".join(
            [
                f"MSH|^~\\&|EPIC|GENHOSP|CASEBOARD|PLANP|20261102093500||ADT^{trigger}^ADT_A01|"
                f"{control_id}|P|2.5.1",
                f"EVN|{trigger}|20261102093000",
                f"PID|1||{identifiers}||Doe^Jane||19700517|F|||1 Main St^^Boston^MA^02110||"
                "(617)555-0100",
                "|".join(pv1),
                "DG1|1||R07.9^Chest pain, unspecified^I10||20261102|A",
            ]
        )
        + "\r"
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing listens on {port}")


async def _connection(port: int, messages: list[bytes], latencies: list[float]) -> None:
    from hl7.mllp import open_hl7_connection

    reader, writer = await open_hl7_connection("127.0.0.1", port)
    try:
        for block in messages:
            sent = time.perf_counter()
            writer.writeblock(block)
            await writer.drain()
            answer = await reader.readblock()
            latencies.append(time.perf_counter() - sent)
            if b"MSA|AA" not in answer:
                raise SystemExit(f"not accepted: {answer[:200]!r}")
    finally:
        writer.close()


def _drive(port: int, batches: list[list[bytes]]) -> tuple[float, list[float]]:
    latencies: list[float] = []

    async def everyone() -> None:
        await asyncio.gather(*(_connection(port, b, latencies) for b in batches))

    started = time.perf_counter()
    asyncio.run(everyone())
    return time.perf_counter() - started, latencies


def _batches(connections: int, per_connection: int, tag: str) -> list[list[bytes]]:
    return [
        [
            adt(
                "A04" if n % 2 == 0 else "A08",
                control_id=f"{tag}{c:02d}{n:06d}",
                identifiers=f"H{c:03d}{n // 2:05d}^^^GENHOSP^MR",
                visit_number=f"V{c:02d}{n // 2:06d}",
            ).encode()
            for n in range(per_connection)
        ]
        for c in range(connections)
    ]


def _report(name: str, wall: float, latencies: list[float]) -> float:
    ordered = sorted(latencies)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[int(len(ordered) * 0.99) - 1] * 1000
    rate = len(ordered) / wall
    print(f"  {name:<34} {rate:8.0f} msg/s   p50 {p50:6.1f} ms   p99 {p99:6.1f} ms")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--messages", type=int, default=1500, help="per connection")
    parser.add_argument("--database", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--sqlite", action="store_true", help="store in a SQLite file instead")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="caseboard-bench-mllp-"))
    name = f"caseboard_bench_mllp_{uuid.uuid4().hex[:8]}"
    if args.sqlite:
        url = f"sqlite:///{workdir / 'bench.sqlite3'}"
    else:
        import psycopg

        with psycopg.connect(args.database, autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        url = args.database.rsplit("/", 1)[0] + "/" + name
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "caseboard.settings.test",
        "PYTHONPATH": str(ROOT),
    }
    caseboard = [sys.executable, "-m", "caseboard"]
    processes: list[subprocess.Popen[bytes]] = []
    try:
        subprocess.run(
            [*caseboard, "migrate", "--no-input"], env=env, check=True, capture_output=True
        )
        ours_port, plain_port = _free_port(), _free_port()
        processes.append(
            subprocess.Popen(
                [*caseboard, "adt", "listen", "--host", "127.0.0.1", "--port", str(ours_port)],
                env=env,
                stdout=subprocess.DEVNULL,
            )
        )
        processes.append(
            subprocess.Popen([sys.executable, "-c", PLAIN_SERVER, str(plain_port)], env=env)
        )
        _wait_for(ours_port)
        _wait_for(plain_port)
        # Warm both up (connections, caches), then measure.
        _drive(ours_port, _batches(2, 50, "W"))
        _drive(plain_port, _batches(2, 50, "W"))
        total = args.connections * args.messages
        store = "SQLite" if args.sqlite else "PostgreSQL"
        print(f"{total:,} ADT messages over {args.connections} MLLP connections, loopback:")
        plain = _report(
            "python-hl7 plain server (no store)",
            *_drive(plain_port, _batches(args.connections, args.messages, "P")),
        )
        ours = _report(
            f"caseboard listener ({store})",
            *_drive(ours_port, _batches(args.connections, args.messages, "O")),
        )
        print(f"  ratio ours / plain server          {ours / plain:8.3f}x throughput")
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
        if not args.sqlite:
            import psycopg

            with psycopg.connect(args.database, autocommit=True) as c:
                c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
