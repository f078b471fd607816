"""Seeds a small demo fleet in moto: tagged instances in two regions."""

import os
import sys

import boto3

endpoint = os.environ["OFFHOURS_TEST_ENDPOINT"]
fleet = {
    "eu-west-1": [
        {"Name": "web-1", "Schedule": "office-hours"},
        {"Name": "web-2", "Schedule": "office-hours"},
        {"Name": "build-agent", "Schedule": "office-hours", "offhours:skip": "true"},
        {"Name": "asg-member", "Schedule": "office-hours", "aws:autoscaling:groupName": "web-asg"},
        {"Name": "prod-db"},
    ],
    "eu-central-1": [
        {"Name": "staging-api", "Schedule": "office-hours"},
        {"Name": "staging-worker", "Schedule": "office-hours"},
    ],
}
for region, instances in fleet.items():
    ec2 = boto3.client(
        "ec2",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id="demo",
        aws_secret_access_key="demo",
    )
    for tags in instances:
        ec2.run_instances(
            ImageId="ami-12c6146b",
            InstanceType="t3.micro",
            MinCount=1,
            MaxCount=1,
            TagSpecifications=[
                {"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}
            ],
        )
        print(f"    launched {tags['Name']:<15} in {region}  tags {tags}", file=sys.stderr)
