"""RDS lookups."""

from botocore.exceptions import ClientError

from . import tags as tagging
from .clients import client
from .errors import error_code


def db_instance(identifier: str, region: str) -> dict | None:
    try:
        return client("rds", region).describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0]
    except ClientError as exc:
        if error_code(exc) == "DBInstanceNotFound":
            return None
        raise


def db_instance_tags(identifier: str, region: str) -> dict | None:
    instance = db_instance(identifier, region)
    return None if instance is None else tagging.from_list(instance.get("TagList"))


def orderable(engine: str, engine_version: str, instance_class: str, region: str) -> bool:
    options = client("rds", region).describe_orderable_db_instance_options(
        Engine=engine, EngineVersion=engine_version, DBInstanceClass=instance_class, MaxRecords=20
    )["OrderableDBInstanceOptions"]
    return bool(options)


def engine_versions(engine: str, major: str, region: str) -> list[str]:
    """Offered versions of ``engine`` whose version starts with ``major``, oldest first."""
    versions = client("rds", region).describe_db_engine_versions(Engine=engine)["DBEngineVersions"]
    matching = [v["EngineVersion"] for v in versions if v["EngineVersion"] == major or v["EngineVersion"].startswith(major + ".")]
    return sorted(set(matching), key=_version_key)


def _version_key(version: str) -> tuple:
    return tuple(int(part) if part.isdigit() else 0 for part in version.split("."))
