"""Constants and helpers shared by tests (import as ``from testkit import ...``)."""

import json
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EVENTS = REPO / "events"
MYSQL_URL_VARIABLE = "ANALYTICS_PROVISIONER_TEST_MYSQL"  # unset: each test process starts a throwaway MariaDB
REGION = "us-east-1"
# The states an execution of statemachine/provision.asl.json passes when Validate refuses its input
VALIDATE_FAILED_PATH = [
    "Take deployment lock",
    "Last run's functions may still run?",
    "Lock taken",
    "Validate input",
    "Validate failed",
    "Write failure report",
    "Release deployment lock (failed)",
    "Deployment failed",
]
# The edxapp admin login a unit account's secret holds (no MySQL behind it: seed() fills it only for a server).
EDXAPP_ADMIN = {"host": "edxapp-db.internal", "port": "3306", "username": "admin", "password": "not-used-here"}


class ApiCalls:
    """Every call of one AWS service the code under test makes, with its parameters."""

    def __init__(self, service: str, region: str = REGION):
        from analytics_provisioner.aws import clients

        self.made: list[tuple[str, dict]] = []
        clients.client(service, region).meta.events.register(f"provide-client-params.{service}", self._record)

    def _record(self, params, model, **_):
        self.made.append((model.name, dict(params)))

    def named(self, operation: str) -> list[dict]:
        return [params for name, params in self.made if name == operation]

    def writes(self, reads: tuple[str, ...]) -> list[tuple[str, dict]]:
        """(operation, parameters) of every call whose name does not start with one of ``reads``."""
        return [(name, params) for name, params in self.made if not name.startswith(reads)]


def store_edxapp_admin_secret(emulator, doc: dict) -> None:
    """The edxapp admin secret, opted in for ``doc``'s deployment as seed() opts in what it creates."""
    from analytics_provisioner.naming import TAG_ALLOW

    emulator.client("secretsmanager").create_secret(
        Name=doc["edxapp"]["db_admin_secret_id"],
        SecretString=json.dumps(EDXAPP_ADMIN),
        Tags=[{"Key": TAG_ALLOW, "Value": doc["deployment_id"]}],
    )


def not_ready_times(monkeypatch, module, function: str, times: int) -> None:
    """The next ``times`` readiness reads say 'not ready' (moto's resources are ready at once)."""
    real, remaining, lock = getattr(module, function), [times], threading.Lock()

    def slow(described):
        with lock:
            if remaining[0] > 0:
                remaining[0] -= 1
                return False
        return real(described)

    monkeypatch.setattr(module, function, slow)


def race(calls, refused: type[Exception]) -> tuple[list, list]:
    """Run every call on its own thread at the same moment: (what the calls returned, the ``refused`` they raised)."""
    barrier, returned, raised = threading.Barrier(len(calls)), [], []

    def run(call):
        barrier.wait()
        try:
            returned.append(call())
        except refused as exc:
            raised.append(exc)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return returned, raised


def write_versions(bucket: str, keys) -> None:
    """One object version for each of ``keys`` (a key repeated is a version more), written through moto's
    backend: the S3 API takes about a minute for 25,000 puts, this about a second (what is tested lists
    and deletes them through the API)."""
    from moto.s3.models import s3_backends

    from analytics_provisioner.local.emulator import ACCOUNT

    backend = s3_backends[ACCOUNT]["aws"]
    for key in keys:
        backend.put_object(bucket, key, b"x")


def load_event(name: str) -> dict:
    return json.loads((EVENTS / name).read_text())


def database_server(emulator, db_instance_id: str):
    """The MySQL server behind an emulated RDS instance (each analytics RDS has its own)."""
    instance = emulator.client("rds").describe_db_instances(DBInstanceIdentifier=db_instance_id)["DBInstances"][0]
    return emulator.database_server(instance)


