"""The deployment test's mail server (aiosmtpd, in its own namespace): one JSON line per message."""

from __future__ import annotations

import argparse
import json
import signal
import threading
import time

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, path: str) -> None:
        self.out = open(path, "a", buffering=1)  # noqa: SIM115 (lives as long as the server)
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        record = {"to": envelope.rcpt_tos, "peer": session.peer[0], "at": time.time(),
                  "message_id": _header(envelope.content, b"Message-ID")}
        with self.lock:
            self.out.write(json.dumps(record) + "\n")
        return "250 OK"


def _header(content: bytes, name: bytes) -> str | None:
    for line in content.split(b"\r\n"):
        if not line:
            return None
        if line.lower().startswith(name.lower() + b":"):
            return line.split(b":", 1)[1].strip().decode("ascii", "replace")
    return None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, default=2525)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    controller = Controller(Sink(args.out), hostname=args.host, port=args.port)
    controller.start()
    stopped = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopped.set())
    print("ready", flush=True)
    while not stopped.wait(1):
        pass
    controller.stop()


if __name__ == "__main__":
    main()
