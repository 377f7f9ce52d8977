"""OpenSearch Service (formerly Elasticsearch Service) lookups and version choice."""

from botocore.exceptions import ClientError

from . import tags as tagging
from .clients import client
from .errors import error_code

RUNBOOK_ENGINE_VERSION = "Elasticsearch_1.5"
RUNBOOK_INSTANCE_TYPE = "t2.small.search"


def domain(name: str, region: str) -> dict | None:
    try:
        return client("opensearch", region).describe_domain(DomainName=name)["DomainStatus"]
    except ClientError as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return None
        raise


def domain_tags(name: str, region: str) -> dict | None:
    status = domain(name, region)
    if status is None:
        return None
    return tagging.from_list(client("opensearch", region).list_tags(ARN=status["ARN"]).get("TagList"))


def offered_versions(region: str) -> list[str]:
    opensearch = client("opensearch", region)
    versions, token = [], None
    while True:
        page = opensearch.list_versions(**({"NextToken": token} if token else {}))
        versions += page["Versions"]
        token = page.get("NextToken")
        if not token:
            return versions


def offered_instance_types(engine_version: str, region: str) -> list[str]:
    opensearch = client("opensearch", region)
    types, token = [], None
    while True:
        page = opensearch.list_instance_type_details(EngineVersion=engine_version, **({"NextToken": token} if token else {}))
        types += [detail["InstanceType"] for detail in page["InstanceTypeDetails"]]
        token = page.get("NextToken")
        if not token:
            return types


def _version_number(engine_version: str) -> tuple[int, int]:
    major, minor = engine_version.split("_", 1)[1].split(".")[:2]
    return int(major), int(minor)


def nearest_version(wanted: str, offered: list[str]) -> str | None:
    """``wanted`` if offered, else the offered version of the same engine closest to it."""
    if wanted in offered:
        return wanted
    engine = wanted.split("_", 1)[0]
    same_engine = [v for v in offered if v.startswith(engine + "_")]
    if not same_engine:
        return None
    target = _version_number(wanted)
    return min(same_engine, key=lambda v: (abs(_version_number(v)[0] - target[0]), abs(_version_number(v)[1] - target[1]), v))


def normalise_instance_type(instance_type: str, engine_version: str) -> str:
    """Elasticsearch domains name types ``*.elasticsearch``, OpenSearch ones ``*.search``; the API accepts ``.search`` for both."""
    return instance_type.replace(".elasticsearch", ".search")


def nearest_instance_type(wanted: str, offered: list[str]) -> str | None:
    wanted = normalise_instance_type(wanted, "")
    if wanted in offered:
        return wanted
    size = wanted.split(".")[1]
    same_size = sorted(t for t in offered if t.split(".")[1] == size)
    preference = [t for t in same_size if t.startswith(("t3.", "t4g.", "m5.", "m6g."))] or same_size
    return preference[0] if preference else (sorted(offered)[0] if offered else None)
