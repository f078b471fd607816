"""moto in server mode, wrapped for offhours' tests.

Serves moto's own WSGI application (the real EC2, IAM, STS, CloudWatch and SNS
emulation) on a loopback port, and adds what moto cannot do by itself, each scoped
to one access key id so that tests running in parallel (each in an account of its
own) never see each other's faults:

  POST /_offhours/faults  {"access_key_id", "action", "status", "code", "message",
                           "count" (-1 = every time), "if_instance" (optional: any
                           parameter value, e.g. an instance id or DB identifier),
                           "protocol" ("ec2", default, "query" for RDS and Auto Scaling,
                           "json" for Application Auto Scaling)}
      answer the next `count` matching requests with that error instead of moto.
  POST /_offhours/falls-back  {"access_key_id", "instance_id", "code", "message"}
      after StartInstances includes the instance, moto puts it back to `stopped`
      with that state reason (what a KMS key problem on an encrypted volume does).
  POST /_offhours/hang  {"access_key_id", "action", "seconds"}
      hold matching requests that long before answering (a peer that never answers).
  GET  /_offhours/calls?access_key_id=...  -> {"Action": count, ...}
  GET  /_offhours/calls?account=ID  -> the same over every key of that account (roles
                                       assumed into it included)
  GET  /_offhours/call-log?access_key_id=...  -> [[unix time, "Action"], ...]
  POST /_offhours/clock  {"now": RFC 3339 | null}  moto's clock (freezegun, ticking).

EKS TagResource / UntagResource also tag managed node groups, as real EKS does
(moto's tag clusters only): see tag_node_groups().

It exits by itself when the process that started it goes away. `--single-threaded`
serves one request at a time (lease tests: see main()).
"""

import argparse
import io
import json
import os
import re
import sys
import threading
import time
import urllib.parse
from collections import defaultdict

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import WSGIRequestHandler, make_server

lock = threading.Lock()
faults = defaultdict(list)  # access key id -> [fault]
falls_back = defaultdict(dict)  # access key id -> {instance id: (code, message)}
hangs = defaultdict(dict)  # access key id -> {action: seconds}
calls = defaultdict(lambda: defaultdict(int))  # access key id -> {action: count}
call_log = defaultdict(list)  # access key id -> [(unix time, action)]
clock = {"freezer": None}

KEY_RE = re.compile(r"Credential=([A-Z0-9]+)/")


def error_body(code, message, protocol="ec2"):
    if protocol == "json":
        # The JSON services (Application Auto Scaling, ECS...) name the error in `__type`.
        return json.dumps({"__type": code, "message": message}).encode()
    if protocol == "query":
        # The awsquery services (RDS, Auto Scaling) wrap errors differently from EC2.
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message>"
            "</Error><RequestId>offhours-injected-fault</RequestId></ErrorResponse>"
        ).encode()
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message>"
        "</Error></Errors><RequestID>offhours-injected-fault</RequestID></Response>"
    ).encode()


def json_response(start_response, obj, status="200 OK"):
    body = json.dumps(obj).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


def set_clock(now):
    from freezegun import freeze_time

    if clock["freezer"] is not None:
        clock["freezer"].stop()
        clock["freezer"] = None
    if now:
        clock["freezer"] = freeze_time(now, tick=True)
        clock["freezer"].start()


def put_back_to_stopped(account_id, region, instance_id, code, message):
    from moto.ec2.models import ec2_backends
    from moto.ec2.models.instances import StateReason

    backend = ec2_backends[account_id][region]
    instance = backend.get_instance(instance_id)
    instance._state.name = "stopped"
    instance._state.code = 80
    instance.state_reason = StateReason(message=message, code=code)
    instance._reason = message


