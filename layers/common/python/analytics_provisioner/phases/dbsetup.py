"""DbSetup: the runbook's "Create analytics databases and user", "Create migration user" and
"Create edxapp read-only user", over pymysql, once the analytics RDS instance is available.

Passwords we generate are stored in Secrets Manager before any server sees them and reused on every
re-run, which sets them again (ALTER USER); ``options.rotate_generated_passwords`` makes new ones.
The migration user is the edxapp MySQL user: its credentials stay in the deployer's secret.
"""

from .. import mysql
from ..aws import rds, secrets
from ..aws.errors import aws_call
from ..deployment import Deployment
from ..errors import InputError, PreflightError
from ..plan import Change, create, keep, modify

ANALYTICS_DATABASES = ("dashboard", "analytics-api", "reports")
CHARSET = "utf8"  # the runbook's "default character set utf8"
ANALYTICS_USER = "analytics"
EDXAPP_RO_USER = "edxapp_ro"
LOGIN_KEYS = ("host", "port", "username", "password")


def run(state: dict) -> dict:
    deployment = Deployment.from_state(state["deployment"])
    database = state["database"]
    with aws_call("read the database credentials"):
        analytics_server = analytics_master(deployment, database)
        edxapp_server = edxapp_admin(deployment)
        migration = migration_login(deployment)

    analytics_secret_arn, analytics_password = generated_password(deployment, deployment.names.analytics_db_secret, ANALYTICS_USER, analytics_server)
    with mysql.session(analytics_server) as cursor:
        mysql.apply(cursor, *analytics_server_objects(analytics_password, migration))

    edxapp_ro_secret_arn, edxapp_ro_password = generated_password(deployment, deployment.names.edxapp_ro_db_secret, EDXAPP_RO_USER, edxapp_server)
    with mysql.session(edxapp_server) as cursor:
        mysql.apply(cursor, *edxapp_server_objects(edxapp_ro_password))

    return {
        "analytics_db_secret_arn": analytics_secret_arn,
        "edxapp_ro_secret_arn": edxapp_ro_secret_arn,
        "migration_user": migration[0],
        "databases": list(ANALYTICS_DATABASES),
        "analytics_host": analytics_server.host,
        "edxapp_host": edxapp_server.host,
    }


def analytics_server_objects(analytics_password: str, migration: tuple[str, str], databases: tuple[str, ...] = ANALYTICS_DATABASES,
                             analytics_user: str = ANALYTICS_USER) -> tuple[list[mysql.Database], list[mysql.User]]:
    """Runbook: "Create analytics databases and user" and "Create migration user" (the edxapp user's
    name and password, ALL on the same databases)."""
    migration_name, migration_password = migration
    return (
        [mysql.Database(name, CHARSET) for name in databases],
        [mysql.User(analytics_user, analytics_password, all_on=databases), mysql.User(migration_name, migration_password, all_on=databases)],
    )


def edxapp_server_objects(password: str, user: str = EDXAPP_RO_USER) -> tuple[list[mysql.Database], list[mysql.User]]:
    """Runbook: "Create edxapp read-only user": SELECT on everything, and nothing more."""
    return [], [mysql.User(user, password, select_everything=True, exact_privileges=True)]


def analytics_master(deployment: Deployment, database: dict) -> mysql.Server:
    master = secrets.read_json(database["master_secret_arn"], deployment.region, ("username", "password"), "the analytics RDS master secret")
    return mysql.Server(database["endpoint"], int(database["port"]), master["username"], master["password"],
                        label=f"the analytics RDS {database['db_instance_id']}")


def edxapp_admin(deployment: Deployment) -> mysql.Server:
    secret_id = deployment.edxapp.db_admin_secret_id
    admin = secrets.read_opted_in(secret_id, deployment.region, deployment.deployment_id, LOGIN_KEYS, "edxapp.db_admin_secret_id")
    if not str(admin["port"]).isdigit():
        raise PreflightError(f"edxapp.db_admin_secret_id: the port in secret {secret_id!r} is not a number; store e.g. \"3306\"")
    return mysql.Server(admin["host"], int(admin["port"]), admin["username"], admin["password"],
                        label=f"the edxapp database server (admin secret {secret_id!r})")


