"""Create, in the emulator, what the runbook assumes already exists next to an Open edX site.

From the input: the edxapp RDS instance (pointing at the local MySQL), the admin and migration
secrets, the tracking-logs bucket when the input names one, the grades bucket with a policy of its
own, the edxapp IAM user; and AWS's own defaults that moto leaves out (the default VPC's route to
its internet gateway).
"""

import json
import secrets as random_secrets

from .emulator import Emulator

EDXAPP_DB_USER = "edxapp001"
EXISTING_GRADES_STATEMENT = {
    "Sid": "ExistingLmsWrite",
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
    "Action": "s3:PutObject",
    "Resource": "arn:aws:s3:::{bucket}/*",
}


def seed(emulator: Emulator, document: dict) -> dict:
    """Idempotent: seeding twice for the same input changes nothing. Returns what was seeded."""
    edxapp = document.get("edxapp", {})
    seeded = {"internet_gateway": _default_vpc_internet_route(emulator)}
    if edxapp.get("db_instance_id"):
        seeded["edxapp_db"] = _edxapp_db(emulator, edxapp["db_instance_id"])
    if edxapp.get("db_admin_secret_id") and emulator.mysql_admin:
        _secret(emulator, edxapp["db_admin_secret_id"], emulator.mysql_admin)
    if edxapp.get("migration_secret_id"):
        _secret(emulator, edxapp["migration_secret_id"], {"username": EDXAPP_DB_USER, "password": random_secrets.token_urlsafe(18)})
    if edxapp.get("tracking_logs_bucket"):
        _bucket(emulator, edxapp["tracking_logs_bucket"])
    if edxapp.get("grades_bucket"):
        _grades_bucket(emulator, edxapp["grades_bucket"])
    if edxapp.get("aws_user_arn"):
        _iam_user(emulator, edxapp["aws_user_arn"].rsplit("/", 1)[-1])
    return seeded


def _default_vpc_internet_route(emulator: Emulator) -> str:
    ec2 = emulator.client("ec2")
    vpc_id = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    attached = ec2.describe_internet_gateways(Filters=[{"Name": "attachment.vpc-id", "Values": [vpc_id]}])["InternetGateways"]
    if attached:
        gateway = attached[0]["InternetGatewayId"]
    else:
        gateway = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        ec2.attach_internet_gateway(InternetGatewayId=gateway, VpcId=vpc_id)
    main = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "association.main", "Values": ["true"]}])["RouteTables"][0]
    if not any(route.get("DestinationCidrBlock") == "0.0.0.0/0" for route in main["Routes"]):
        ec2.create_route(RouteTableId=main["RouteTableId"], DestinationCidrBlock="0.0.0.0/0", GatewayId=gateway)
    return gateway


def _edxapp_db(emulator: Emulator, identifier: str) -> str:
    rds = emulator.client("rds")
    if not rds.describe_db_instances(Filters=[{"Name": "db-instance-id", "Values": [identifier]}])["DBInstances"]:
        rds.create_db_instance(
            DBInstanceIdentifier=identifier, Engine="mysql", EngineVersion="8.0.39", DBInstanceClass="db.t3.medium",
            AllocatedStorage=50, MasterUsername="admin", MasterUserPassword=random_secrets.token_urlsafe(18), Port=3306,
        )
    return identifier


def _secret(emulator: Emulator, name: str, value: dict) -> None:
    sm = emulator.client("secretsmanager")
    if sm.list_secrets(Filters=[{"Key": "name", "Values": [name]}])["SecretList"]:
        return
    sm.create_secret(Name=name, SecretString=json.dumps(value))


def _bucket(emulator: Emulator, name: str) -> None:
    existing = {bucket["Name"] for bucket in emulator.client("s3").list_buckets()["Buckets"]}
    if name not in existing:
        emulator.create_bucket(name)


def _grades_bucket(emulator: Emulator, name: str) -> None:
    _bucket(emulator, name)
    statement = json.loads(json.dumps(EXISTING_GRADES_STATEMENT).replace("{bucket}", name))
    policy = {"Version": "2012-10-17", "Statement": [statement]}
    s3 = emulator.client("s3")
    try:
        json.loads(s3.get_bucket_policy(Bucket=name)["Policy"])
    except s3.exceptions.from_code("NoSuchBucketPolicy"):
        s3.put_bucket_policy(Bucket=name, Policy=json.dumps(policy))


def _iam_user(emulator: Emulator, name: str) -> None:
    iam = emulator.client("iam")
    try:
        iam.get_user(UserName=name)
    except iam.exceptions.NoSuchEntityException:
        iam.create_user(UserName=name)
