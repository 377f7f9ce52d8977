"""Teardown's first step, DbSetup's partner: drop the MySQL users the deployment created, on both
servers. It runs in the VPC like DbSetup (its own function, DbTeardownFunction) and logs in the same
way: the edxapp admin secret (opted in by its owner), the analytics RDS's master secret.

Only users the deployment's records name are dropped (phases/dbsetup: ``db/edxapp-ro`` for the
read-only user on the edxapp server, ``db/analytics-g<N>`` for the analytics user and the migration
user on that generation's analytics RDS). No record, or a record that is not ours, means no user of
ours: nothing is dropped. It runs before the secrets holding the records are scheduled for deletion,
so a repeated teardown finds them scheduled and has nothing left to do. The edxapp server stays, so
its user is what matters; the analytics RDS is deleted next, but its final snapshot would keep the
users, so they go first when the instance is available (otherwise they go with it).
"""

from ... import mysql
from ...aws import rds, secrets
from ...aws import tags as tagging
from ...aws.errors import aws_call
from ...errors import ProvisionerError
from ...naming import Names
from .. import dbsetup
from .request import TeardownRequest


def run(request: TeardownRequest) -> dict:
    deployment = request.deployment
    names = deployment.names
    dropped, kept_with_instance = [], []
    with aws_call("read the records of the MySQL users"):
        read_only = record(names.edxapp_ro_db_secret, deployment)
    if read_only:
        with aws_call("read the edxapp admin secret"):
            edxapp_server = dbsetup.edxapp_admin(deployment)
        dropped += drop(edxapp_server, [read_only["username"]])
    for generation in range(1, deployment.options.rds_generation + 1):
        with aws_call("read the records of the MySQL users"):
            analytics = record(names.analytics_db_secret_of(generation), deployment)
        if not analytics:
            continue
        identifier = Names(deployment.deployment_id, generation).analytics_rds
        with aws_call(f"find the analytics RDS {identifier}"):
            server = analytics_server(deployment, identifier)
        users = [analytics["username"], *migration_user(deployment)]
        if server is None:
            kept_with_instance += [f"{user} on {identifier}" for user in users]
        else:
            dropped += drop(server, users)
    return {"dropped": dropped, "left_to_the_instance_deletion": kept_with_instance}


def record(secret_name: str, deployment) -> dict | None:
    """The deployment's record of a server's users, or None: absent, someone else's, or scheduled for
    deletion (a teardown dropped its users before that)."""
    described = secrets.describe(secret_name, deployment.region)
    if described is None or described.get("DeletedDate"):
        return None
    if not tagging.belongs_to(tagging.from_list(described.get("Tags")), deployment.deployment_id):
        return None
    found = secrets.read_json(described["ARN"], deployment.region, ("username",), f"secret {secret_name}")
    mysql.check_user_name(found["username"])
    return found


def analytics_server(deployment, identifier: str) -> mysql.Server | None:
    """Our analytics RDS instance's server as its master, or None when it is gone or not available."""
    instance = rds.db_instance(identifier, deployment.region)
    if instance is None or not rds.instance_ready(instance):
        return None
    if not tagging.belongs_to(tagging.from_list(instance.get("TagList")), deployment.deployment_id):
        return None
    endpoint, master_secret_arn = instance["Endpoint"], rds.master_secret_arn(instance)
    if master_secret_arn is None:  # Database adopts no instance without one: DbSetup never logged in there
        return None
    return dbsetup.analytics_master(deployment, identifier, endpoint["Address"], endpoint["Port"], master_secret_arn)


def migration_user(deployment) -> list[str]:
    """The migration user DbSetup created on the analytics RDS; none when its secret is no longer
    readable (the instance is deleted next, and the user with it)."""
    try:
        with aws_call("read the migration secret"):
            name, _ = dbsetup.migration_login(deployment)
    except ProvisionerError:
        return []
    return [name]


def drop(server: mysql.Server, users: list[str]) -> list[str]:
    with mysql.session(server) as cursor:
        for user in users:
            mysql.drop_user(cursor, user)
    return [f"{user} on {server.label}" for user in users]