def inventory(emulator) -> dict:
    """Everything that exists in the emulated account, by kind, as sorted lists of names/ids.

    Two snapshots compare equal when nothing was created, deleted or duplicated in between.
    """
    ec2, iam, s3 = emulator.client("ec2"), emulator.client("iam"), emulator.client("s3")
    users = sorted(u["UserName"] for u in iam.list_users()["Users"])
    instances = [i for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]]
    return {
        "buckets": sorted(b["Name"] for b in s3.list_buckets()["Buckets"]),
        "roles": sorted(r["RoleName"] for r in iam.list_roles()["Roles"]),
        "instance_profiles": sorted(p["InstanceProfileName"] for p in iam.list_instance_profiles()["InstanceProfiles"]),
        "users": users,
        "access_keys": sorted(k["AccessKeyId"] for u in users for k in iam.list_access_keys(UserName=u)["AccessKeyMetadata"]),
        "policies": sorted(p["Arn"] for p in iam.list_policies(Scope="Local")["Policies"]),
        "security_groups": sorted(g["GroupId"] for g in ec2.describe_security_groups()["SecurityGroups"]),
        "security_group_rules": sorted(r["SecurityGroupRuleId"] for r in ec2.describe_security_group_rules()["SecurityGroupRules"]),
        "key_pairs": sorted(k["KeyName"] for k in ec2.describe_key_pairs()["KeyPairs"]),
        "instances": sorted(i["InstanceId"] for i in instances if i["State"]["Name"] != "terminated"),
        "addresses": sorted(a["AllocationId"] for a in ec2.describe_addresses()["Addresses"]),
        "secrets": sorted(s["Name"] for s in emulator.client("secretsmanager").list_secrets()["SecretList"]),
        "db_instances": sorted(i["DBInstanceIdentifier"] for i in emulator.client("rds").describe_db_instances()["DBInstances"]),
        "db_subnet_groups": sorted(g["DBSubnetGroupName"] for g in emulator.client("rds").describe_db_subnet_groups()["DBSubnetGroups"]),
        "search_domains": sorted(d["DomainName"] for d in emulator.client("opensearch").list_domain_names()["DomainNames"]),
        **mysql_inventory(emulator),
    }


def mysql_inventory(emulator) -> dict:
    """The users and databases on the server behind each RDS instance that exists, as "<instance>: <name>"
    (the emulators' own admin logins left out); nothing without a MySQL server."""
    if getattr(emulator, "mysql", None) is None:
        return {}
    from analytics_provisioner.local.mysql import LOCAL_ADMIN_PREFIX

    users, databases = [], []
    for instance in emulator.client("rds").describe_db_instances()["DBInstances"]:
        identifier, contents = instance["DBInstanceIdentifier"], emulator.database_server(instance).contents()
        users += [f"{identifier}: '{user}'@'{host}'" for user, host in contents.users if not user.startswith(LOCAL_ADMIN_PREFIX)]
        databases += [f"{identifier}: {name}" for name in contents.databases]
    return {"mysql_users": sorted(users), "mysql_databases": sorted(databases)}


def diff(before: dict, after: dict) -> dict:
    """{kind: {"added": [...], "removed": [...]}} for the kinds that changed."""
    changes = {}
    for kind in before.keys() | after.keys():
        added = sorted(set(after.get(kind, [])) - set(before.get(kind, [])))
        removed = sorted(set(before.get(kind, [])) - set(after.get(kind, [])))
        if added or removed:
            changes[kind] = {"added": added, "removed": removed}
    return changes


# --- secret leaks: found by walking what was said, reported by where they sit ------------------------
SECRET_KEYS = ("password", "secret", "private_key", "token", "access_key")
MAX_LEAKS_SHOWN = 10


def secret_values(emulator) -> dict[str, str]:
    """{"secret <name> <key>": value} for the credential values of every secret in the account
    (passwords, keys, tokens), each long line of a PEM body too (``… line N``)."""
    sm, values = emulator.client("secretsmanager"), {}
    for listed in sm.list_secrets()["SecretList"]:
        value = json.loads(sm.get_secret_value(SecretId=listed["ARN"])["SecretString"])
        for key, leaf in value.items():
            if any(word in key for word in SECRET_KEYS) and isinstance(leaf, str) and len(leaf) >= 8:
                values[f"secret {listed['Name']} {key}"] = leaf
                for number, line in enumerate(leaf.splitlines() if "\n" in leaf else [], 1):
                    if len(line) >= 40 and "PRIVATE KEY" not in line:
                        values[f"secret {listed['Name']} {key} line {number}"] = line
    return values


def history_places(events: list[dict], label: str = "history") -> dict[str, dict]:
    """Each event of an execution history under a name saying which and of what state:
    ``history event 123 (TaskSucceeded of Render files)``."""
    entered, previous, places = {}, {}, {}
    for event in events:
        previous[event["id"]] = event.get("previousEventId", 0)
        details = event.get("stateEnteredEventDetails") or event.get("stateExitedEventDetails") or {}
        if event["type"].endswith("StateEntered"):
            entered[event["id"]] = details["name"]
        state, cursor = details.get("name"), event.get("previousEventId", 0)
        while state is None and cursor:
            state, cursor = entered.get(cursor), previous.get(cursor, 0)
        places[f"{label} event {event['id']} ({event['type']}{' of ' + state if state else ''})"] = event
    return places


def _as_json(text: str):
    if text[:1] not in ("{", "["):
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def _member(path: str, name: str) -> str:
    return f"{path} {name}" if path.endswith(":") else f"{path}.{name}" if path else name