def migration_login(deployment: Deployment) -> tuple[str, str]:
    """(name, password) of the edxapp MySQL user, checked before anything is created."""
    secret_id = deployment.edxapp.migration_secret_id
    login = secrets.read_opted_in(secret_id, deployment.region, deployment.deployment_id, ("username", "password"), "edxapp.migration_secret_id")
    try:
        mysql.check_user_name(login["username"])
    except InputError as exc:
        raise PreflightError(f"edxapp.migration_secret_id: secret {secret_id!r}: {exc}") from None
    if login["username"] == ANALYTICS_USER:
        raise PreflightError(f"edxapp.migration_secret_id: the edxapp MySQL user cannot be {ANALYTICS_USER!r}, the analytics user's name")
    return login["username"], login["password"]


def generated_password(deployment: Deployment, secret_name: str, username: str, server: mysql.Server) -> tuple[str, str]:
    """(secret ARN, password) for a user whose password we generate: the stored one, or a new one,
    stored before it is used. The secret holds what the render phase writes into the creds files."""
    region, owner = deployment.region, deployment.deployment_id
    with aws_call(f"read secret {secret_name}"):
        arn = secrets.arn_if_ours(secret_name, region, owner)
        stored = secrets.read_json(arn, region) if arn else {}
    password = None if deployment.options.rotate_generated_passwords else stored.get("password")
    login = {"host": server.host, "port": str(server.port), "username": username, "password": password or mysql.new_password()}
    if login != stored:
        arn = secrets.put_json(secret_name, login, region, owner, f"MySQL user {username} on {server.label} (analytics-provisioner)")
    return arn, login["password"]


# The plan: from names only; it never logs in to a database -----------------------------------------
NOT_LOGGED_IN = "would ensure (the plan does not log in)"


def plan(deployment: Deployment) -> list[Change]:
    names, region = deployment.names, deployment.region
    new_server = rds.db_instance(names.analytics_rds, region) is None
    analytics_server, edxapp_server = f"analytics RDS {names.analytics_rds}", f"edxapp RDS {deployment.edxapp.db_instance_id}"
    migration_user = migration_login(deployment)[0]  # read as Validate reads it; only the name is kept

    def ensured(kind: str, name: str, what: str, on_new_server: bool) -> Change:
        return create(kind, name, f"{what} (on the new server)") if on_new_server else modify(kind, name, f"{what}: {NOT_LOGGED_IN}")

    databases, server_objects = ANALYTICS_DATABASES, []
    server_objects += [ensured("MySQL database", f"{db} on {analytics_server}", f"character set {CHARSET}", new_server) for db in databases]
    server_objects += [
        ensured("MySQL user", f"{ANALYTICS_USER} on {analytics_server}", f"ALL on {', '.join(databases)}", new_server),
        ensured("MySQL user", f"{migration_user} on {analytics_server}", f"the edxapp migration user (edxapp.migration_secret_id), ALL on {', '.join(databases)}", new_server),
        ensured("MySQL user", f"{EDXAPP_RO_USER} on {edxapp_server}", "SELECT on everything, nothing more", False),
    ]
    rotate = deployment.options.rotate_generated_passwords
    for secret_name, user in ((names.analytics_db_secret, ANALYTICS_USER), (names.edxapp_ro_db_secret, EDXAPP_RO_USER)):
        described = secrets.describe(secret_name, region)
        if described is None:
            server_objects.append(create("secret", secret_name, f"the generated password of MySQL user {user}"))
        elif rotate or described.get("DeletedDate"):
            server_objects.append(modify("secret", secret_name, f"a new password of MySQL user {user} (options.rotate_generated_passwords)" if rotate
                                         else "scheduled for deletion: restored"))
        else:
            server_objects.append(keep("secret", secret_name, f"holds the password of MySQL user {user}, reused"))
    return server_objects
