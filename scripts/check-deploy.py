"""Checks the two-replica recipes in deploy/ offline, without a cluster or an AWS call.

  ecs-task-definition.json  botocore's own parameter validation for ECS
                            RegisterTaskDefinition (the service model bundled with
                            botocore), then what the recipe promises: Fargate, two roles,
                            `offhours health`, stopTimeout, CloudWatch Logs, non-root.
  kubernetes.yaml           parsed (PyYAML); the Deployment's replicas, probes, port,
                            service account, mounts and security context; the ConfigMap's
                            offhours.toml with `offhours check` when --offhours is given.

Run by scripts/check-packaging.sh with the venv's python (botocore, PyYAML from moto).
"""

import argparse
import json
import re
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import botocore.session
import yaml
from botocore.validate import ParamValidator

ROOT = Path(__file__).resolve().parent.parent
PORT = 9464
CONFIG_DIR = "/etc/offhours"
STATE_DIR = "/var/lib/offhours"
FARGATE_MAX_STOP_TIMEOUT = 120
# Fargate's CPU units and the memory (MiB) each allows, for the sizes a daemon uses.
FARGATE_SIZES = {"256": {"512", "1024", "2048"}, "512": {str(m) for m in range(1024, 4097, 1024)}}


class Failed(Exception):
    pass


def ok(what):
    print(f"    ok: {what}")


def expect(cond, what):
    if not cond:
        raise Failed(f"not so: {what}")
    ok(what)


def shutdown_grace():
    """The daemon's shutdown grace in seconds, as `Options::new` sets it."""
    src = (ROOT / "src/daemon/mod.rs").read_text()
    m = re.search(r"shutdown_grace:\s*Duration::from_secs\((\d+)\)", src)
    if not m:
        raise Failed("src/daemon/mod.rs: no `shutdown_grace: Duration::from_secs(N)`; update scripts/check-deploy.py")
    return int(m.group(1))


def check_ecs(path, grace):
    print(f"==> {path.relative_to(ROOT)}: botocore ParamValidator, ecs RegisterTaskDefinition input")
    params = json.loads(path.read_text())
    model = botocore.session.get_session().get_service_model("ecs")
    shape = model.operation_model("RegisterTaskDefinition").input_shape
    report = ParamValidator().validate(params, shape)
    if report.has_errors():
        raise Failed(report.generate_report())
    ok(f"valid against the ecs service model (API {model.api_version}, botocore's bundled copy)")

    print(f"==> {path.relative_to(ROOT)}: the recipe")
    expect(params.get("requiresCompatibilities") == ["FARGATE"], "requiresCompatibilities is [FARGATE]")
    expect(params.get("networkMode") == "awsvpc", "networkMode is awsvpc (Fargate's only mode)")
    expect(
        params.get("memory") in FARGATE_SIZES.get(params.get("cpu"), set()),
        f"cpu {params.get('cpu')} with memory {params.get('memory')} is a Fargate size",
    )
    task_role, exec_role = params.get("taskRoleArn"), params.get("executionRoleArn")
    expect(task_role and exec_role and task_role != exec_role, "a task role (offhours' AWS calls) and a separate execution role")
    containers = params["containerDefinitions"]
    expect(len(containers) == 1 and containers[0].get("essential"), "one essential container")
    c = containers[0]
    expect(c.get("command") in (None, ["run"]), "it runs `offhours run` (the image's entrypoint)")
    hc = c.get("healthCheck", {}).get("command", [])
    expect(hc[:1] == ["CMD"] and hc[1:3] == ["/usr/local/bin/offhours", "health"], "health check: CMD /usr/local/bin/offhours health")
    want_stop = min(grace, FARGATE_MAX_STOP_TIMEOUT)
    expect(
        c.get("stopTimeout") == want_stop,
        f"stopTimeout {c.get('stopTimeout')} = the daemon's shutdown grace {grace} s (Fargate allows at most {FARGATE_MAX_STOP_TIMEOUT})",
    )
    user = str(c.get("user", "")).split(":")[0]
    expect(user not in ("", "0", "root"), f"runs as user {c.get('user')}, not root")
    expect(c.get("readonlyRootFilesystem") is True, "read-only root filesystem")
    volumes = {v["name"] for v in params.get("volumes", [])}
    state = [m for m in c.get("mountPoints", []) if m.get("containerPath") == STATE_DIR]
    expect(
        len(state) == 1 and state[0]["sourceVolume"] in volumes and not state[0].get("readOnly"),
        f"a writable task volume at {STATE_DIR} (the heartbeat `offhours health` reads)",
    )
    expect(any(p.get("containerPort") == PORT for p in c.get("portMappings", [])), f"container port {PORT} (/metrics, /healthz, /readyz)")
    log = c.get("logConfiguration", {})
    opts = log.get("options", {})
    expect(
        log.get("logDriver") == "awslogs" and all(k in opts for k in ("awslogs-group", "awslogs-region", "awslogs-stream-prefix")),
        f"logs to CloudWatch Logs: group {opts.get('awslogs-group')}, stream prefix {opts.get('awslogs-stream-prefix')}",
    )


def http_get_target(probe, ports):
    get = probe.get("httpGet", {})
    port = get.get("port")
    return get.get("path"), ports.get(port, port)


