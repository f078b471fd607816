"""A small HTTP/1.1 proxy that gives moto the round-trip time of real AWS.

moto answers in 1-2 ms, real AWS in 50-300 ms, so calls made one after another cost
nothing visible on plain moto. This proxy sits between a client and moto and sleeps a
fixed delay before forwarding each request; requests on different connections are
served by different threads, so concurrent requests overlap as they do on AWS.

Requests and answers pass through unchanged (method, path, query, headers including
Host as the client sent it, so SigV4 signatures stay valid, and bodies); only the
hop-by-hop headers (Connection, Keep-Alive, Transfer-Encoding, Expect, ...) are the
proxy's own. Keep-alive is supported on both sides.

Each request is recorded: start and end (time.monotonic(), from the request's
headers being read to the answer being written), the action (form or query parameter
`Action`, or the last part of `X-Amz-Target` for JSON protocols), the access key id
and region (from the Authorization header), the HTTP status, and for EC2 how many
instance ids it named (`InstanceId.N` parameters or `instance-id` filter values) and
whether it filtered by tag; for STS AssumeRole, the account of the role assumed and the
access key id answered (what the role's calls then sign with).

Sharded: given several upstreams and a route(account, region) -> index, the proxy sends
each call of an assumed role's key to the moto that holds that account and region, with
the account named in `x-moto-account-id` (moto's own header for it: no shard needs to
know the key), and AssumeRole to the role's account's moto; any other call goes to the
first. moto serves one call at a time in one Python process, so one moto makes every
account wait for every other; real AWS serves accounts and regions independently.

Paths under /_offhours/, /moto-api/ and /_proxy/ are not delayed (and not recorded);
/_proxy/ is the proxy's own control API:

  GET  /_proxy/log?access_key_id=KEY  -> [{"start", "end", "action", ...}, ...]
  POST /_proxy/reset                  forget every record
  POST /_proxy/latency {"ms": N}      change the delay

In-process use (what scripts/bench.py does):

  proxy = LatencyProxy("http://127.0.0.1:5000", latency_ms=80).start()
  ... point AWS_ENDPOINT_URL at proxy.url ...
  records = proxy.log(access_key_id)
  summary(records)  # calls by operation, critical path, ...
  proxy.stop()

Stand-alone: python3 scripts/latency_proxy.py --upstream http://127.0.0.1:5000
[--port 0] [--port-file F] [--latency-ms 80]
"""

import argparse
import http.client
import json
import os
import re
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

KEY_RE = re.compile(r"Credential=([A-Za-z0-9]+)/[0-9]{8}/([a-z0-9-]+)/")
ROLE_ACCOUNT_RE = re.compile(r"^arn:[^:]+:iam::([0-9]{12}):role/")
ASSUMED_KEY_RE = re.compile(rb"<AccessKeyId>([A-Za-z0-9]+)</AccessKeyId>")
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "expect",
}
UNDELAYED = ("/_offhours/", "/moto-api/", "/_proxy/")