class Wrapper:
    def __init__(self, app):
        self.app = app

    def control(self, environ, start_response):
        path = environ["PATH_INFO"]
        if environ["REQUEST_METHOD"] == "GET" and path in ("/_offhours/calls", "/_offhours/call-log"):
            query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
            key = query.get("access_key_id", [""])[0]
            account = query.get("account", [""])[0]
            with lock:
                if path == "/_offhours/calls" and account:
                    return json_response(start_response, calls_in_account(account))
                if path == "/_offhours/calls":
                    return json_response(start_response, dict(calls[key]))
                return json_response(start_response, list(call_log[key]))
        length = int(environ.get("CONTENT_LENGTH") or 0)
        spec = json.loads(environ["wsgi.input"].read(length) or b"{}")
        with lock:
            if path == "/_offhours/faults":
                faults[spec["access_key_id"]].append(dict(spec))
            elif path == "/_offhours/falls-back":
                falls_back[spec["access_key_id"]][spec["instance_id"]] = (spec["code"], spec["message"])
            elif path == "/_offhours/hang":
                hangs[spec["access_key_id"]][spec["action"]] = float(spec["seconds"])
            elif path == "/_offhours/clock":
                set_clock(spec.get("now"))
            else:
                return json_response(start_response, {"error": f"unknown control path {path}"}, "404 Not Found")
        return json_response(start_response, {"ok": True})

    def __call__(self, environ, start_response):
        if environ["PATH_INFO"].startswith("/_offhours/"):
            return self.control(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        params = urllib.parse.parse_qs(body.decode("utf-8", "replace")) if body else {}
        params.update(urllib.parse.parse_qs(environ.get("QUERY_STRING", "")))
        action = params.get("Action", [environ.get("HTTP_X_AMZ_TARGET", "").split(".")[-1]])[0]
        match = KEY_RE.search(environ.get("HTTP_AUTHORIZATION", ""))
        key = match.group(1) if match else ""
        instance_ids = {v[0] for k, v in params.items() if k.startswith("InstanceId")}
        # Any parameter's value names the resource for `if_instance` (a DB identifier...).
        values = {v[0] for v in params.values() if v}

        with lock:
            calls[key][action] += 1
            call_log[key].append((time.time(), action))
            hang = hangs[key].get(action)
            injected = None
            for fault in faults[key]:
                if fault["action"] != action or fault.get("count", 1) == 0:
                    continue
                if fault.get("if_instance") and fault["if_instance"] not in instance_ids | values:
                    continue
                if fault.get("count", 1) > 0:
                    fault["count"] = fault.get("count", 1) - 1
                injected = fault
                break
            fall_back = {i: falls_back[key][i] for i in instance_ids if i in falls_back[key]}
        if hang:
            time.sleep(hang)
        if injected is not None:
            status = int(injected.get("status", 400))
            payload = error_body(injected["code"], injected.get("message", injected["code"]), injected.get("protocol", "ec2"))
            headers = [
                ("Content-Type", "text/xml"),
                ("Content-Length", str(len(payload))),
                # EC2 sends the request id as a header too; the SDK reads it from there.
                ("x-amzn-RequestId", "offhours-injected-fault"),
            ]
            start_response(f"{status} Injected", headers)
            return [payload]
        result = list(self.app(environ, start_response))
        if action == "StartInstances" and fall_back:
            region = re.search(r"/([a-z0-9-]+)/ec2/aws4_request", environ.get("HTTP_AUTHORIZATION", ""))
            from moto.iam.models import get_account_id_from

            account = get_account_id_from(key)
            for instance_id, (code, message) in fall_back.items():
                put_back_to_stopped(account, region.group(1), instance_id, code, message)
        return result


def calls_in_account(account):
    """The calls of every access key moto places in `account` (its users' keys and the
    keys of roles assumed into it), by action."""
    from moto.iam.models import get_account_id_from

    total = defaultdict(int)
    for key, actions in calls.items():
        if key and get_account_id_from(key) == account:
            for action, count in actions.items():
                total[action] += count
    return dict(total)


def watch_parent(parent):
    while True:
        if os.getppid() != parent:
            os._exit(0)
        time.sleep(1)


def tag_node_groups():
    """Real EKS tags managed node groups by ARN; moto's EKS tags clusters only (its
    tag_resource docstring says so). The node group kind keeps its record in a tag on
    the node group, so TagResource / UntagResource here also find node groups."""
    from moto.eks.models import EKSBackend

    def node_group(backend, arn):
        for cluster in backend.clusters.values():
            for group in cluster.nodegroups.values():
                if group.arn == arn:
                    return group
        return None

    tag_clusters, untag_clusters = EKSBackend.tag_resource, EKSBackend.untag_resource

    def tag_resource(self, resource_arn, tags):
        group = node_group(self, resource_arn)
        if group is None:
            return tag_clusters(self, resource_arn, tags)
        group.tags.update(tags)

    def untag_resource(self, resource_arn, tag_keys):
        group = node_group(self, resource_arn)
        if group is None:
            return untag_clusters(self, resource_arn, tag_keys)
        for key in tag_keys if isinstance(tag_keys, list) else [tag_keys]:
            group.tags.pop(key, None)

    EKSBackend.tag_resource, EKSBackend.untag_resource = tag_resource, untag_resource


def memoize_dispatch():
    """moto's server looks up, at every request, the list of its service modules (a
    directory listing and a stat per module) and the method names of the service's
    response class (inspect.getmembers): a fifth of the time of a small EC2 call. Both
    are fixed while the server runs, so each is computed once; what moto emulates is
    unchanged."""
    import functools

    from moto import backends
    from moto.core import responses

    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules
    responses.method_names_from_class = functools.cache(responses.method_names_from_class)
    memoize_attribute_names()


# Keys of the attribute-name memo: the classes, fields and shapes of every answer are a
# few thousand.
MEMO_LIMIT = 20_000


def memoize_attribute_names():
    """moto's response serializer asks, for every field of every object it answers with,
    which attribute names to try (its alias providers: the object's class, its Meta
    aliases, the field's shape), a third of the time of a small call. The answer depends
    on the class, the field and the shape only (no model sets Meta on an instance), so
    it is kept by those; the values are still read from each object. Error answers of
    some services make a key of their own each time: past MEMO_LIMIT keys nothing more
    is kept, so a long run of errors cannot grow the memo."""
    from moto.core import serialize

    for cls in (serialize.AttributePicker, serialize.XFormedAttributePicker):
        original = cls.__dict__["get_possible_keys"]
        cache = {}

        def get_possible_keys(self, context, original=original, cache=cache):
            key = (tuple(self.alias_providers), type(context.obj), context.key, context.shape)
            keys = cache.get(key)
            if keys is None:
                keys = tuple(original(self, context))
                if len(cache) < MEMO_LIMIT:
                    cache[key] = keys
            return keys

        cls.get_possible_keys = get_possible_keys


class QuietHandler(WSGIRequestHandler):
    """No line per request in target/moto.log (werkzeug formats one for every call);
    errors are still logged."""

    def log_request(self, code="-", size="-"):
        pass


def main():
    tag_node_groups()
    memoize_dispatch()
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file")
    # One request at a time: moto's conditional writes (DynamoDB) check and write
    # without a lock, so only a single-threaded server makes them atomic.
    parser.add_argument("--single-threaded", action="store_true")
    args = parser.parse_args()
    app = Wrapper(DomainDispatcherApplication(create_backend_app))
    server = make_server("127.0.0.1", args.port, app, threaded=not args.single_threaded,
                         request_handler=QuietHandler)
    port = server.server_port
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(str(port))
        os.replace(tmp, args.port_file)
    print(f"moto listening on http://127.0.0.1:{port}", flush=True)
    threading.Thread(target=watch_parent, args=(os.getppid(),), daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
