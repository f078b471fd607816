"""The AWS side of `make demo`, against the emulator (OFFHOURS_TEST_ENDPOINT).

  demo_seed.py seed                 create the demo fleet (printed as a table)
  demo_seed.py start-by-hand NAME   start a stopped instance as a person would, by its
                                    Name tag (what enforce puts back)
  demo_seed.py sizes                the Auto Scaling group's and the ECS service's sizes,
                                    scaling target and offhours' record tags
  demo_seed.py refuse-once ACTION ID CODE MESSAGE
                                    make the emulator answer the next ACTION on ID with
                                    that error (the test wrapper's fault hook), so that the
                                    demo can show a failure and its notice
"""

import json
import os
import sys
import urllib.request

import boto3

WEST, CENTRAL = "eu-west-1", "eu-central-1"


def client(service, region):
    # The daemon's key (demo.sh exports it): the emulator puts every key in one account.
    return boto3.client(
        service,
        endpoint_url=os.environ["OFFHOURS_TEST_ENDPOINT"],
        region_name=region,
        aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"],
    )


def show(kind, name, region, what):
    print(f"    {kind:<12} {name:<16} {region:<13} {what}")


def seed():
    # Instances of the `office-hours` schedule in two regions, and two it must leave alone.
    for region, name, itype, extra in [
        (WEST, "web-1", "t3.large", {}),
        (WEST, "web-2", "t3.large", {}),
        (WEST, "build-agent", "t3.large", {"offhours:skip": "true"}),
        (CENTRAL, "staging-api", "m5.large", {}),
        (WEST, "prod-web", "m5.large", None),
    ]:
        t = {"Name": name} if extra is None else {"Name": name, "Schedule": "office-hours", **extra}
        client("ec2", region).run_instances(
            ImageId="ami-12c6146b",
            InstanceType=itype,
            MinCount=1,
            MaxCount=1,
            TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in t.items()]}],
        )
        show("ec2", name, region, f"{itype}, tags " + ", ".join(f"{k}={v}" for k, v in t.items()))

    # The `backend` schedule: a DB instance, an Aurora cluster, an Auto Scaling group and
    # an ECS service under Application Auto Scaling.
    backend = [{"Key": "Schedule", "Value": "backend"}]
    rds_west = client("rds", WEST)
    rds_west.create_db_instance(
        DBInstanceIdentifier="dev-db",
        Engine="postgres",
        DBInstanceClass="db.m5.large",
        AllocatedStorage=20,
        MasterUsername="demo",
        MasterUserPassword="not-a-secret-1",
        Tags=backend,
    )
    show("rds", "dev-db", WEST, "postgres db.m5.large, Single-AZ")
    rds_central = client("rds", CENTRAL)
    # The cluster is the unit (tagged); its members are what it costs.
    rds_central.create_db_cluster(
        DBClusterIdentifier="reports",
        Engine="aurora-postgresql",
        MasterUsername="demo",
        MasterUserPassword="not-a-secret-1",
        Tags=backend,
    )
    for member in ["reports-1", "reports-2"]:
        rds_central.create_db_instance(
            DBInstanceIdentifier=member,
            DBClusterIdentifier="reports",
            Engine="aurora-postgresql",
            DBInstanceClass="db.r6g.large",
        )
    show("rds-cluster", "reports", CENTRAL, "aurora-postgresql, members reports-1 and reports-2 (db.r6g.large)")

    asg = client("autoscaling", WEST)
    asg.create_launch_configuration(LaunchConfigurationName="web", ImageId="ami-12c6146b", InstanceType="t3.large")
    asg.create_auto_scaling_group(
        AutoScalingGroupName="web-asg",
        LaunchConfigurationName="web",
        MinSize=1,
        MaxSize=4,
        DesiredCapacity=2,
        AvailabilityZones=["eu-west-1a"],
        Tags=[
            {
                "ResourceId": "web-asg",
                "ResourceType": "auto-scaling-group",
                "Key": "Schedule",
                "Value": "backend",
                "PropagateAtLaunch": False,
            }
        ],
    )
    show("asg", "web-asg", WEST, "min 1, max 4, desired 2 (t3.large)")

    ecs = client("ecs", WEST)
    ecs.create_cluster(clusterName="dev")
    ecs.register_task_definition(
        family="api", containerDefinitions=[{"name": "api", "image": "nginx", "memory": 128}]
    )
    ecs.create_service(
        cluster="dev",
        serviceName="api",
        taskDefinition="api",
        desiredCount=2,
        tags=[{"key": "Schedule", "value": "backend"}],
    )
    # Without holding this target too, Application Auto Scaling would scale the stopped
    # service back up to its minimum.
    client("application-autoscaling", WEST).register_scalable_target(
        ServiceNamespace="ecs",
        ResourceId="service/dev/api",
        ScalableDimension="ecs:service:DesiredCount",
        MinCapacity=1,
        MaxCapacity=4,
    )
    show("ecs", "dev/api", WEST, "desired 2; Application Auto Scaling target min 1, max 4")


