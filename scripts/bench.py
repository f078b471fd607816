"""offhours benchmarks against moto (run with `make bench`). Prints figures; asserts nothing.

1. apply: N instances across two regions; wall time of `apply stop` / `apply start`
   and the API calls by operation (as moto counted them).
2. daemon idle: resident memory and CPU time of `offhours run` over 60 s with 50
   schedules that do not fire.
3. fire lag: 20 fires of a schedule firing every 3 s; from the fire instant to moto
   receiving the fire's first API call.
4. reload: time from SIGHUP to the new jobs being active, with 1000 schedules.
"""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

import boto3

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "offhours")
ENDPOINT = os.environ["OFFHOURS_TEST_ENDPOINT"]
REGIONS = ["eu-west-1", "eu-central-1"]
next_account = [400000000000 + os.getpid() * 100]


def account():
    """Credentials for a fresh, empty moto account."""
    next_account[0] += 1
    sts = boto3.client("sts", endpoint_url=ENDPOINT, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    c = sts.assume_role(RoleArn=f"arn:aws:iam::{next_account[0]}:role/bench", RoleSessionName="bench")["Credentials"]
    return {"AWS_ACCESS_KEY_ID": c["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": c["SecretAccessKey"],
            "AWS_SESSION_TOKEN": c["SessionToken"]}


def env_for(creds, home):
    env = {"PATH": os.environ["PATH"], "HOME": home, "TZ": "UTC", "AWS_ENDPOINT_URL": ENDPOINT,
           "AWS_REGION": "eu-west-1", "AWS_EC2_METADATA_DISABLED": "true",
           "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"}
    env.update(creds)
    return env


def ec2(creds, region):
    return boto3.client("ec2", endpoint_url=ENDPOINT, region_name=region,
                        aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=creds["AWS_SECRET_ACCESS_KEY"],
                        aws_session_token=creds["AWS_SESSION_TOKEN"])


def moto(path, creds):
    url = f"{ENDPOINT}/_offhours/{path}?access_key_id={creds['AWS_ACCESS_KEY_ID']}"
    return json.load(urllib.request.urlopen(url))


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def bench_apply(tmp):
    print("== apply: wall time and API calls (release build, moto on loopback)")
    print(f"   {'instances':>9} {'action':<6} {'wall s':>7}  calls by operation")
    for n in (100, 500, 2000):
        creds = account()
        per_region = n // len(REGIONS)
        for region in REGIONS:
            client = ec2(creds, region)
            # Reservations of 10, like a fleet launched over time.
            for _ in range(per_region // 10):
                client.run_instances(ImageId="ami-12c6146b", InstanceType="t3.micro", MinCount=10, MaxCount=10,
                                     TagSpecifications=[{"ResourceType": "instance",
                                                         "Tags": [{"Key": "Schedule", "Value": "bench"}]}])
        config = write(os.path.join(tmp, f"apply-{n}.toml"),
                       f'regions = {json.dumps(REGIONS)}\nmax_instances_per_action = 0\n'
                       '[schedules.bench]\nstart = "0 8 * * *"\nstop = "0 19 * * *"\n')
        for action in ("stop", "start"):
            before = moto("calls", creds)
            started = time.monotonic()
            out = subprocess.run([BIN, "apply", "bench", action, "--config", config, "--output", "json"],
                                 env=env_for(creds, tmp), capture_output=True, text=True)
            wall = time.monotonic() - started
            after = moto("calls", creds)
            report = json.loads(out.stdout)
            outcomes = {}
            for r in report["results"]:
                outcomes[r["outcome"]] = outcomes.get(r["outcome"], 0) + 1
            delta = {k: v - before.get(k, 0) for k, v in after.items() if v - before.get(k, 0)}
            print(f"   {n:>9} {action:<6} {wall:>7.2f}  {delta}  outcomes {outcomes}")


def proc_stats(pid):
    with open(f"/proc/{pid}/status") as f:
        rss = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    return rss, cpu


def start_daemon(config, creds, tmp, log):
    state = os.path.join(tmp, "state-" + os.path.basename(config))
    proc = subprocess.Popen([BIN, "run", "--config", config, "--state-dir", state, "--log-format", "json"],
                            env=env_for(creds, tmp), stdout=subprocess.DEVNULL, stderr=open(log, "w"))
    wait_for(log, lambda e: e.get("message") == "Daemon started.")
    return proc


def events(log):
    out = []
    with open(log) as f:
        for line in f:
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
    return out


def wait_for(log, pred, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for e in events(log):
            if pred(e):
                return e
        time.sleep(0.01)
    raise SystemExit(f"timed out waiting in {log}")


def many_schedules(n, extra=""):
    text = 'timezone = "Europe/Berlin"\nregions = ["eu-west-1"]\n' + extra
    for i in range(n):
        text += f'[schedules.s{i:04}]\nstart = "{i % 60} 7 1 1 *"\nstop = "{i % 60} 20 1 1 *"\n'
    return text


def bench_daemon(tmp):
    creds = account()
    ec2(creds, "eu-west-1").run_instances(ImageId="ami-12c6146b", MinCount=5, MaxCount=5,
                                          TagSpecifications=[{"ResourceType": "instance",
                                                              "Tags": [{"Key": "Schedule", "Value": "blink"}]}])
    print("== daemon idle: 50 schedules, 60 s")
    config = write(os.path.join(tmp, "idle.toml"), many_schedules(50))
    proc = start_daemon(config, creds, tmp, os.path.join(tmp, "idle.log"))
    rss0, cpu0 = proc_stats(proc.pid)
    time.sleep(60)
    rss1, cpu1 = proc_stats(proc.pid)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
    print(f"   resident memory {rss1 / 1024:.1f} MiB (at start {rss0 / 1024:.1f} MiB); CPU over 60 s: {(cpu1 - cpu0) * 1000:.0f} ms")

    print("== fire lag: 20 fires, every 3 s; fire instant -> moto receives the first DescribeInstances")
    config = write(os.path.join(tmp, "lag.toml"),
                   'timezone = "UTC"\nregions = ["eu-west-1"]\n[schedules.blink]\n'
                   'stop = "0,6,12,18,24,30,36,42,48,54 * * * * *"\nstart = "3,9,15,21,27,33,39,45,51,57 * * * * *"\n')
    log = os.path.join(tmp, "lag.log")
    proc = start_daemon(config, creds, tmp, log)
    wait_for(log, lambda e: e.get("message") == "Fire started.")
    while sum(1 for e in events(log) if e.get("message") == "Action finished.") < 21:
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
    calls = [t for t, a in moto("call-log", creds) if a == "DescribeInstances"]
    fires = [e for e in events(log) if e.get("message") == "Fire started."][:20]
    lags = []
    for e in fires:
        instant = time.mktime(time.strptime(e["fire_at"][:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
        after = [t for t in calls if t >= instant]
        if after:
            lags.append((after[0] - instant) * 1000)
    lags.sort()
    print(f"   {len(lags)} fires: median {lags[len(lags) // 2]:.1f} ms, max {lags[-1]:.1f} ms "
          f"(daemon's own lag_ms: max {max(int(e['lag_ms']) for e in fires)})")

    print("== reload: SIGHUP -> new jobs active, 1000 schedules")
    config = write(os.path.join(tmp, "big.toml"), many_schedules(1000))
    log = os.path.join(tmp, "big.log")
    proc = start_daemon(config, creds, tmp, log)
    rss, _ = proc_stats(proc.pid)
    times = []
    for round_ in range(3):
        write(config, many_schedules(1000, extra=f"max_lateness = \"{round_ + 2}h\"\n"))
        seen = sum(1 for e in events(log) if e.get("message") == "Reload applied.")
        sent = time.monotonic()
        proc.send_signal(signal.SIGHUP)
        while sum(1 for e in events(log) if e.get("message") == "Reload applied.") <= seen:
            time.sleep(0.002)
        times.append((time.monotonic() - sent) * 1000)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
    print(f"   {', '.join(f'{t:.0f}' for t in times)} ms (includes re-reading credentials and DescribeRegions); "
          f"resident memory with 1000 schedules {rss / 1024:.1f} MiB")


def main():
    print("==> cargo build --release", file=sys.stderr)
    subprocess.run(["cargo", "build", "--release", "--locked", "--quiet"], cwd=ROOT, check=True)
    with tempfile.TemporaryDirectory() as tmp:
        bench_apply(tmp)
        bench_daemon(tmp)


if __name__ == "__main__":
    main()
