"""`caseboard adt listen` receives hospital ADT messages over MLLP; `caseboard adt send FILE`
sends a file of messages to a listener and prints each acknowledgement."""

from __future__ import annotations

import asyncio
from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from caseboard.transitions import hl7v2, listener

DEFAULT_HOST = "127.0.0.1"
# 2575 is the port IANA registered for HL7 over MLLP.
DEFAULT_PORT = 2575


class Command(BaseCommand):
    help = "Receive (listen) or send (send FILE) HL7 v2 ADT messages over MLLP."

    def add_arguments(self, parser: ArgumentParser) -> None:
        commands = parser.add_subparsers(dest="subcommand", required=True)
        listen = commands.add_parser("listen", help="accept ADT messages until stopped")
        listen.add_argument("--host", default=DEFAULT_HOST)
        listen.add_argument("--port", type=int, default=DEFAULT_PORT)
        send = commands.add_parser("send", help="send the messages of a file, print the ACKs")
        send.add_argument("file", type=Path)
        send.add_argument("--host", default=DEFAULT_HOST)
        send.add_argument("--port", type=int, default=DEFAULT_PORT)
        send.add_argument("--timeout", type=float, default=30.0)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "listen":
            self._listen(options["host"], options["port"])
        else:
            self._send(options["file"], options["host"], options["port"], options["timeout"])

    def _listen(self, host: str, port: int) -> None:
        def ready(bound: int) -> None:
            self.stdout.write(f"Listening for HL7 ADT messages on {host}:{bound} (MLLP).")
            self.stdout.flush()

        try:
            asyncio.run(listener.serve(host, port, ready=ready))
        except KeyboardInterrupt:
            pass
        except OSError as error:
            raise CommandError(f"Cannot listen on {host}:{port}: {error}") from None
        self.stdout.write("Stopped.")

    def _send(self, file: Path, host: str, port: int, timeout: float) -> None:
        try:
            text = file.read_text(encoding="utf-8", errors="replace")
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error}") from None
        messages = hl7v2.split_messages(text)
        if not messages:
            raise CommandError(f"{file} holds no HL7 message.")
        try:
            acks = asyncio.run(listener.send(messages, host, port, timeout))
        except (TimeoutError, OSError) as error:
            raise CommandError(f"Sending to {host}:{port} failed: {error!r}") from None
        for number, ack in enumerate(acks, start=1):
            code = hl7v2.ack_code_of(ack)
            self.stdout.write(f"Message {number}: {code}")
            self.stdout.write(ack.replace("\r", "\n").rstrip())
            self.stdout.write("")
        accepted = sum(1 for ack in acks if hl7v2.ack_code_of(ack) == "AA")
        self.stdout.write(f"{accepted} of {len(acks)} accepted.")