def _strings(value, path: str):
    """(path, text) for every string in ``value``, dict keys too; a string holding a JSON document (an
    event's input or output) is walked as that document, a text of several lines line by line."""
    if isinstance(value, str):
        parsed = _as_json(value)
        if parsed is not None:
            yield from _strings(parsed, path)
        elif "\n" in value:
            for number, line in enumerate(value.splitlines(), 1):
                yield from _strings(line, f"{path} line {number}:".lstrip())
        else:
            yield path.rstrip(":"), value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield f"{path.rstrip(':')} (a key)".lstrip(), str(key)
            yield from _strings(item, _member(path, str(key)))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path.rstrip(':')}[{index}]")
    elif value is not None and not isinstance(value, int | float):
        yield path.rstrip(":"), str(value)  # datetimes and the like


def leaks(secrets: dict[str, str], places: dict[str, object]) -> list[str]:
    """Where a secret value appears: "<place> <path> holds the value of <secret>", never the value."""
    found = []
    for place, value in places.items():
        for path, text in _strings(value, ""):
            found += [f"{place} {path}".rstrip() + f" holds the value of {name}" for name, secret in secrets.items() if secret in text]
    for name, secret in secrets.items():  # a path through a key that is a secret would show it
        found = [where.replace(secret, f"<{name}>") for where in found]
    return found


def assert_no_leak(secrets: dict[str, str], places: dict[str, object]) -> None:
    """AssertionError naming where each leaked value sits (not the value), in seconds however big the
    places: ``assert value not in text`` made pytest diff a multi-megabyte history for minutes."""
    if not secrets:
        raise AssertionError("no secret values to look for: the check would prove nothing")
    found = leaks(secrets, places)
    if found:
        more = f"\n… and {len(found) - MAX_LEAKS_SHOWN} more" if len(found) > MAX_LEAKS_SHOWN else ""
        raise AssertionError(f"{len(found)} secret value(s) leaked:\n" + "\n".join(found[:MAX_LEAKS_SHOWN]) + more)


# --- what carries a deployment's tag, wherever it is ------------------------------------------------
def tagged_everywhere(emulator, deployment_id: str) -> list[str]:
    """The ARN (or ``kind/name``) of everything that carries the deployment tag: the tagging API's
    answer, and what it does not cover, IAM on AWS and in moto also key pairs, Elastic IPs, search
    domains and DB subnet groups; secrets scheduled for deletion included."""
    from analytics_provisioner.aws import tags
    from analytics_provisioner.naming import TAG_DEPLOYMENT

    def ours(tag_list) -> bool:
        return tags.from_list(tag_list).get(TAG_DEPLOYMENT) == deployment_id

    iam, ec2, rds, search = emulator.client("iam"), emulator.client("ec2"), emulator.client("rds"), emulator.client("opensearch")
    found = set(tags.tagged_arns(emulator.region, deployment_id))
    found |= {r["Arn"] for r in iam.list_roles()["Roles"] if ours(iam.list_role_tags(RoleName=r["RoleName"])["Tags"])}
    found |= {u["Arn"] for u in iam.list_users()["Users"] if ours(iam.list_user_tags(UserName=u["UserName"])["Tags"])}
    found |= {p["Arn"] for p in iam.list_policies(Scope="Local")["Policies"] if ours(iam.list_policy_tags(PolicyArn=p["Arn"])["Tags"])}
    found |= {
        p["Arn"]
        for p in iam.list_instance_profiles()["InstanceProfiles"]
        if ours(iam.get_instance_profile(InstanceProfileName=p["InstanceProfileName"])["InstanceProfile"].get("Tags"))
    }  # moto lacks ListInstanceProfileTags
    by_tag = [{"Name": f"tag:{TAG_DEPLOYMENT}", "Values": [deployment_id]}]
    found |= {f"key-pair/{k['KeyName']}" for k in ec2.describe_key_pairs(Filters=by_tag)["KeyPairs"]}
    found |= {f"elastic-ip/{a['AllocationId']}" for a in ec2.describe_addresses(Filters=by_tag)["Addresses"]}
    for domain in search.list_domain_names()["DomainNames"]:
        arn = search.describe_domain(DomainName=domain["DomainName"])["DomainStatus"]["ARN"]
        found |= {arn} if ours(search.list_tags(ARN=arn)["TagList"]) else set()
    found |= {
        g["DBSubnetGroupArn"]
        for g in rds.describe_db_subnet_groups()["DBSubnetGroups"]
        if ours(rds.list_tags_for_resource(ResourceName=g["DBSubnetGroupArn"])["TagList"])
    }
    secrets = emulator.client("secretsmanager").list_secrets(IncludePlannedDeletion=True)["SecretList"]
    found |= {s["ARN"] for s in secrets if ours(s.get("Tags"))}
    return sorted(found)
