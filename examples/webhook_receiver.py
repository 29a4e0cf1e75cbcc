"""A webhook receiver: verifies each delivery from Parley, takes each event once, prints it.

    python examples/webhook_receiver.py --port 9000 --secret whsec_...

Subscribe it with ``client.create_webhook("https://your-host/...", ["*"])`` (a plain
``http://127.0.0.1:9000/`` target needs ``PARLEY_WEBHOOK_ALLOW_PRIVATE=1`` on the server). The
secret may come from PARLEY_WEBHOOK_SECRET instead; while moving to a rotated secret, give both,
separated by a comma. A forged or altered delivery is answered 400; a repeat of an event already
taken (delivery is at least once) is answered 200 and not printed again.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import OrderedDict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Lock

from parley_client.webhooks import WebhookVerificationError, verify

SEEN_LIMIT = 100_000  # event ids remembered for deduplication


def serve(port: int, secrets: list[str]) -> None:
    seen: OrderedDict[str, None] = OrderedDict()
    lock = Lock()

    class Receiver(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            try:
                event = verify(self.headers, body, secrets)
            except WebhookVerificationError as exc:
                self.answer(400, f"not verified: {exc}")
                return
            with lock:
                new = event["eventId"] not in seen
                seen[event["eventId"]] = None
                if len(seen) > SEEN_LIMIT:
                    seen.popitem(last=False)
            if new:
                print(json.dumps(event, ensure_ascii=False), flush=True)
            self.answer(200, "ok")

        def answer(self, status: int, text: str) -> None:
            body = text.encode()
            self.send_response(status)
            self.send_header("content-type", "text/plain")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Receiver)
    print(f"webhook receiver listening on http://127.0.0.1:{server.server_address[1]}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=9000, help="port on 127.0.0.1 (0: any free one)")
    parser.add_argument("--secret", default=os.environ.get("PARLEY_WEBHOOK_SECRET", ""), help="whsec_... (or two, a,b)")
    args = parser.parse_args(argv)
    secrets = [s for s in args.secret.split(",") if s]
    if not secrets:
        parser.error("give the webhook's secret (--secret or PARLEY_WEBHOOK_SECRET)")
    serve(args.port, secrets)
    return 0


if __name__ == "__main__":
    sys.exit(main())