def check_kubernetes(path, grace, offhours_bin):
    print(f"==> {path.relative_to(ROOT)}: parsed (PyYAML), the recipe")
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
    by_kind = {}
    for d in docs:
        by_kind.setdefault(d["kind"], []).append(d)
    for kind in ("ServiceAccount", "ConfigMap", "Deployment", "PodDisruptionBudget"):
        if len(by_kind.get(kind, [])) != 1:
            raise Failed(f"expected one {kind}, found {len(by_kind.get(kind, []))}")
    ok("one ServiceAccount, ConfigMap, Deployment and PodDisruptionBudget")
    sa, cm, dep, pdb = (by_kind[k][0] for k in ("ServiceAccount", "ConfigMap", "Deployment", "PodDisruptionBudget"))
    namespaces = {d["metadata"].get("namespace") for d in (sa, cm, dep, pdb)}
    expect(len(namespaces) == 1 and None not in namespaces, f"all in one namespace: {', '.join(map(str, namespaces))}")

    spec = dep["spec"]
    expect(spec.get("replicas") == 2, "Deployment replicas: 2")
    ru = spec.get("strategy", {}).get("rollingUpdate", {})
    expect(ru.get("maxUnavailable") == 0, "rolling update with maxUnavailable 0 (two running throughout)")
    pod = spec["template"]["spec"]
    labels = spec["template"]["metadata"]["labels"]
    expect(spec["selector"]["matchLabels"].items() <= labels.items(), "the selector matches the pod's labels")

    role = sa["metadata"].get("annotations", {}).get("eks.amazonaws.com/role-arn", "")
    expect(re.fullmatch(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+", role), f"ServiceAccount annotated eks.amazonaws.com/role-arn = {role}")
    expect(pod.get("serviceAccountName") == sa["metadata"]["name"], f"serviceAccountName is {sa['metadata']['name']}")
    expect(
        pod.get("terminationGracePeriodSeconds", 30) >= grace,
        f"terminationGracePeriodSeconds {pod.get('terminationGracePeriodSeconds')} >= the daemon's shutdown grace {grace} s",
    )

    containers = pod["containers"]
    expect(len(containers) == 1, "one container")
    c = containers[0]
    ports = {p.get("name"): p["containerPort"] for p in c.get("ports", [])}
    expect(PORT in ports.values(), f"container port {PORT}")
    for probe, path_ in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz"), ("startupProbe", "/healthz")):
        got = http_get_target(c.get(probe, {}), ports)
        expect(got == (path_, PORT), f"{probe}: GET {path_} on {PORT}")

    sc, psc = c.get("securityContext", {}), pod.get("securityContext", {})
    expect(psc.get("runAsNonRoot") is True and psc.get("runAsUser", 0) != 0, f"non-root (runAsUser {psc.get('runAsUser')})")
    expect(sc.get("readOnlyRootFilesystem") is True, "read-only root filesystem")
    expect(sc.get("allowPrivilegeEscalation") is False, "no privilege escalation")
    expect("ALL" in sc.get("capabilities", {}).get("drop", []), "every capability dropped")
    res = c.get("resources", {})
    expect(res.get("requests", {}).get("memory") and res.get("limits", {}).get("memory"), "memory request and limit")

    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    mounts = {m["mountPath"]: m for m in c.get("volumeMounts", [])}
    cfg = mounts.get(CONFIG_DIR)
    expect(
        cfg is not None and volumes.get(cfg["name"], {}).get("configMap", {}).get("name") == cm["metadata"]["name"] and cfg.get("readOnly"),
        f"ConfigMap {cm['metadata']['name']} mounted read-only at {CONFIG_DIR}",
    )
    expect("subPath" not in cfg, "mounted as a directory, not a subPath (so the file follows the ConfigMap)")
    st = mounts.get(STATE_DIR)
    expect(st is not None and "emptyDir" in volumes.get(st["name"], {}), f"an emptyDir at {STATE_DIR} (heartbeat and status files)")

    pdb_spec = pdb["spec"]
    expect(pdb_spec["selector"]["matchLabels"].items() <= labels.items(), "the PodDisruptionBudget selects the pods")
    expect(pdb_spec.get("minAvailable") == 1, "PodDisruptionBudget minAvailable 1: one eviction at a time")

    print(f"==> {path.relative_to(ROOT)}: the ConfigMap's offhours.toml")
    text = cm["data"].get("offhours.toml")
    expect(text is not None, "the ConfigMap has the key offhours.toml (the image's OFFHOURS_CONFIG file name)")
    toml = tomllib.loads(text)
    state = toml.get("state", {})
    expect(state.get("backend") == "dynamodb" and state.get("table"), f"[state] backend = \"dynamodb\", table = {state.get('table')!r}")
    listen = toml.get("http", {}).get("listen", "")
    expect(listen == f"0.0.0.0:{PORT}", f"[http] listen = {listen!r}: reachable by the kubelet's probes on {PORT}")
    if offhours_bin:
        with tempfile.NamedTemporaryFile("w", suffix=".toml") as f:
            f.write(text)
            f.flush()
            run = subprocess.run([offhours_bin, "--config", f.name, "check", "--next", "1"], capture_output=True, text=True)
        if run.returncode != 0:
            raise Failed(f"offhours check rejects the ConfigMap's file:\n{run.stdout}{run.stderr}")
        ok("`offhours check` accepts it")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--offhours", help="the binary to run `check` on the ConfigMap's file with")
    args = parser.parse_args()
    try:
        grace = shutdown_grace()
        print(f"==> the daemon's shutdown grace: {grace} s (src/daemon/mod.rs, Options::new)")
        check_ecs(ROOT / "deploy/ecs-task-definition.json", grace)
        check_kubernetes(ROOT / "deploy/kubernetes.yaml", grace, args.offhours)
    except Failed as e:
        print(f"check-deploy: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
