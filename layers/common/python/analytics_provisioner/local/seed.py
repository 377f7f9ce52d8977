"""Create, in the emulator, what the runbook assumes already exists next to an Open edX site.

From the input: the edxapp RDS instance (pointing at the local MySQL), the admin and migration
secrets, the tracking-logs bucket when the input names one, the grades bucket with a policy of its
own, the edxapp IAM user; the operator's rule that lets the database-setup function into the edxapp
RDS's own group (README, "Deploying"); and AWS's own defaults that moto leaves out (the default VPC's route to
its internet gateway). The instance, the secrets and the buckets are opted in for the input's
deployment as their owner would (README, "Trust model"): the tag ``analytics-provisioner:allow``
lists its id, added to what the tag already lists.
"""

import json
import secrets as random_secrets

from ..aws import secrets as secrets_manager
from ..aws import tags as tagging
from ..aws.ec2 import IngressRule, ingress_rules
from ..naming import TAG_ALLOW
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
    deployment_id = document.get("deployment_id")
    allowed = deployment_id if isinstance(deployment_id, str) and deployment_id.strip() else tagging.EVERY_DEPLOYMENT[-1]
    seeded = {"internet_gateway": _default_vpc_internet_route(emulator)}
    if edxapp.get("db_instance_id"):
        seeded["edxapp_db"] = _edxapp_db(emulator, edxapp["db_instance_id"], allowed)
        _admit_db_setup(emulator, edxapp["db_instance_id"])
    if edxapp.get("db_admin_secret_id"):  # created only with a MySQL server behind it; opted in whenever it exists
        _secret(emulator, edxapp["db_admin_secret_id"], _edxapp_admin(emulator, edxapp.get("db_instance_id")), allowed)
    if edxapp.get("migration_secret_id"):
        _secret(
            emulator, edxapp["migration_secret_id"], {"username": EDXAPP_DB_USER, "password": random_secrets.token_urlsafe(18)}, allowed
        )
    if edxapp.get("tracking_logs_bucket"):
        _bucket(emulator, edxapp["tracking_logs_bucket"], allowed)
    if edxapp.get("grades_bucket"):
        _grades_bucket(emulator, edxapp["grades_bucket"], allowed)
    if edxapp.get("aws_user_arn"):
        _iam_user(emulator, edxapp["aws_user_arn"].rsplit("/", 1)[-1])
    return seeded


# The edxapp admin login a plan's emulator stores: no server stands behind it, and a plan never logs in.
PLAN_ADMIN = {"username": "admin", "password": "never-used-by-a-plan"}  # nosec B105  # a placeholder, never a real credential


def seed_for_plan(emulator: Emulator, document: dict) -> dict:
    """``seed`` without a MySQL server (``local plan``): the admin secret holds a placeholder login."""
    seeded = seed(emulator, document)
    edxapp = document.get("edxapp", {})
    if edxapp.get("db_admin_secret_id") and emulator.mysql_admin is None:
        _secret(
            emulator,
            edxapp["db_admin_secret_id"],
            _edxapp_admin(emulator, edxapp.get("db_instance_id"), PLAN_ADMIN),
            document["deployment_id"],
        )
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
    main = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "association.main", "Values": ["true"]}])[
        "RouteTables"
    ][0]
    if not any(route.get("DestinationCidrBlock") == "0.0.0.0/0" for route in main["Routes"]):
        ec2.create_route(RouteTableId=main["RouteTableId"], DestinationCidrBlock="0.0.0.0/0", GatewayId=gateway)
    return gateway


def _opt_in(tags: dict[str, str], deployment_id: str) -> dict[str, str] | None:
    """The allow tag to set so that ``tags`` admit ``deployment_id``; None when they already do."""
    return None if tagging.allows(tags, deployment_id) else {TAG_ALLOW: tagging.allow_value(tags, deployment_id)}


def _edxapp_db(emulator: Emulator, identifier: str, deployment_id: str) -> str:
    rds = emulator.client("rds")
    found = rds.describe_db_instances(Filters=[{"Name": "db-instance-id", "Values": [identifier]}])["DBInstances"]
    if not found:
        found = [
            rds.create_db_instance(
                DBInstanceIdentifier=identifier,
                Engine="mysql",
                EngineVersion="8.0.39",
                DBInstanceClass="db.t3.medium",
                AllocatedStorage=50,
                MasterUsername="admin",
                MasterUserPassword=random_secrets.token_urlsafe(18),
                Port=3306,
            )["DBInstance"]
        ]
    opt_in = _opt_in(tagging.from_list(rds.list_tags_for_resource(ResourceName=found[0]["DBInstanceArn"])["TagList"]), deployment_id)
    if opt_in:
        rds.add_tags_to_resource(ResourceName=found[0]["DBInstanceArn"], Tags=tagging.as_list(opt_in))
    return identifier


def _admit_db_setup(emulator: Emulator, identifier: str) -> None:
    """The edxapp RDS's own (first) group admits the stack's DbSetup group on the RDS port."""
    group_id = emulator.parameters.get("DbSetupSecurityGroupId")
    if not group_id:
        return
    instance = emulator.client("rds").describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0]
    own = instance["VpcSecurityGroups"][0]["VpcSecurityGroupId"]
    rule = IngressRule.tcp(instance["Endpoint"]["Port"], group_id, "MySQL from the analytics-provisioner database-setup function")
    ec2 = emulator.client("ec2")
    if rule not in ingress_rules(ec2.describe_security_groups(GroupIds=[own])["SecurityGroups"][0]):
        ec2.authorize_security_group_ingress(GroupId=own, IpPermissions=[rule.permission()])


def _edxapp_admin(emulator: Emulator, identifier: str | None, admin: dict | None = None) -> dict | None:
    """The local server's admin login (or ``admin``) at the edxapp RDS endpoint (which leads to that server)."""
    admin = admin or emulator.mysql_admin
    if admin is None or not identifier:
        return admin
    endpoint = emulator.client("rds").describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0]["Endpoint"]
    return {**admin, "host": endpoint["Address"], "port": str(endpoint["Port"])}


def _secret(emulator: Emulator, name: str, value: dict | None, deployment_id: str) -> None:
    sm = emulator.client("secretsmanager")
    found = secrets_manager.describe(name, emulator.region)  # by name: ListSecrets lags (local/secrets_listing.py)
    if not found and value is None:
        return
    if not found:
        sm.create_secret(Name=name, SecretString=json.dumps(value), Tags=tagging.as_list({TAG_ALLOW: deployment_id}))
        return
    opt_in = _opt_in(tagging.from_list(found.get("Tags")), deployment_id)
    if opt_in:
        sm.tag_resource(SecretId=name, Tags=tagging.as_list(opt_in))


def _bucket(emulator: Emulator, name: str, deployment_id: str) -> None:
    s3 = emulator.client("s3")
    if name not in {bucket["Name"] for bucket in s3.list_buckets()["Buckets"]}:
        emulator.create_bucket(name)
    try:
        tags = tagging.from_list(s3.get_bucket_tagging(Bucket=name)["TagSet"])
    except s3.exceptions.ClientError:  # NoSuchTagSet
        tags = {}
    opt_in = _opt_in(tags, deployment_id)
    if opt_in:
        s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": tagging.as_list({**tags, **opt_in})})  # replaces the whole set


def _grades_bucket(emulator: Emulator, name: str, deployment_id: str) -> None:
    _bucket(emulator, name, deployment_id)
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
