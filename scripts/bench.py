"""offhours benchmarks against moto (run with `make bench`). Prints figures; asserts nothing.

1. apply with latency (section `apply`): moto answers in 1-2 ms, real AWS in 50-300 ms,
   so calls made one after another hardly show on plain moto. Here `offhours` talks to
   moto through scripts/latency_proxy.py, which waits --latency-ms (default 80) before
   passing each request on (concurrent requests overlap, as on AWS). For 200 and 1000
   instances in one region and 2000 over two: wall time of `apply stop` / `apply start`,
   the calls by operation, the sequential round trips on the critical path (the
   longest chain of calls each starting after the previous one ended), the time spent
   in the listing calls (DescribeInstances not naming instance ids) and wall - listing.
2. kinds with latency (section `kinds`), through the same proxy, in eu-west-1: each kind
   alone (ec2 200 instances, rds 20 DB instances, rds-cluster 10 Aurora clusters, asg 20
   groups, ecs 30 services in 3 clusters, redshift 10 two-node clusters, eks-nodegroup 20
   node groups in 2 clusters, sagemaker-notebook 20 notebooks), then all of them in one
   schedule with the same
   fleets; for `apply stop` / `apply start`: wall time, round trips on the critical path,
   calls by operation, outcomes and when each phase (list / act / verify) ran. The mixed
   case shows whether the kinds run concurrently (wall near the slowest kind's).
   suggest with latency (section `suggest`): `offhours suggest` over 1,000 instances,
   14 days asked for; GetMetricData calls (500 metrics each) and wall time.
3. many accounts with latency (section `accounts`), through the same proxy: offhours'
   own (hub) credentials assume a role in each member account listed in `[[accounts]]`.
   Three layouts of member accounts x regions x instances per account and region, the
   instances tagged Schedule=office: 20 x 2 x 25, 100 x 2 x 5 and 500 x 1 x 2 (2 regions:
   eu-west-1 and eu-central-1; 1: eu-west-1), each against its baseline, one member
   account with the same number of instances in the same regions (1 x 2 x 500, shared by
   the first two, and 1 x 1 x 1000). Several runs each (--runs, default 3; the instances
   are started again straight in moto between runs); for `apply office stop`: wall time,
   round trips on the critical path, the time moto had a call of the run in hand, the
   peak RSS of the offhours process, when each phase ran, and the calls per member
   account (the proxy tells accounts apart by access key: each assumed role signs with
   its own). Checks every instance stopped, none failed, and each result's `account`
   owns the instance. Per layout: the median wall of it and of its baseline and their
   ratio, the median peak RSS of both and the difference, beside the issue's targets
   (ratio within 1.3 at 100 x 2 x 5 and within 2.0 at 500 x 1 x 2; peak RSS at
   100 x 2 x 5 at most 10 MB above one account's), marked met or missed. A fourth row,
   org 300 x 1 x 2: the hub's account is an organization's management account, its 300
   member accounts in 9 units under 3 under the root, found by `[organization]` with
   `ous = [root]` (the units searched level by level) instead of `[[accounts]]`; the
   hub's calls show the pages the listing took.
   The emulator is sharded (--shards, default one moto per core): moto serves one call at
   a time in one Python process, so on a single moto every account waits for every other
   and the wall time measures moto's queue; AWS serves each account and region on its
   own. Each account and region lives on one of the shards, the proxy routes each call
   there by the key's account (learnt from the AssumeRole answers) and names the account
   to moto in its `x-moto-account-id` header; --shards 1 is a single moto.
4. apply on plain moto (section `plain`): N instances across two regions; wall time and
   the API calls by operation (as moto counted them).
5. daemon (section `daemon`), on plain moto:
   idle: resident memory and CPU time of `offhours run` over 60 s with 50 schedules
   that do not fire;
   fire lag: 20 fires of a schedule firing every 3 s; from the fire instant to moto
   receiving the fire's first API call;
   reload: time from SIGHUP to the daemon logging "Reload applied.", 1000 schedules.
6. two replicas (section `replicas`), on a moto of the section's own served one request
   at a time (its DynamoDB conditional writes are atomic only so): two `offhours run` on
   one `[state] backend = "dynamodb"` table, default lease (20 s), one schedule that does
   not fire. Takeover after kill -9 of the leader (kill to the other's heartbeat saying
   leader; also from the dead leader's last renewal), 3 rounds, the killed one restarted
   as a standby each time; takeover after a clean stop (SIGTERM releases the lease), 3
   rounds; the DynamoDB calls of both replicas idle over 120 s by operation, per hour for
   the leader (UpdateItem) and the standby (GetItem), per month and in USD at on-demand
   prices; each replica's resident memory.

Options: --bin PATH (default: build and use target/release/offhours), --latency-ms N,
--only apply|kinds|suggest|accounts|plain|daemon|replicas; for the accounts section,
--runs N, --layouts [org]AxRxI,... (e.g. 100x2x5,org300x1x2; default the four above),
--shards N (default: one moto per core) and --max-calls-in-flight N (`[aws]
max_calls_in_flight` in its files; default offhours' own). Every
case uses fresh moto accounts of its own.
"""

import argparse
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import boto3

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from latency_proxy import LatencyProxy, busy_time, by_operation, critical_path  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "offhours")  # or --bin
ENDPOINT = os.environ["OFFHOURS_TEST_ENDPOINT"]
REGIONS = ["eu-west-1", "eu-central-1"]
next_account = [400000000000 + os.getpid() * 100]


def account(endpoint=ENDPOINT):
    """Credentials for a fresh, empty moto account (on the moto at `endpoint`)."""
    return account_with_id(endpoint)[1]


def account_with_id(endpoint=ENDPOINT):
    """(12-digit id, credentials) of a fresh, empty moto account (on the moto at `endpoint`)."""
    next_account[0] += 1
    return str(next_account[0]), creds_in(str(next_account[0]), endpoint)


