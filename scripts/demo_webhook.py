"""A JSON webhook receiver for `make demo`: listens on a free loopback port (written to
--port-file once it listens), answers every POST with 200 and prints a summary of each
notice (its event, schedule, title and resources) on stdout, one flush per notice so
that a reader polling the output sees whole notices. The raw bodies go to --raw.
"""

import argparse
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def summary(notice):
    facts = notice.get("facts") or {}
    lines = [
        f"[{notice.get('event')}] severity {notice.get('severity')}, "
        f"schedule {facts.get('schedule', '-')}: {notice.get('title')}"
    ]
    text = (notice.get("text") or "").splitlines()
    if text:
        lines.append(f"    {text[0]}")
        lines.extend(f"    {line}" for line in text[1:4])
    for r in notice.get("resources") or []:
        name = f" ({r['name']})" if r.get("name") else ""
        detail = f": {r['detail']}" if r.get("detail") else ""
        lines.append(f"    - {r.get('kind')} {r.get('id')}{name} in {r.get('region')}{detail}")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--raw", required=True, help="append each body here, one JSON a line")
    args = parser.parse_args()
    lock = threading.Lock()  # notices arriving at once are printed whole, one after the other

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
            try:
                text = summary(json.loads(body))
            except (ValueError, AttributeError) as e:
                text = f"[unreadable body: {e}] {body[:200]!r}"
            with lock:
                with open(args.raw, "ab") as raw:
                    raw.write(body.replace(b"\n", b" ") + b"\n")
                print(f"POST {self.path}\n{text}", flush=True)

        def log_message(self, *_):
            pass  # the summary above is the log

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.server_port))
    os.replace(tmp, args.port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