def describe_request(headers, path, body):
    """(action, access key id, region, extra fields) of one request."""
    query = urllib.parse.urlsplit(path).query
    params = {}
    content_type = headers.get("Content-Type", "")
    if body and "x-www-form-urlencoded" in content_type:
        params = urllib.parse.parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    for k, v in urllib.parse.parse_qs(query, keep_blank_values=True).items():
        params.setdefault(k, v)
    target = headers.get("X-Amz-Target", "")
    action = params.get("Action", [target.rsplit(".", 1)[-1] if target else ""])[0]
    match = KEY_RE.search(headers.get("Authorization", ""))
    key, region = (match.group(1), match.group(2)) if match else ("", "")
    extra = {}
    ids = sum(1 for k in params if re.fullmatch(r"InstanceId\.\d+", k))
    filter_names = {k: v[0] for k, v in params.items() if re.fullmatch(r"Filter\.\d+\.Name", k)}
    for name_key, name in filter_names.items():
        prefix = name_key[: -len("Name")]
        if name == "instance-id":
            ids += sum(1 for k in params if k.startswith(prefix + "Value."))
        if name.startswith("tag:") or name == "tag-key":
            extra["tag_filter"] = True
    if ids:
        extra["ids"] = ids
    role = ROLE_ACCOUNT_RE.match(params.get("RoleArn", [""])[0]) if action == "AssumeRole" else None
    if role:
        extra["role_account"] = role.group(1)
    return action, key, region, extra


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "latency-proxy"

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass

    # One upstream connection per client connection and shard (this handler lives as
    # long as the client's connection).
    def setup(self):
        super().setup()
        self.upstream = {}

    def finish(self):
        try:
            super().finish()
        finally:
            for upstream in self.upstream.values():
                upstream.close()

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def forward(self, body, shard=0, account=None):
        proxy = self.server.proxy
        last_error = None
        for _ in range(2):  # a kept-alive upstream connection may have been closed
            upstream = self.upstream.get(shard)
            if upstream is None:
                host, port = proxy.upstreams[shard]
                upstream = self.upstream[shard] = http.client.HTTPConnection(host, port, timeout=300)
            try:
                upstream.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
                for name, value in self.headers.items():
                    if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                        upstream.putheader(name, value)
                if account is not None:
                    upstream.putheader("x-moto-account-id", account)
                if body or self.command in ("POST", "PUT", "PATCH"):
                    upstream.putheader("Content-Length", str(len(body)))
                upstream.endheaders(body if body else None)
                response = upstream.getresponse()
                payload = response.read()
                if response.will_close:
                    upstream.close()
                    del self.upstream[shard]
                return response, payload
            except (ConnectionError, http.client.HTTPException, OSError) as e:
                last_error = e
                upstream.close()
                del self.upstream[shard]
        raise last_error

    def handle_any(self):
        start = time.monotonic()
        proxy = self.server.proxy
        body = self.read_body()
        if self.path.startswith("/_proxy/"):
            return self.control(body)
        record, shard, account = None, 0, None
        if not self.path.startswith(UNDELAYED):
            action, key, region, extra = describe_request(self.headers, self.path, body)
            record = {"start": start, "action": action, "access_key_id": key, "region": region, **extra}
            shard, account = proxy.route_of(record)
            delay = proxy.latency_ms / 1000
            if delay > 0:
                time.sleep(delay)
        try:
            response, payload = self.forward(body, shard, account)
        except Exception as e:  # noqa: BLE001 - answer the client rather than drop it
            message = f"latency proxy: upstream failed: {e}".encode()
            self.send_response_only(502, "Bad Gateway")
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(message)))
            self.end_headers()
            self.wfile.write(message)
            self.wfile.flush()
            if record is not None:
                proxy.add(dict(record, end=time.monotonic(), status=502))
            return
        self.send_response_only(response.status, response.reason)
        for name, value in response.getheaders():
            if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        if self.close_connection:
            self.send_header("Connection", "close")
        # The key's account is known before its answer leaves: the client's next call
        # with it may come on another connection at once.
        assumed = ASSUMED_KEY_RE.search(payload) if record is not None and "role_account" in record else None
        if assumed:
            record["assumed_key"] = assumed.group(1).decode()
            with proxy.lock:
                proxy.key_accounts[record["assumed_key"]] = record["role_account"]
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)
        self.wfile.flush()
        if record is not None:
            proxy.add(dict(record, end=time.monotonic(), status=response.status))

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = handle_any

    def control(self, body):
        proxy = self.server.proxy
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        status, answer = 200, {"ok": True}
        if self.command == "GET" and url.path == "/_proxy/log":
            key = query.get("access_key_id", [None])[0]
            answer = proxy.log(key)
        elif self.command == "POST" and url.path == "/_proxy/reset":
            proxy.reset()
        elif self.command == "POST" and url.path == "/_proxy/latency":
            proxy.latency_ms = float(json.loads(body or b"{}")["ms"])
        else:
            status, answer = 404, {"error": f"unknown control path {self.command} {url.path}"}
        payload = json.dumps(answer).encode()
        self.send_response_only(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
        self.wfile.flush()


class Server(ThreadingHTTPServer):
    daemon_threads = True
    # A client opening many connections at once must not overflow the accept queue
    # (a dropped SYN costs a 1 s retransmit, which would look like latency).
    request_queue_size = 256


class LatencyProxy:
    def __init__(self, upstream, latency_ms=80.0, host="127.0.0.1", port=0, route=None):
        """upstream: moto's URL, or a list of them (shards) with route(account, region)
        -> index into it; region "sts" for an AssumeRole."""
        upstreams = [upstream] if isinstance(upstream, str) else list(upstream)
        self.upstreams = [(p.hostname, p.port or 80) for p in map(urllib.parse.urlsplit, upstreams)]
        self.route = route
        self.key_accounts = {}  # access key id answered by AssumeRole -> the role's account
        self.latency_ms = float(latency_ms)
        self.lock = threading.Lock()
        self.records = []
        self.server = Server((host, port), Handler)
        self.server.proxy = self
        self.thread = None

    @property
    def url(self):
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self):
        self.thread = threading.Thread(target=self.server.serve_forever, name="latency-proxy", daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def route_of(self, record):
        """(upstream index, account for x-moto-account-id or None) of a request."""
        if self.route is None:
            return 0, None
        if record.get("role_account"):
            return self.route(record["role_account"], "sts"), None
        with self.lock:
            account = self.key_accounts.get(record["access_key_id"])
        if account is None:
            return 0, None
        return self.route(account, record["region"]), account

    def add(self, record):
        with self.lock:
            self.records.append(record)

    def log(self, access_key_id=None):
        """The records (oldest first), of one access key id or of all."""
        with self.lock:
            out = [dict(r) for r in self.records if access_key_id is None or r["access_key_id"] == access_key_id]
        return sorted(out, key=lambda r: r["start"])

    def reset(self):
        with self.lock:
            self.records.clear()


def critical_path(records):
    """The longest chain of requests, each starting after the previous one ended:
    the number of sequential round trips a run could not have avoided."""
    records = sorted(records, key=lambda r: r["start"])
    best = []
    for i, r in enumerate(records):
        best.append(1 + max((best[j] for j in range(i) if records[j]["end"] <= r["start"]), default=0))
    return max(best, default=0)


def busy_time(records):
    """Seconds during which at least one of the requests was in flight (the union of
    their intervals)."""
    total, until = 0.0, None
    for r in sorted(records, key=lambda r: r["start"]):
        if until is None or r["start"] > until:
            total += r["end"] - r["start"]
            until = r["end"]
        elif r["end"] > until:
            total += r["end"] - until
            until = r["end"]
    return total


def by_operation(records):
    out = {}
    for r in records:
        out[r["action"]] = out.get(r["action"], 0) + 1
    return dict(sorted(out.items()))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--upstream", default=os.environ.get("OFFHOURS_TEST_ENDPOINT"), help="moto's URL")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file")
    parser.add_argument("--latency-ms", type=float, default=80.0)
    args = parser.parse_args()
    if not args.upstream:
        parser.error("--upstream (or OFFHOURS_TEST_ENDPOINT) is required")
    proxy = LatencyProxy(args.upstream, args.latency_ms, args.host, args.port)
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(str(proxy.server.server_address[1]))
        os.replace(tmp, args.port_file)
    print(f"latency proxy on {proxy.url} -> {args.upstream}, {args.latency_ms:g} ms per request", flush=True)
    try:
        proxy.server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