def creds_in(account_id, endpoint=ENDPOINT):
    """Credentials of a role in account `account_id`, assumed on the moto at `endpoint`
    (the moto that answers knows the key's account)."""
    sts = boto3.client("sts", endpoint_url=endpoint, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")
    c = sts.assume_role(RoleArn=f"arn:aws:iam::{account_id}:role/bench", RoleSessionName="bench")["Credentials"]
    return {"AWS_ACCESS_KEY_ID": c["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": c["SecretAccessKey"],
            "AWS_SESSION_TOKEN": c["SessionToken"]}


def env_for(creds, home, endpoint=ENDPOINT):
    env = {"PATH": os.environ["PATH"], "HOME": home, "TZ": "UTC", "AWS_ENDPOINT_URL": endpoint,
           "AWS_REGION": "eu-west-1", "AWS_EC2_METADATA_DISABLED": "true",
           "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"}
    env.update(creds)
    return env


def client(creds, service, region, endpoint=ENDPOINT):
    """A boto3 client straight to moto (no proxy), in the account of `creds`."""
    return boto3.client(service, endpoint_url=endpoint, region_name=region,
                        aws_access_key_id=creds["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=creds["AWS_SECRET_ACCESS_KEY"],
                        aws_session_token=creds["AWS_SESSION_TOKEN"])


def ec2(creds, region):
    return client(creds, "ec2", region)


def moto(path, creds, endpoint=ENDPOINT):
    url = f"{endpoint}/_offhours/{path}?access_key_id={creds['AWS_ACCESS_KEY_ID']}"
    return json.load(urllib.request.urlopen(url))


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


def tag_fleet(creds, region, n, per_reservation=100):
    """n instances tagged Schedule=bench, launched straight into moto (no proxy)."""
    client = ec2(creds, region)
    for done in range(0, n, per_reservation):
        count = min(per_reservation, n - done)
        client.run_instances(ImageId="ami-12c6146b", InstanceType="t3.micro", MinCount=count, MaxCount=count,
                             TagSpecifications=[{"ResourceType": "instance",
                                                 "Tags": [{"Key": "Schedule", "Value": "bench"}]}])


def outcome_counts(stdout):
    try:
        report = json.loads(stdout)
    except ValueError:
        return None
    outcomes = {}
    for r in report.get("results", []):
        outcomes[r["outcome"]] = outcomes.get(r["outcome"], 0) + 1
    return outcomes


def show_calls(records):
    ops = by_operation(records)
    by_id = sum(1 for r in records if r["action"] == "DescribeInstances" and r.get("ids"))
    parts = []
    for op, count in ops.items():
        note = f" ({by_id} by id)" if op == "DescribeInstances" and by_id else ""
        parts.append(f"{op} {count}{note}")
    return ", ".join(parts)


# Each kind's operations (DescribeRegions is apply's region check, in the listing's round trip).
KIND_OPS = {
    "ec2": ("DescribeInstances", "DescribeInstanceStatus", "StopInstances", "StartInstances"),
    "rds": ("DescribeDBInstances", "StopDBInstance", "StartDBInstance"),
    "rds-cluster": ("DescribeDBClusters", "StopDBCluster", "StartDBCluster"),
    "asg": ("DescribeAutoScalingGroups", "UpdateAutoScalingGroup", "CreateOrUpdateTags", "DeleteTags"),
    "ecs": ("ListClusters", "ListServices", "DescribeServices", "UpdateService", "TagResource", "UntagResource",
            "DescribeScalableTargets", "RegisterScalableTarget"),
    "redshift": ("DescribeClusters", "DescribeClusterSnapshots", "PauseCluster", "ResumeCluster", "CreateTags"),
    # ListClusters, TagResource and UntagResource are counted as ecs's (one operation name, two services).
    "eks-nodegroup": ("ListNodegroups", "DescribeNodegroup", "UpdateNodegroupConfig"),
    "sagemaker-notebook": ("ListNotebookInstances", "ListTags", "DescribeNotebookInstance", "StopNotebookInstance",
                           "StartNotebookInstance", "AddTags"),
}
KIND_OF = {op: kind for kind, ops in KIND_OPS.items() for op in ops}
ACT_OPS = {"StopInstances", "StartInstances", "StopDBInstance", "StartDBInstance", "StopDBCluster", "StartDBCluster",
           "UpdateAutoScalingGroup", "CreateOrUpdateTags", "DeleteTags", "UpdateService", "TagResource",
           "UntagResource", "RegisterScalableTarget", "PauseCluster", "ResumeCluster", "CreateTags",
           "UpdateNodegroupConfig", "StopNotebookInstance", "StartNotebookInstance", "AddTags"}
READ_OPS = {"DescribeDBInstances", "DescribeDBClusters", "DescribeAutoScalingGroups", "ListClusters", "ListServices",
            "DescribeServices", "DescribeScalableTargets", "DescribeClusters", "DescribeClusterSnapshots",
            "ListNodegroups", "DescribeNodegroup", "ListNotebookInstances", "ListTags", "DescribeNotebookInstance"}


def phase_of(r, first_act):
    """list / act / verify for one call. EC2: DescribeInstances naming no ids is the
    listing, reads by id and DescribeInstanceStatus verify. The other kinds read with
    the same calls before and after acting: a read that starts before the kind's first
    act call is its listing, later ones verify."""
    op = r["action"]
    if op in ("DescribeInstances", "DescribeRegions") and not r.get("ids"):
        return "list"
    if op in ACT_OPS:
        return "act"
    if op in ("DescribeInstanceStatus", "DescribeInstances"):
        return "verify"
    if op in READ_OPS:
        act = first_act.get(KIND_OF[op])
        return "list" if act is None or r["start"] < act else "verify"
    return op


def timeline(records, started, wall, per_kind=False, phase_fn=phase_of):
    """When each phase's calls ran, from the process start: where the time goes.
    per_kind: one list / act / verify per kind (e.g. "rds act 0.3-0.5"); phase_fn(record,
    first_act) names a call's phase (default phase_of)."""
    first_act = {}
    for r in records:
        if r["action"] in ACT_OPS:
            kind = KIND_OF[r["action"]]
            first_act[kind] = min(first_act.get(kind, r["start"]), r["start"])
    phases = {}
    for r in records:
        phase = phase_fn(r, first_act)
        if per_kind:
            kind = KIND_OF.get(r["action"])
            phase = f"{kind} {phase}" if kind else "regions" if r["action"] == "DescribeRegions" else phase
        first, last = phases.get(phase, (r["start"], r["end"]))
        phases[phase] = (min(first, r["start"]), max(last, r["end"]))
    parts = [f"{p} {a - started:.2f}-{b - started:.2f}" for p, (a, b) in sorted(phases.items(), key=lambda kv: kv[1][0])]
    return ", ".join(parts) + f", exit {wall:.2f}"


def bench_latency(tmp, latency_ms):
    proxy = LatencyProxy(ENDPOINT, latency_ms).start()
    print(f"== apply with {latency_ms:g} ms per AWS call (latency proxy in front of moto; "
          "fleet in reservations of 100, all tagged)")
    print("   round trips: sequential calls on the critical path; listing: time in DescribeInstances calls "
          "that name no instance ids (their union)")
    print(f"   {'instances':>9} {'regions':>7} {'action':<6} {'wall s':>7} {'round trips':>11} {'listing s':>9} "
          f"{'wall-listing s':>14}  outcomes; calls by operation")
    try:
        for n, regions in ((200, REGIONS[:1]), (1000, REGIONS[:1]), (2000, REGIONS)):
            creds = account()
            for region in regions:
                tag_fleet(creds, region, n // len(regions))
            config = write(os.path.join(tmp, f"latency-{n}.toml"),
                           f'regions = {json.dumps(regions)}\nmax_instances_per_action = 0\n'
                           '[schedules.bench]\nstart = "0 8 * * *"\nstop = "0 19 * * *"\n')
            key = creds["AWS_ACCESS_KEY_ID"]
            for action in ("stop", "start"):
                proxy.reset()
                started = time.monotonic()
                try:
                    out = subprocess.run([BIN, "apply", "bench", action, "--config", config, "--output", "json"],
                                         env=env_for(creds, tmp, proxy.url), capture_output=True, text=True,
                                         timeout=900)
                except subprocess.TimeoutExpired:
                    print(f"   {n:>9} {len(regions):>7} {action:<6} timed out after 900 s")
                    continue
                wall = time.monotonic() - started
                records = [r for r in proxy.log(key) if r["start"] >= started]
                listing = [r for r in records if r["action"] == "DescribeInstances" and not r.get("ids")]
                listing_s = busy_time(listing)
                outcomes = outcome_counts(out.stdout)
                status = "" if out.returncode == 0 else f" exit {out.returncode}"
                print(f"   {n:>9} {len(regions):>7} {action:<6} {wall:>7.2f} {critical_path(records):>11} "
                      f"{listing_s:>9.2f} {wall - listing_s:>14.2f}  {outcomes}{status}; {show_calls(records)}")
                print("             timeline (s from start): " + timeline(records, started, wall))
                if out.returncode != 0 and outcomes is None:
                    print("      " + out.stderr.strip().replace("\n", "\n      ")[-2000:])
    finally:
        proxy.stop()


KINDS_REGION = "eu-west-1"
BENCH_TAG = [{"Key": "Schedule", "Value": "bench"}]


def make_rds(creds, n):
    rds = client(creds, "rds", KINDS_REGION)
    for i in range(n):
        rds.create_db_instance(DBInstanceIdentifier=f"bench-db-{i:03}", Engine="postgres",
                               DBInstanceClass="db.t3.micro", AllocatedStorage=20, MasterUsername="admin",
                               MasterUserPassword="not-a-secret-1", Tags=BENCH_TAG)


def make_clusters(creds, n):
    rds = client(creds, "rds", KINDS_REGION)
    for i in range(n):
        rds.create_db_cluster(DBClusterIdentifier=f"bench-aurora-{i:03}", Engine="aurora-postgresql",
                              MasterUsername="admin", MasterUserPassword="not-a-secret-1", Tags=BENCH_TAG)


def make_asg(creds, n):
    """n groups (min 1, max 2, desired 1) of one launch configuration; moto launches
    each group's instance (untagged: PropagateAtLaunch false)."""
    asg = client(creds, "autoscaling", KINDS_REGION)
    asg.create_launch_configuration(LaunchConfigurationName="bench-lc", ImageId="ami-12c6146b",
                                    InstanceType="t3.micro")
    for i in range(n):
        name = f"bench-asg-{i:03}"
        asg.create_auto_scaling_group(
            AutoScalingGroupName=name, LaunchConfigurationName="bench-lc", MinSize=1, MaxSize=2,
            DesiredCapacity=1, AvailabilityZones=[f"{KINDS_REGION}a"],
            Tags=[{"ResourceId": name, "ResourceType": "auto-scaling-group", "Key": "Schedule", "Value": "bench",
                   "PropagateAtLaunch": False}])


def make_ecs(creds, n, clusters=3):
    """n services (desired 2) spread over `clusters` clusters, one task definition."""
    ecs = client(creds, "ecs", KINDS_REGION)
    ecs.register_task_definition(family="bench", containerDefinitions=[{"name": "app", "image": "nginx",
                                                                        "memory": 128}])
    for c in range(clusters):
        ecs.create_cluster(clusterName=f"bench-{c}")
    for i in range(n):
        ecs.create_service(cluster=f"bench-{i % clusters}", serviceName=f"svc-{i:03}", taskDefinition="bench",
                           desiredCount=2, tags=[{"key": "Schedule", "value": "bench"}])


def make_redshift(creds, n):
    redshift = client(creds, "redshift", KINDS_REGION)
    for i in range(n):
        redshift.create_cluster(ClusterIdentifier=f"bench-dw-{i:03}", NodeType="ra3.xlplus", ClusterType="multi-node",
                                NumberOfNodes=2, MasterUsername="admin", MasterUserPassword="Not-a-secret-1",
                                Tags=BENCH_TAG)


def make_eks(creds, n, clusters=2):
    """n managed node groups (min 1, max 4, desired 2) spread over `clusters` clusters."""
    eks = client(creds, "eks", KINDS_REGION)
    role = "arn:aws:iam::123456789012:role/eks"
    for c in range(clusters):
        eks.create_cluster(name=f"bench-{c}", roleArn=role, resourcesVpcConfig={"subnetIds": ["subnet-1"]})
    for i in range(n):
        eks.create_nodegroup(clusterName=f"bench-{i % clusters}", nodegroupName=f"ng-{i:03}", nodeRole=role,
                             subnets=["subnet-1"], scalingConfig={"minSize": 1, "maxSize": 4, "desiredSize": 2},
                             tags={"Schedule": "bench"})


def make_sagemaker(creds, n):
    sagemaker = client(creds, "sagemaker", KINDS_REGION)
    for i in range(n):
        sagemaker.create_notebook_instance(NotebookInstanceName=f"bench-nb-{i:03}", InstanceType="ml.t3.medium",
                                           RoleArn="arn:aws:iam::123456789012:role/sagemaker", Tags=BENCH_TAG)


# kind -> (fleet size, how to make it)
KIND_FLEETS = {
    "ec2": (200, lambda creds, n: tag_fleet(creds, KINDS_REGION, n)),
    "rds": (20, make_rds),
    "rds-cluster": (10, make_clusters),
    "asg": (20, make_asg),
    "ecs": (30, make_ecs),
    "redshift": (10, make_redshift),
    "eks-nodegroup": (20, make_eks),
    "sagemaker-notebook": (20, make_sagemaker),
}


def kinds_config(tmp, name, kinds):
    return write(os.path.join(tmp, f"kinds-{name}.toml"),
                 f'regions = ["{KINDS_REGION}"]\nmax_instances_per_action = 0\nverify_timeout = "60s"\n'
                 f'db_verify_timeout = "120s"\nkinds = {json.dumps(kinds)}\n'
                 '[schedules.bench]\nstart = "0 8 * * *"\nstop = "0 19 * * *"\n')


def kind_outcomes(stdout, per_kind):
    """{outcome: count} (per_kind: {"kind outcome": count}) and the report's listing errors."""
    try:
        report = json.loads(stdout)
    except ValueError:
        return None, []
    out = {}
    for r in report.get("results", []):
        key = f"{r['kind']} {r['outcome']}" if per_kind else r["outcome"]
        out[key] = out.get(key, 0) + 1
    return dict(sorted(out.items())), report.get("errors", [])


def bench_kinds(tmp, latency_ms):
    proxy = LatencyProxy(ENDPOINT, latency_ms).start()
    print(f"== kinds with {latency_ms:g} ms per AWS call (latency proxy; {KINDS_REGION}; each kind alone, "
          "then all of them in one schedule)")
    print("   fleets: " + ", ".join(f"{kind} {n}" for kind, (n, _) in KIND_FLEETS.items())
          + " (ecs: services in 3 clusters, desired 2; asg: min 1, max 2, desired 1)")
    print("   round trips: sequential calls on the critical path")
    print(f"   {'kind':<18} {'resources':>9} {'action':<6} {'wall s':>7} {'round trips':>11}  "
          "outcomes; calls by operation")
    walls = {}
    cases = [([kind], kind) for kind in KIND_FLEETS] + [(list(KIND_FLEETS), "all kinds")]
    try:
        for kinds, label in cases:
            creds = account()
            for kind in kinds:
                n, make = KIND_FLEETS[kind]
                make(creds, n)
            resources = sum(KIND_FLEETS[k][0] for k in kinds)
            config = kinds_config(tmp, label.replace(" ", "-"), kinds)
            key = creds["AWS_ACCESS_KEY_ID"]
            mixed = len(kinds) > 1
            want = {"stop": "stopped", "start": "started"}
            for action in ("stop", "start"):
                proxy.reset()
                started = time.monotonic()
                try:
                    out = subprocess.run([BIN, "apply", "bench", action, "--config", config, "--output", "json"],
                                         env=env_for(creds, tmp, proxy.url), capture_output=True, text=True,
                                         timeout=900)
                except subprocess.TimeoutExpired:
                    print(f"   {label:<18} {resources:>9} {action:<6} timed out after 900 s")
                    continue
                wall = time.monotonic() - started
                walls[(label, action)] = wall
                records = [r for r in proxy.log(key) if r["start"] >= started]
                outcomes, errors = kind_outcomes(out.stdout, mixed)
                status = "" if out.returncode == 0 else f" exit {out.returncode}"
                print(f"   {label:<18} {resources:>9} {action:<6} {wall:>7.2f} {critical_path(records):>11}  "
                      f"{outcomes}{status}; {show_calls(records)}")
                print("             timeline (s from start): " + timeline(records, started, wall, per_kind=mixed))
                unexpected = outcomes is None or any(not k.endswith(want[action]) for k in outcomes)
                total = sum(outcomes.values()) if outcomes else 0
                if out.returncode != 0 or errors or unexpected or total != resources:
                    print(f"      !! expected {resources} {want[action]}; got {outcomes}"
                          + (f"; errors {errors}" if errors else ""))
                    if outcomes is not None:
                        for r in json.loads(out.stdout).get("results", []):
                            if r["outcome"] != want[action]:
                                print(f"      {r['kind']} {r['id']}: {r['outcome']} ({r.get('reason')})")
                                break
                    print("      " + out.stderr.strip().replace("\n", "\n      ")[-2000:])
        for action in ("stop", "start"):
            single = {k: walls[(k, action)] for k in KIND_FLEETS if (k, action) in walls}
            if ("all kinds", action) in walls and single:
                slowest = max(single, key=single.get)
                print(f"   all kinds {action}: {walls[('all kinds', action)]:.2f} s; slowest kind alone {slowest} "
                      f"{single[slowest]:.2f} s; sum of the kinds alone {sum(single.values()):.2f} s")
    finally:
        proxy.stop()


def bench_suggest(tmp, latency_ms, n=1000):
    """offhours suggest over n instances (3 metrics each, 14 days) through the latency
    proxy: GetMetricData calls (500 metrics a call) and wall time. The instances have no
    data points (moto's GetMetricData scans every point per period, which at 1,000
    instances x 336 hours would time moto, not offhours): every one is left out for
    want of data, after the same reads."""
    proxy = LatencyProxy(ENDPOINT, latency_ms).start()
    print(f"== suggest with {latency_ms:g} ms per AWS call (latency proxy; {KINDS_REGION}; {n} instances, "
          "14 days of hourly metrics asked for)")
    print(f"   {'instances':>9} {'wall s':>7} {'round trips':>11}  calls by operation; GetMetricData expected "
          f"ceil({n} x 3 / 500) = {-(-n * 3 // 500)}")
    try:
        creds = account()
        tag_fleet(creds, KINDS_REGION, n)
        config = write(os.path.join(tmp, "suggest.toml"), f'regions = ["{KINDS_REGION}"]\nkinds = ["ec2"]\n'
                                                               '[schedules.bench]\nstop = "0 19 * * *"\n')
        key = creds["AWS_ACCESS_KEY_ID"]
        proxy.reset()
        started = time.monotonic()
        out = subprocess.run([BIN, "suggest", "--config", config, "--output", "json", "--state-dir", tmp],
                             env=env_for(creds, tmp, proxy.url), capture_output=True, text=True, timeout=900)
        wall = time.monotonic() - started
        records = [r for r in proxy.log(key) if r["start"] >= started]
        try:
            left = len(json.loads(out.stdout).get("left_out", []))
        except ValueError:
            left = None
        status = "" if out.returncode == 0 else f" exit {out.returncode}"
        print(f"   {n:>9} {wall:>7.2f} {critical_path(records):>11}  {show_calls(records)}; left out {left}{status}")
        if out.returncode != 0 or left != n:
            print("      " + out.stderr.strip().replace("\n", "\n      ")[-2000:])
    finally:
        proxy.stop()


# Member accounts x regions x instances per account and region; a layout of R regions
# uses the first R of REGIONS.
# ("org", 300, 1, 2): an organization's accounts, found by `[organization]` in 9 units
# under 3 under the root.
ACCOUNTS_LAYOUTS = ((20, 2, 25), (100, 2, 5), (500, 1, 2), ("org", 300, 1, 2))
ACCOUNTS_RUNS = 3
ACCOUNTS_RESERVATION = 100  # instances per RunInstances when seeding
# The targets, against the layout's baseline: (wall ratio at most, peak RSS at
# most this many MB above the baseline's); None where it sets none.
# Layouts (and their baselines) whose daemon's memory is also measured.
DAEMON_LAYOUTS = {(100, 2, 5)}
ACCOUNTS_TARGETS = {(100, 2, 5): (1.3, 10.0), (500, 1, 2): (2.0, None)}
GNU_TIME = "/usr/bin/time"


def layout_name(layout):
    if layout[0] == "org":
        return "org " + layout_name(layout[1:])
    return " x ".join(str(n) for n in layout)


def parse_layouts(text):
    """--layouts "100x2x5,org300x1x2" -> ((100, 2, 5), ("org", 300, 1, 2))."""
    layouts = []
    for part in text.split(","):
        spec = part.strip().lower()
        org = spec.startswith("org")
        try:
            layout = tuple(int(n) for n in spec.removeprefix("org").split("x"))
        except ValueError:
            layout = ()
        if len(layout) != 3 or min(layout) < 1 or layout[1] > len(REGIONS):
            raise argparse.ArgumentTypeError(f"{part!r}: want [org]ACCOUNTSxREGIONSxINSTANCES (e.g. 100x2x5, "
                                             f"org300x1x2), regions 1 to {len(REGIONS)}")
        layouts.append(("org", *layout) if org else layout)
    return tuple(layouts)


def baseline_of(layout):
    """One member account holding the layout's instances, in the same regions."""
    n, regions, per = layout[-3:]
    return (1, regions, n * per)


def launch_office(client, account_id, region, count):
    """count instances tagged Schedule=office, one reservation; {instance id: (account id, region)}."""
    out = client.run_instances(ImageId="ami-12c6146b", InstanceType="t3.micro", MinCount=count, MaxCount=count,
                               TagSpecifications=[{"ResourceType": "instance",
                                                   "Tags": [{"Key": "Schedule", "Value": "office"}]}])
    return {i["InstanceId"]: (account_id, region) for i in out["Instances"]}


def seed_members(layout):
    """The fresh member accounts of `layout`, their instances launched as launch_members
    does. Returns the account ids, an EC2 client per (account id, region) and {instance
    id: (account id, region)}."""
    n, regions, per = layout
    members = [str(next_account[0] + i) for i in range(1, n + 1)]
    next_account[0] += n
    return (members, *launch_members(members, regions, per))


def seed_org(hub, layout):
    """An organization in the hub's account: 9 units under 3 under the root, the layout's
    accounts created in it and spread over the 9, their instances launched as
    launch_members does. Returns the root's id, the account ids, the EC2 clients and
    the owners."""
    n, regions, per = layout
    org = client(hub, "organizations", "us-east-1")
    org.create_organization(FeatureSet="ALL")
    root = org.list_roots()["Roots"][0]["Id"]
    leaves = []
    for i in range(3):
        unit = org.create_organizational_unit(ParentId=root, Name=f"region-{i}")["OrganizationalUnit"]["Id"]
        for j in range(3):
            leaf = org.create_organizational_unit(ParentId=unit, Name=f"team-{i}-{j}")
            leaves.append(leaf["OrganizationalUnit"]["Id"])
    members = []
    for k in range(n):
        status = org.create_account(AccountName=f"member-{k:03}", Email=f"member-{k:03}@example.com")
        status = status["CreateAccountStatus"]
        while "AccountId" not in status:
            status = org.describe_create_account_status(CreateAccountRequestId=status["Id"])["CreateAccountStatus"]
        org.move_account(AccountId=status["AccountId"], SourceParentId=root,
                         DestinationParentId=leaves[k % len(leaves)])
        members.append(status["AccountId"])
    return (root, members, *launch_members(members, regions, per))


def launch_members(members, regions, per):
    """`per` instances in each of the first `regions` regions of each account, launched
    straight into the moto that holds the account and region (no proxy) in reservations
    of up to ACCOUNTS_RESERVATION, several at once. Returns an EC2 client per (account
    id, region) and {instance id: (account id, region)}."""
    clients, launches = {}, []
    with ThreadPoolExecutor(max_workers=8) as pool:
        for account_id in members:
            # Clients are made here one after another (making clients is not thread-safe;
            # one session parses the EC2 model once), the launches sent from the pool as
            # soon as an account's clients exist: moto's first call in an account and
            # region builds its backend (its default AMIs, about 0.1 s of moto's CPU),
            # which overlaps making the next account's clients here.
            for region in REGIONS[:regions]:
                shard = SHARDS[shard_of(account_id, region)]
                member = clients[(account_id, region)] = client(creds_in(account_id, shard), "ec2", region, shard)
                for done in range(0, per, ACCOUNTS_RESERVATION):
                    count = min(ACCOUNTS_RESERVATION, per - done)
                    launches.append(pool.submit(launch_office, member, account_id, region, count))
        owners = {}
        for launched in launches:
            owners.update(launched.result())
    return clients, owners


# The emulator's shards (moto URLs) for the accounts section: the first is ENDPOINT.
SHARDS = [ENDPOINT]


def shard_of(account_id, region):
    """The shard that holds an account's region ("sts": where its role is assumed):
    consecutive accounts, and one account's regions, on different shards."""
    offset = REGIONS.index(region) if region in REGIONS else 0
    return (int(account_id) + offset) % len(SHARDS)


def start_shards(tmp, n):
    """n - 1 more motos beside ENDPOINT (threaded, as with-moto.sh starts it), each exiting
    with this process; returns their processes."""
    python, server = os.path.join(ROOT, ".venv", "bin", "python"), os.path.join(ROOT, "tests", "moto", "server.py")
    procs = []
    for i in range(1, n):
        port_file, log = os.path.join(tmp, f"shard-{i}.port"), os.path.join(tmp, f"shard-{i}.log")
        proc = subprocess.Popen([python, server, "--port-file", port_file], stdout=subprocess.DEVNULL,
                                stderr=open(log, "w"))
        procs.append(proc)
        deadline = time.monotonic() + 30
        while not (os.path.exists(port_file) and open(port_file).read().strip()):
            if proc.poll() is not None or time.monotonic() > deadline:
                for p in procs:
                    p.kill()
                with open(log) as f:
                    raise SystemExit(f"moto shard {i} did not start:\n{f.read()[-2000:]}")
            time.sleep(0.05)
        SHARDS.append(f"http://127.0.0.1:{open(port_file).read().strip()}")
    return procs


# `[aws] max_calls_in_flight` for the accounts section's runs (--max-calls-in-flight);
# None: offhours' default.
MAX_CALLS_IN_FLIGHT = [None]


def accounts_config(tmp, layout, members, root=None):
    """[[accounts]] naming each member, or with `root` the organization below it."""
    config = (f'regions = {json.dumps(REGIONS[:layout[-2]])}\nmax_instances_per_action = 0\n'
              'verify_timeout = "60s"\n')
    if MAX_CALLS_IN_FLIGHT[0] is not None:
        config += f'[aws]\nmax_calls_in_flight = {MAX_CALLS_IN_FLIGHT[0]}\n'
    width = max(2, len(str(len(members))))
    if root is not None:
        config += f'[organization]\nrole_name = "offhours-member"\nous = ["{root}"]\n'
    for i, account_id in enumerate(members if root is None else []):
        config += (f'[[accounts]]\nrole_arn = "arn:aws:iam::{account_id}:role/offhours-member"\n'
                   f'name = "member-{i + 1:0{width}}"\n')
    config += '[schedules.office]\nstart = "0 8 * * MON-FRI"\nstop = "0 19 * * MON-FRI"\n'
    return write(os.path.join(tmp, f"accounts-{'x'.join(map(str, layout))}.toml"), config)


def restart_members(clients, owners):
    """Starts every member instance again, straight in moto; returns {previous state: count}
    (after a good `apply stop`: all stopped)."""
    groups = {}
    for instance_id, where in owners.items():
        groups.setdefault(where, []).append(instance_id)

    def start(job):
        where, ids = job
        started = clients[where].start_instances(InstanceIds=ids)["StartingInstances"]
        return [i["PreviousState"]["Name"] for i in started]

    before = {}
    with ThreadPoolExecutor(max_workers=8) as pool:
        for states in pool.map(start, groups.items()):
            for state in states:
                before[state] = before.get(state, 0) + 1
    return before


# Where /usr/bin/time is missing: a fresh, small interpreter forks the command, waits
# for it with wait4 and writes its CPU times and ru_maxrss to argv[1]. Not this process's own fork:
# Linux keeps the larger of the peaks before and after exec in ru_maxrss, and a fork of
# this process (hundreds of MB once it holds a client per member account) would report
# that instead; the launcher's own few MB stay below any offhours run's. (Its start,
# some 20 ms, counts in the wall time.)
WAIT4_LAUNCHER = """import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as f:
    f.write(f"{usage.ru_utime} {usage.ru_stime} {usage.ru_maxrss}")
code = os.waitstatus_to_exitcode(status)
sys.exit(code if code >= 0 else 128 - code)
"""


def run_measured(cmd, env, timeout):
    """Runs cmd to its end: (wall s, exit code, stdout, stderr, peak RSS in KiB or None,
    CPU s or None). The peak is the process's own maximum resident set and the CPU its
    user and system time: GNU time's %M, %U and %S where /usr/bin/time is, else wait4's
    (WAIT4_LAUNCHER). Past `timeout` s the command's process group is killed and
    TimeoutExpired raised."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile(mode="r") as peak_file:
        if os.path.exists(GNU_TIME):
            wrapper = [GNU_TIME, "-f", "%U %S %M", "-o", peak_file.name]
        else:
            wrapper = [sys.executable, "-I", "-S", "-c", WAIT4_LAUNCHER, peak_file.name]
        started = time.monotonic()
        # A session of its own: on timeout the kill reaches offhours under the wrapper too.
        proc = subprocess.Popen(wrapper + cmd, env=env, stdout=out, stderr=err, start_new_session=True)
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            raise
        wall = time.monotonic() - started
        # After a failure GNU time writes "Command exited with non-zero status N" first.
        words = peak_file.read().split()[-3:]
        try:
            cpu, peak = float(words[0]) + float(words[1]), int(words[2])
        except (ValueError, IndexError):
            cpu, peak = None, None
        out.seek(0)
        err.seek(0)
        return wall, code, out.read().decode(errors="replace"), err.read().decode(errors="replace"), peak, cpu


def emulator_cpu():
    """CPU seconds used so far by every moto of this machine's tests (each shard, and the
    one with-moto.sh started), and by this process (the latency proxy's threads)."""
    total = 0.0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if b"tests/moto/server.py" not in f.read():
                    continue
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except OSError:
            continue
    return total, sum(os.times()[:2])


def mb(kib):
    """KiB -> MB (10^6 bytes, as the issue's target counts them)."""
    return kib * 1024 / 1e6


def accounts_phase(r, first_act):
    """assume (AssumeRole), regions (each account's region check), then list / act /
    verify as phase_of names them."""
    if r["action"] == "AssumeRole":
        return "assume"
    if r["action"] == "DescribeRegions":
        return "regions"
    return phase_of(r, first_act)


def check_accounts_report(stdout, returncode, owners):
    """Problems with an `apply stop` over the member accounts (every instance stopped,
    none failed, each result's account the instance's owner; [] when all is well), and
    the number of results per account, {account id: count}."""
    try:
        report = json.loads(stdout)
    except ValueError:
        return [f"no JSON report (exit {returncode})"], {}
    problems = [] if returncode == 0 else [f"exit {returncode}"]
    results = report.get("results", [])
    for key in ("errors", "failed_accounts"):
        if report.get(key):
            problems.append(f"{key}: {report[key][:3]}")
    stopped = sum(1 for r in results if r["outcome"] == "stopped")
    failed = sum(1 for r in results if r["outcome"] == "failed")
    if stopped != len(owners) or failed:
        problems.append(f"expected {len(owners)} stopped, 0 failed; got {outcome_counts(stdout)}")
    wrong = [r for r in results if owners.get(r["id"], (None, None)) != (r.get("account"), r["region"])]
    if wrong:
        r = wrong[0]
        problems.append(f"{len(wrong)} results name another account or region than the instance's, e.g. {r['id']}: "
                        f"account {r.get('account')} {r['region']}, owner {owners.get(r['id'])}")
    missing = set(owners) - {r["id"] for r in results}
    if missing:
        problems.append(f"{len(missing)} instances have no result, e.g. {sorted(missing)[0]}")
    per_account = {}
    for r in results:
        per_account[r.get("account")] = per_account.get(r.get("account"), 0) + 1
    return problems, per_account


def spread(counts):
    """"N each" when all equal, else "N to M"."""
    counts = sorted(counts)
    if not counts:
        return "none"
    return f"{counts[0]} each" if counts[0] == counts[-1] else f"{counts[0]} to {counts[-1]}"


def member_calls(records, hub_key):
    """The calls of the member accounts as {"Operation": count} per account, the hub's
    own calls by operation, and the hub's AssumeRole calls per member account. A member
    call signs with the access key of a role assumed for it; the proxy records each
    AssumeRole's account and the key it answered (offhours may assume one role more than
    once: each answer has a key of its own). A key no answer names counts as an account."""
    account_of = {r["assumed_key"]: r["role_account"] for r in records if r.get("assumed_key")}
    per_account = {}
    for r in records:
        if r["access_key_id"] != hub_key:
            per_account.setdefault(account_of.get(r["access_key_id"], r["access_key_id"]), []).append(r)
    hub = [r for r in records if r["access_key_id"] == hub_key]
    assumed = {}
    for r in hub:
        if r["action"] == "AssumeRole":
            assumed[r.get("role_account")] = assumed.get(r.get("role_account"), 0) + 1
    return [by_operation(rs) for rs in per_account.values()], by_operation(hub), assumed


def show_member_calls(per_account):
    """One account's calls by operation when every account made the same ones, else the
    spread of the totals."""
    if not per_account:
        return "none"
    totals = sorted(sum(ops.values()) for ops in per_account)
    shapes = {tuple(sorted(ops.items())) for ops in per_account}
    if len(shapes) == 1:
        ops = per_account[0]
        return f"{totals[0]} each ({', '.join(f'{op} {n}' for op, n in ops.items())})"
    return f"{totals[0]} to {totals[-1]} (median {totals[len(totals) // 2]}; they differ by operation)"


def accounts_run(tmp, proxy, latency_ms, hub, case, run, seeded):
    """One `apply office stop` over the case's member accounts, printed as a row and a
    timeline; the instances are started again afterwards. Returns (wall, wall - moto
    busy, peak RSS KiB) when the run had no problem, else None."""
    clients, owners, config = seeded
    name = layout_name(case)
    proxy.reset()
    cpu_before = emulator_cpu()
    started = time.monotonic()
    try:
        wall, code, stdout, stderr, peak, cpu = run_measured(
            [BIN, "apply", "office", "stop", "--config", config, "--output", "json"], env_for(hub, tmp, proxy.url),
            timeout=900)
    except subprocess.TimeoutExpired:
        print(f"   {name:<12} {len(owners):>9} {run:>3} timed out after 900 s")
        restart_members(clients, owners)
        return None
    motos, proxy_cpu = (after - before for after, before in zip(emulator_cpu(), cpu_before))
    records = [r for r in proxy.log() if r["start"] >= started]
    # A call is in moto's hands from the end of the proxy's delay to its answer.
    moto_busy = busy_time([{"start": min(r["start"] + latency_ms / 1000, r["end"]), "end": r["end"]}
                           for r in records])
    per_account, hub_ops, assumed = member_calls(records, hub["AWS_ACCESS_KEY_ID"])
    problems, results = check_accounts_report(stdout, code, owners)
    peak_text = "?" if peak is None else f"{mb(peak):.1f}"
    hub_text = ", ".join(f"{op} {c}" for op, c in hub_ops.items())
    print(f"   {name:<12} {len(owners):>9} {run:>3} {wall:>7.2f} {critical_path(records):>11} {moto_busy:>11.2f} "
          f"{wall - moto_busy:>11.2f} {peak_text:>11}  {outcome_counts(stdout)}; {spread(results.values())} in "
          f"{len(results)} accounts; {len(records)} calls: hub {hub_text} (AssumeRole per account: "
          f"{spread(assumed.values())}); {len(per_account)} member accounts: {show_member_calls(per_account)}")
    print("             timeline (s from start): " + timeline(records, started, wall, phase_fn=accounts_phase))
    cpu_text = "?" if cpu is None else f"{cpu:.2f}"
    print(f"             CPU s: offhours {cpu_text}, motos {motos:.2f}, proxy {proxy_cpu:.2f}, "
          f"of {wall * (os.cpu_count() or 1):.2f} the {os.cpu_count()} cores had in the wall time")
    if problems:
        print("      !! " + "\n      !! ".join(problems))
        print("      " + stderr.strip().replace("\n", "\n      ")[-2000:])
    previous = restart_members(clients, owners)
    if previous != {"stopped": len(owners)}:
        print(f"      !! moto says the instances were {previous} before being started again "
              f"(expected {len(owners)} stopped)")
    return None if problems or peak is None else (wall, wall - moto_busy, peak)


def accounts_daemon(tmp, proxy, hub, case, seeded):
    """The daemon over the case's accounts: `run`, one stop fire 20 s after it starts; its
    resident memory once started (accounts prepared), at its peak, 5 s after the fire's
    action finished and 75 s after (idle: the connections the fire opened are closed
    after 20 s unused, and the idle daemon gives free heap back at most once a minute).
    Returns (after start, 75 s after the fire) in KiB, or None."""
    clients, owners, config = seeded
    fire = datetime.now(timezone.utc) + timedelta(seconds=20)
    text = open(config).read().split("[schedules.office]")[0]
    daemon_config = write(os.path.join(tmp, "daemon-" + os.path.basename(config)),
                          text + f'[schedules.office]\nstop = "{fire.second} {fire.minute} {fire.hour} * * *"\n')
    log = os.path.join(tmp, "daemon-" + os.path.basename(config) + ".log")
    state = os.path.join(tmp, "state-daemon-" + os.path.basename(config))
    proc = subprocess.Popen([BIN, "run", "--config", daemon_config, "--state-dir", state, "--log-format", "json"],
                            env=env_for(hub, tmp, proxy.url), stdout=subprocess.DEVNULL, stderr=open(log, "w"))
    try:
        wait_for(log, lambda e: e.get("message") == "Daemon started.", timeout=120)
        started, _ = proc_stats(proc.pid)
        finished = wait_for(log, lambda e: e.get("message") == "Action finished.", timeout=120)
        time.sleep(5)
        soon, _ = proc_stats(proc.pid)
        time.sleep(70)
        idle, _ = proc_stats(proc.pid)
        with open(f"/proc/{proc.pid}/status") as f:
            peak = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    print(f"   {layout_name(case):<12} daemon: resident memory {mb(started):.1f} MB once started, peak {mb(peak):.1f} MB, "
          f"{mb(soon):.1f} MB 5 s after the fire, {mb(idle):.1f} MB 75 s after ({finished.get('outcomes') or finished.get('acted') or 'finished'})")
    previous = restart_members(clients, owners)
    if previous != {"stopped": len(owners)}:
        print(f"      !! moto says the instances were {previous} before being started again")
        return None
    return started, idle


def target_text(value, limit, what):
    if limit is None:
        return "no target"
    return f"{what}: target {'met' if value <= limit else 'missed'}"


def accounts_summary(layouts, figures, runs):
    """Per layout against its baseline: medians of the runs with no problem, their ratio
    and difference, and the issue's targets beside them (figures only)."""
    print("   per layout, medians of the runs with no problem; ratio: layout / baseline; targets from the issue "
          "(figures only, nothing asserted)")
    print(f"   {'layout':<12} {'baseline':<12} {'wall s':>7} {'base s':>7} {'ratio':>5}  {'target':<26} "
          f"{'peak RSS MB':>11} {'base MB':>7} {'diff MB':>7}  target")
    for layout in layouts:
        base = baseline_of(layout)
        mine, theirs = figures[layout], figures[base]
        short = [f"{layout_name(c)} {len(figures[c])} of {runs}" for c in (layout, base) if len(figures[c]) < runs]
        if not mine or not theirs:
            print(f"   {layout_name(layout):<12} {layout_name(base):<12} no run with no problem "
                  f"({'; '.join(short)})")
            continue
        wall, base_wall = (statistics.median(f[0] for f in fs) for fs in (mine, theirs))
        peak, base_peak = (mb(statistics.median(f[2] for f in fs)) for fs in (mine, theirs))
        ratio_limit, rss_limit = ACCOUNTS_TARGETS.get(layout, (None, None))
        ratio = wall / base_wall
        ratio_text = target_text(ratio, ratio_limit, f"within {ratio_limit}")
        rss_text = target_text(peak - base_peak, rss_limit, f"at most +{rss_limit:g} MB" if rss_limit else "")
        print(f"   {layout_name(layout):<12} {layout_name(base):<12} {wall:>7.2f} {base_wall:>7.2f} {ratio:>5.2f}  "
              f"{ratio_text:<26} {peak:>11.1f} {base_peak:>7.1f} {peak - base_peak:>+7.1f}  {rss_text}"
              + (f" (runs with no problem: {', '.join(short)})" if short else ""))
    # Moto serves every call in one Python process: wall - moto busy is what is left
    # for offhours' own work and the proxy's delays.
    parts = []
    for layout in layouts:
        base = baseline_of(layout)
        if figures[layout] and figures[base]:
            rest, base_rest = (statistics.median(f[1] for f in figures[c]) for c in (layout, base))
            parts.append(f"{layout_name(layout)} {rest:.2f} s against {base_rest:.2f} s (ratio {rest / base_rest:.2f})")
    if parts:
        print("   median wall-moto: " + "; ".join(parts))


def bench_accounts(tmp, latency_ms, runs=ACCOUNTS_RUNS, layouts=ACCOUNTS_LAYOUTS, shards=1):
    procs = start_shards(tmp, shards)
    try:
        accounts_section(tmp, latency_ms, runs, layouts)
    finally:
        for proc in procs:
            proc.kill()
        del SHARDS[1:]


def accounts_section(tmp, latency_ms, runs, layouts):
    # Each layout and its baseline; a baseline of the same shape serves several layouts.
    cases = list(dict.fromkeys(case for layout in layouts for case in (baseline_of(layout), layout)))
    print(f"== accounts with {latency_ms:g} ms per AWS call (latency proxy): [[accounts]] roles assumed with the "
          f"hub's credentials; layouts of member accounts x regions x instances per account and region, tagged "
          f"Schedule=office (2 regions: {', '.join(REGIONS)}; 1: {REGIONS[0]}), each against its baseline, one "
          f"member account with as many instances in the same regions; `apply office stop`, {runs} "
          f"run{'s' if runs != 1 else ''} each, instances started again straight in moto between runs")
    print(f"   emulator: {len(SHARDS)} moto{'s' if len(SHARDS) != 1 else ''} (--shards), each account and region on "
          "one of them, the proxy routing each call by its key's account")
    print("   round trips: sequential calls on the critical path (moto's queueing can add one); moto busy: time a moto "
          "had a call of the run in hand (after the proxy's delay; each moto serves one call at a time, in Python); "
          "wall-moto: the rest (the proxy's delays, offhours' own work, process start); peak RSS: the offhours "
          f"process's maximum resident set ({'GNU time %M' if os.path.exists(GNU_TIME) else 'wait4 ru_maxrss'}), "
          "MB of 10^6 bytes")
    hub_id, hub = account_with_id()
    seeded = {}
    for case in cases:
        started = time.monotonic()
        if case[0] == "org":
            root, members, clients, owners = seed_org(hub, case[1:])
            seeded[case] = (clients, owners, accounts_config(tmp, case, members, root))
        else:
            members, clients, owners = seed_members(case)
            seeded[case] = (clients, owners, accounts_config(tmp, case, members))
        print(f"   seeded {layout_name(case)} = {len(owners)} instances in {time.monotonic() - started:.1f} s "
              f"(8 RunInstances at once, reservations of up to {ACCOUNTS_RESERVATION}; hub account {hub_id})")
    print(f"   {'layout':<12} {'instances':>9} {'run':>3} {'wall s':>7} {'round trips':>11} {'moto busy s':>11} "
          f"{'wall-moto s':>11} {'peak RSS MB':>11}  outcomes; results per account; calls")
    proxy = LatencyProxy(SHARDS, latency_ms, route=shard_of).start()
    figures = {case: [] for case in cases}
    try:
        # Round-robin over the cases, so a drift in moto over the runs touches them all alike.
        for run in range(1, runs + 1):
            for case in cases:
                got = accounts_run(tmp, proxy, latency_ms, hub, case, run, seeded[case])
                if got:
                    figures[case].append(got)
        accounts_summary(layouts, figures, runs)
        daemon_cases = [c for layout in layouts if layout in DAEMON_LAYOUTS for c in (baseline_of(layout), layout)]
        if daemon_cases:
            print("   the daemon (`run`) over the same accounts, one stop fire, then idle")
        daemon = {case: accounts_daemon(tmp, proxy, hub, case, seeded[case]) for case in dict.fromkeys(daemon_cases)}
        for layout in layouts:
            mine, theirs = daemon.get(layout), daemon.get(baseline_of(layout))
            if mine and theirs:
                print(f"   {layout_name(layout)} against {layout_name(baseline_of(layout))}: daemon once started "
                      f"{mb(mine[0]) - mb(theirs[0]):+.1f} MB, idle 75 s after the fire {mb(mine[1]) - mb(theirs[1]):+.1f} MB")
    finally:
        proxy.stop()


def bench_apply(tmp):
    print("== apply on plain moto: wall time and API calls (moto on loopback, reservations of 10)")
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


def log_time(event):
    """The unix time of a JSON log event's `timestamp` (RFC 3339, any fraction)."""
    m = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$", event["timestamp"])
    whole = datetime.fromisoformat(m.group(1) + ("+00:00" if m.group(3) == "Z" else m.group(3)))
    return whole.timestamp() + (float("0." + m.group(2)) if m.group(2) else 0.0)


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
    print("== daemon idle: 50 schedules, 60 s (plain moto)")
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

    print("== reload: SIGHUP -> \"Reload applied.\" logged, 1000 schedules (plain moto)")
    config = write(os.path.join(tmp, "big.toml"), many_schedules(1000))
    log = os.path.join(tmp, "big.log")
    proc = start_daemon(config, creds, tmp, log)
    rss, _ = proc_stats(proc.pid)
    times = []
    for round_ in range(3):
        write(config, many_schedules(1000, extra=f"max_lateness = \"{round_ + 2}h\"\n"))
        seen = sum(1 for e in events(log) if e.get("message") == "Reload applied.")
        sent = time.time()
        proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            applied = [e for e in events(log) if e.get("message") == "Reload applied."]
            if len(applied) > seen:
                break
            time.sleep(0.005)
        else:
            times.append(None)
            continue
        # The daemon's own timestamp of "Reload applied.", from the instant the signal was sent.
        times.append((log_time(applied[seen]) - sent) * 1000)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
    print(f"   {', '.join('no reload in 120 s' if t is None else f'{t:.0f}' for t in times)} ms "
          f"(signal -> the daemon's timestamp on \"Reload applied.\"; [aws] and regions unchanged, so clients "
          f"and the region check are reused); resident memory with 1000 schedules {rss / 1024:.1f} MiB")


REPLICAS_LEASE_S = 20  # offhours' default [state] lease: the config has no `lease` line
REPLICAS_ROUNDS = 3
REPLICAS_IDLE_S = 120
HOURS_PER_MONTH = 730
# DynamoDB on-demand prices in us-east-1, USD per million request units.
USD_PER_MILLION_WRU = 0.625
USD_PER_MILLION_RRU = 0.125


def private_moto(tmp):
    """A moto of the section's own, serving one request at a time (DynamoDB's conditional
    writes are atomic only so), started as tests/it/support.rs's PrivateMoto does; it
    exits by itself when this process goes away. Returns (process, endpoint)."""
    port_file, log = os.path.join(tmp, "replicas-moto.port"), os.path.join(tmp, "replicas-moto.log")
    python, server = os.path.join(ROOT, ".venv", "bin", "python"), os.path.join(ROOT, "tests", "moto", "server.py")
    proc = subprocess.Popen([python, server, "--single-threaded", "--port-file", port_file],
                            stdout=subprocess.DEVNULL, stderr=open(log, "w"))
    deadline = time.monotonic() + 30
    while not (os.path.exists(port_file) and open(port_file).read().strip()):
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            with open(log) as f:
                raise SystemExit(f"the single-threaded moto did not start:\n{f.read()[-2000:]}")
        time.sleep(0.05)
    return proc, f"http://127.0.0.1:{open(port_file).read().strip()}"


class Replica:
    """One `offhours run` on the shared table: a state directory of its own (kept across
    restarts), a log per start."""

    def __init__(self, name, config, creds, tmp, endpoint):
        self.name, self.config, self.creds, self.tmp, self.endpoint = name, config, creds, tmp, endpoint
        self.state = os.path.join(tmp, f"state-replica-{name}")
        self.starts = 0
        self.proc = None
        self.log = None

    def start(self):
        self.starts += 1
        self.log = os.path.join(self.tmp, f"replica-{self.name}-{self.starts}.log")
        self.proc = subprocess.Popen([BIN, "run", "--config", self.config, "--state-dir", self.state,
                                      "--log-format", "json"],
                                     env=env_for(self.creds, self.tmp, self.endpoint), stdout=subprocess.DEVNULL,
                                     stderr=open(self.log, "w"))
        deadline = time.monotonic() + 60
        while not any(e.get("message") == "Daemon started." for e in events(self.log)):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                with open(self.log) as f:
                    tail = f.read()[-2000:]
                raise SystemExit(f"replica {self.name} did not start (exit {self.proc.poll()}):\n{tail}")
            time.sleep(0.01)

    def role(self):
        """What the heartbeat says: "leader (fence N)", "standby: ...", or "" (none yet)."""
        try:
            with open(os.path.join(self.state, "heartbeat")) as f:
                return json.load(f).get("role") or ""
        except (OSError, ValueError):
            return ""

    def wait_role(self, prefix, since, timeout=60):
        """Seconds from the monotonic instant `since` until the heartbeat's role starts
        with `prefix`; None if not within `timeout`."""
        while not self.role().startswith(prefix):
            if time.monotonic() - since > timeout:
                return None
            time.sleep(0.01)
        return time.monotonic() - since

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def item_bytes(item):
    """A DynamoDB item's size as billed: attribute names plus values (a number takes
    about one byte per two significant digits, plus one)."""
    size = 0
    for name, value in item.items():
        size += len(name.encode())
        if "S" in value:
            size += len(value["S"].encode())
        elif "N" in value:
            digits = value["N"].lstrip("-").replace(".", "").strip("0")
            size += (len(digits) + 1) // 2 + 1
        else:  # BOOL, NULL
            size += 1
    return size


def bench_replicas(tmp):
    lease, every = REPLICAS_LEASE_S, REPLICAS_LEASE_S / 4
    moto_proc, endpoint = private_moto(tmp)
    replicas = []
    try:
        creds = account(endpoint)
        config = write(os.path.join(tmp, "replicas.toml"),
                       'regions = ["eu-west-1"]\n[state]\nbackend = "dynamodb"\ntable = "offhours-state"\n'
                       '[schedules.bench]\nstart = "0 7 1 1 *"\nstop = "0 20 1 1 *"\n')
        init = subprocess.run([BIN, "init-state", "--config", config], env=env_for(creds, tmp, endpoint),
                              capture_output=True, text=True)
        if init.returncode != 0:
            raise SystemExit(f"init-state failed (exit {init.returncode}): {init.stderr.strip()}")
        print(f"== two replicas on one DynamoDB table (a moto of their own, one request at a time), default lease "
              f"{lease} s: renewed (leader) and read (standby) every {every:g} s")
        a, b = (Replica(name, config, creds, tmp, endpoint) for name in ("a", "b"))
        replicas = [a, b]
        a.start()
        if a.wait_role("leader", time.monotonic()) is None:
            raise SystemExit(f"replica a did not lead within 60 s: {a.role()!r}")

        def start_standby(r, stagger=True):
            """Starts `r` (stagger: at a random point of the leader's renewal cycle; its
            reads keep that phase) and waits for it to stand by."""
            if stagger:
                time.sleep(random.uniform(0, every))
            r.start()
            if r.wait_role("standby", time.monotonic()) is None:
                raise SystemExit(f"replica {r.name} is not standing by: {r.role()!r}")

        start_standby(b)
        leader, standby = a, b

        print(f"== takeover after kill -9 of the leader, {REPLICAS_ROUNDS} rounds: each kill at random 0 to "
              f"{every:g} s after the standby stands by; the killed one restarted as a standby after a random 0 to "
              f"{every:g} s")
        print(f"   the standby takes over at its first read a full lease after its first read of the last renewal: "
              f"expected {lease} to {lease + every:g} s after that renewal, {lease - every:g} to {lease + every:g} s "
              f"after the kill (a renewal: UpdateItem, or the PutItem that took the lease; reads: GetItem)")
        print(f"   {'round':>5} {'killed':>6}  {'kill -> other leads s':>21} {'renewal before kill s':>21} "
              f"{'renewal -> next read s':>22} {'renewal -> other leads s':>24}")
        kills = []
        for round_ in range(1, REPLICAS_ROUNDS + 1):
            time.sleep(random.uniform(0, every))
            killed_unix, killed = time.time(), time.monotonic()
            leader.proc.kill()
            leader.proc.wait()
            # A renewal sent in the instant between the two clocks' readings and the
            # kill still counts: moto got it from the process before it died.
            dead_unix = time.time()
            took = standby.wait_role("leader", killed)
            if took is None:
                print(f"   {round_:>5} {leader.name:>6}  no takeover within 60 s ({standby.name}: {standby.role()!r})")
                break
            kills.append(took)
            log = moto("call-log", creds, endpoint)
            writes = [t for t, op in log if op in ("UpdateItem", "PutItem") and t <= dead_unix]
            reads = [t for t, op in log if op == "GetItem" and writes and t > writes[-1]]
            if writes and reads:
                renewal = writes[-1]
                print(f"   {round_:>5} {leader.name:>6}  {took:>21.2f} {killed_unix - renewal:>21.2f} "
                      f"{reads[0] - renewal:>22.2f} {killed_unix + took - renewal:>24.2f}")
            else:
                print(f"   {round_:>5} {leader.name:>6}  {took:>21.2f} (no renewal or read in moto's call log)")
            start_standby(leader)
            leader, standby = standby, leader
        if kills:
            print(f"   median kill -> other leads: {statistics.median(kills):.2f} s (min {min(kills):.2f}, max "
                  f"{max(kills):.2f}); bound: lease {lease} s + a read interval {every:g} s = {lease + every:g} s")

        print(f"== takeover after a clean stop (SIGTERM: the lease is released), {REPLICAS_ROUNDS} rounds, each at "
              f"random 0 to {every:g} s after the standby stands by (expected within one read interval, {every:g} s)")
        print(f"   {'round':>5} {'stopped':>7}  {'SIGTERM -> released s':>21} {'SIGTERM -> other leads s':>24} "
              f"{'SIGTERM -> exit s':>17}")
        stops = []
        for round_ in range(1, REPLICAS_ROUNDS + 1):
            time.sleep(random.uniform(0, every))
            sent_unix, sent = time.time(), time.monotonic()
            leader.proc.send_signal(signal.SIGTERM)
            took = exited = None
            while (took is None or exited is None) and time.monotonic() - sent < 60:
                if took is None and standby.role().startswith("leader"):
                    took = time.monotonic() - sent
                if exited is None and leader.proc.poll() is not None:
                    exited = time.monotonic() - sent
                time.sleep(0.01)
            released = [e for e in events(leader.log) if e.get("message") == "Lease released."]
            released_s = f"{log_time(released[0]) - sent_unix:.2f}" if released else "not logged"
            exited_s = "still running" if exited is None else f"{exited:.2f}"
            if took is None:
                print(f"   {round_:>5} {leader.name:>7}  {released_s:>21} no takeover within 60 s; exit {exited_s}")
                break
            stops.append(took)
            print(f"   {round_:>5} {leader.name:>7}  {released_s:>21} {took:>24.2f} {exited_s:>17}")
            leader.proc.wait(timeout=60)
            # The stop's own random instant already falls anywhere between two reads.
            start_standby(leader, stagger=False)
            leader, standby = standby, leader
        if stops:
            print(f"   median SIGTERM -> other leads: {statistics.median(stops):.2f} s (min {min(stops):.2f}, max "
                  f"{max(stops):.2f})")

        # Idle: neither replica fires; the calls are the lease's own.
        time.sleep(1)
        cpu0 = {r.name: proc_stats(r.proc.pid)[1] for r in replicas}
        calls0, t0 = moto("calls", creds, endpoint), time.time()
        time.sleep(REPLICAS_IDLE_S)
        calls1, t1 = moto("calls", creds, endpoint), time.time()
        cpu1 = {r.name: proc_stats(r.proc.pid)[1] for r in replicas}
        window = t1 - t0
        delta = {op: n - calls0.get(op, 0) for op, n in calls1.items() if n - calls0.get(op, 0)}
        spacing = {}
        for op in ("UpdateItem", "GetItem"):
            times = [t for t, o in moto("call-log", creds, endpoint) if o == op and t0 <= t < t1]
            spacing[op] = statistics.median(y - x for x, y in zip(times, times[1:])) if len(times) > 1 else None
        print(f"== idle: both replicas over {window:.1f} s (leader {leader.name}, standby {standby.name}); heartbeats: "
              f"{leader.name} {leader.role()!r}, {standby.name} {standby.role()!r}")
        print(f"   DynamoDB calls by operation (moto's counter): "
              f"{', '.join(f'{op} {n}' for op, n in sorted(delta.items())) or 'none'}")
        ddb = client(creds, "dynamodb", "eu-west-1", endpoint)
        item = ddb.get_item(TableName="offhours-state", Key={"pk": {"S": "lease"}, "sk": {"S": "lease"}},
                            ConsistentRead=True).get("Item", {})
        size = item_bytes(item)
        print(f"   the lease item: about {size} bytes (a write under 1 KB is 1 WRU; a consistent read under 4 KB "
              f"is 1 RRU)")
        total = 0.0
        for who, op, unit, price in (("leader", "UpdateItem", "WRU", USD_PER_MILLION_WRU),
                                     ("standby", "GetItem", "RRU", USD_PER_MILLION_RRU)):
            n = delta.get(op, 0)
            hourly = n * 3600 / window
            monthly = hourly * HOURS_PER_MONTH
            usd = monthly * price / 1e6
            total += usd
            gap = f"one every {spacing[op]:.2f} s (median)" if spacing[op] else "no spacing"
            print(f"   {who:<7} {op} {n} in {window:.1f} s, {gap}: {hourly:.0f} an hour, {monthly:,.0f} a month "
                  f"({HOURS_PER_MONTH} h), {monthly / 1e6:.3f} million {unit} = {usd:.3f} USD a month at "
                  f"{price} USD per million {unit} (on-demand, us-east-1)")
        other = {op: n for op, n in delta.items() if op not in ("UpdateItem", "GetItem")}
        if other:
            print(f"   other calls in the window (not priced above): {other}")
        print(f"   both: {total:.3f} USD a month ({total * 12:.2f} USD a year); each further standby adds the "
              f"standby's figure")
        for r in (leader, standby):
            rss, _ = proc_stats(r.proc.pid)
            role = "leader" if r is leader else "standby"
            print(f"   replica {r.name} ({role}): resident memory {rss / 1024:.1f} MiB; CPU over the idle "
                  f"{window:.0f} s: {(cpu1[r.name] - cpu0[r.name]) * 1000:.0f} ms")
        for r in replicas:
            r.proc.send_signal(signal.SIGTERM)
        for r in replicas:
            r.proc.wait(timeout=60)
    finally:
        for r in replicas:
            r.stop()
        moto_proc.kill()
        moto_proc.wait()


def main():
    global BIN
    parser = argparse.ArgumentParser(description="offhours benchmarks against moto (see the module's doc)")
    parser.add_argument("--bin", help="the offhours binary to measure (default: build target/release/offhours)")
    parser.add_argument("--latency-ms", type=float, default=80.0, help="delay the proxy adds to each AWS call")
    parser.add_argument("--only", choices=("apply", "kinds", "suggest", "accounts", "plain", "daemon", "replicas"),
                        help="run one section: apply (with latency), kinds (every kind with latency), suggest (1,000 instances, with latency), "
                             "accounts (20 x 2 x 25, 100 x 2 x 5, 500 x 1 x 2 member accounts x regions x "
                             "instances and an organization of 300 x 1 x 2, each against one account with as many, "
                             "with latency), plain (apply on plain "
                             "moto), daemon, replicas (two on a DynamoDB lease, on a moto of their own)")
    parser.add_argument("--runs", type=int, default=ACCOUNTS_RUNS,
                        help=f"accounts section: runs of each layout and baseline (default {ACCOUNTS_RUNS})")
    parser.add_argument("--layouts", type=parse_layouts, default=ACCOUNTS_LAYOUTS,
                        help="accounts section: member accounts x regions x instances per account and region, "
                             "comma-separated (default " + ",".join("x".join(map(str, layout)) for layout in
                                                                     ACCOUNTS_LAYOUTS) + ")")
    parser.add_argument("--max-calls-in-flight", type=int,
                        help="accounts section: [aws] max_calls_in_flight in the files (default: offhours' own)")
    parser.add_argument("--shards", type=int, default=os.cpu_count() or 1,
                        help="accounts section: motos the accounts and regions are spread over (default: one per core)")
    args = parser.parse_args()
    if args.shards < 1:
        parser.error("--shards: at least 1")
    MAX_CALLS_IN_FLIGHT[0] = args.max_calls_in_flight
    if args.bin:
        BIN = os.path.abspath(args.bin)
    else:
        print("==> cargo build --release", file=sys.stderr)
        subprocess.run(["cargo", "build", "--release", "--locked", "--quiet"], cwd=ROOT, check=True)
    print(f"==> {BIN}", file=sys.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        if args.only in (None, "apply"):
            bench_latency(tmp, args.latency_ms)
        if args.only in (None, "kinds"):
            bench_kinds(tmp, args.latency_ms)
        if args.only in (None, "suggest"):
            bench_suggest(tmp, args.latency_ms)
        if args.only in (None, "accounts"):
            bench_accounts(tmp, args.latency_ms, args.runs, args.layouts, args.shards)
        if args.only in (None, "plain"):
            bench_apply(tmp)
        if args.only in (None, "daemon"):
            bench_daemon(tmp)
        if args.only in (None, "replicas"):
            bench_replicas(tmp)


if __name__ == "__main__":
    main()