def start_by_hand(name):
    for region in (WEST, CENTRAL):
        ec2 = client("ec2", region)
        found = ec2.describe_instances(Filters=[{"Name": "tag:Name", "Values": [name]}])
        for reservation in found["Reservations"]:
            for instance in reservation["Instances"]:
                out = ec2.start_instances(InstanceIds=[instance["InstanceId"]])
                change = out["StartingInstances"][0]
                print(
                    f"    StartInstances {change['InstanceId']} ({name}, {region}): "
                    f"{change['PreviousState']['Name']} -> {change['CurrentState']['Name']}"
                )
                return
    sys.exit(f"no instance named {name}")


def sizes():
    group = client("autoscaling", WEST).describe_auto_scaling_groups(AutoScalingGroupNames=["web-asg"])[
        "AutoScalingGroups"
    ][0]
    record = {t["Key"]: t["Value"] for t in group["Tags"]}.get("offhours:asg-sizes", "-")
    print(
        f"    asg web-asg: min {group['MinSize']}, max {group['MaxSize']}, desired {group['DesiredCapacity']}, "
        f"{len(group['Instances'])} instances; tag offhours:asg-sizes: {record}"
    )
    service = client("ecs", WEST).describe_services(cluster="dev", services=["api"], include=["TAGS"])["services"][0]
    record = {t["key"]: t["value"] for t in service.get("tags", [])}.get("offhours:ecs-desired", "-")
    print(f"    ecs dev/api: desired {service['desiredCount']}; tag offhours:ecs-desired: {record}")
    target = client("application-autoscaling", WEST).describe_scalable_targets(
        ServiceNamespace="ecs", ResourceIds=["service/dev/api"]
    )["ScalableTargets"][0]
    suspended = [k for k, v in (target.get("SuspendedState") or {}).items() if v]
    print(
        f"    its Application Auto Scaling target: min {target['MinCapacity']}, max {target['MaxCapacity']}, "
        f"suspended: {', '.join(suspended) or 'none'}"
    )


def refuse_once(action, resource, code, message):
    fault = {
        "access_key_id": os.environ["AWS_ACCESS_KEY_ID"],
        "action": action,
        "if_instance": resource,
        "status": 400,
        "code": code,
        "message": message,
        "count": 1,
        "protocol": "query",  # RDS's error shape
    }
    request = urllib.request.Request(
        os.environ["OFFHOURS_TEST_ENDPOINT"] + "/_offhours/faults",
        data=json.dumps(fault).encode(),
        headers={"Content-Type": "application/json"},
    )
    urllib.request.urlopen(request, timeout=10).read()


if __name__ == "__main__":
    if sys.argv[1:] == ["seed"]:
        seed()
    elif len(sys.argv) == 3 and sys.argv[1] == "start-by-hand":
        start_by_hand(sys.argv[2])
    elif sys.argv[1:] == ["sizes"]:
        sizes()
    elif len(sys.argv) == 6 and sys.argv[1] == "refuse-once":
        refuse_once(*sys.argv[2:])
    else:
        sys.exit(__doc__)
