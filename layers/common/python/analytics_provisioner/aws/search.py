"""OpenSearch Service (formerly Elasticsearch Service) lookups and version choice."""

from .. import policies
from . import tags as tagging
from .clients import client, partition
from .errors import absent_on, gone_is_success, unless_exists
from .iam import account_id

RUNBOOK_ENGINE_VERSION = "Elasticsearch_1.5"
RUNBOOK_INSTANCE_TYPE = "t2.small.search"


def domain(name: str, region: str) -> dict | None:
    return absent_on(lambda: client("opensearch", region).describe_domain(DomainName=name)["DomainStatus"], "ResourceNotFoundException")


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


def instance_type_details(engine_version: str, region: str) -> dict[str, dict]:
    """The instance types offered for ``engine_version``, each with its InstanceTypeDetails (EncryptionEnabled, ...)."""
    opensearch = client("opensearch", region)
    details: dict[str, dict] = {}
    token = None
    while True:
        page = opensearch.list_instance_type_details(EngineVersion=engine_version, **({"NextToken": token} if token else {}))
        details.update((detail["InstanceType"], detail) for detail in page["InstanceTypeDetails"])
        token = page.get("NextToken")
        if not token:
            return details


def offered_instance_types(engine_version: str, region: str) -> list[str]:
    return list(instance_type_details(engine_version, region))


def volume_limits_gib(instance_type: str, engine_version: str, volume_type: str, region: str) -> tuple[int, int] | None:
    """(minimum, maximum) EBS volume size of a data node of ``instance_type``, from DescribeInstanceTypeLimits; None if not given."""
    limits = client("opensearch", region).describe_instance_type_limits(InstanceType=instance_type, EngineVersion=engine_version)
    for storage in limits.get("LimitsByRole", {}).get("data", {}).get("StorageTypes", []):
        if (storage.get("StorageTypeName"), storage.get("StorageSubTypeName")) == ("ebs", volume_type):
            values = {
                limit["LimitName"]: int(limit["LimitValues"][0])
                for limit in storage.get("StorageTypeLimits", [])
                if limit.get("LimitValues")
            }
            if "MinimumVolumeSize" in values and "MaximumVolumeSize" in values:
                return values["MinimumVolumeSize"], values["MaximumVolumeSize"]
    return None


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


# --- the domain we create ------------------------------------------------------------------------
TLS_POLICY = "Policy-Min-TLS-1-2-2019-07"


def domain_arn(name: str, region: str) -> str:
    return policies.es_domain_arn(partition(region), region, account_id(region), name)


def tags_of(arn: str, region: str) -> dict:
    return tagging.from_list(client("opensearch", region).list_tags(ARN=arn).get("TagList"))


def encryption_support(engine_version: str, type_encrypts_at_rest: bool) -> dict[str, bool]:
    """What the version and instance type allow. Encryption at rest needs Elasticsearch 5.1+ and a type
    whose InstanceTypeDetails say EncryptionEnabled (not t2, m3, r3); node-to-node encryption 6.0+ on
    such a type (every OpenSearch version has both). HTTPS-only with TLS 1.2 works on every version."""
    opensearch = engine_version.startswith("OpenSearch_")
    version = _version_number(engine_version)
    return {
        "encryption_at_rest": (opensearch or version >= (5, 1)) and type_encrypts_at_rest,
        "node_to_node_encryption": (opensearch or version >= (6, 0)) and type_encrypts_at_rest,
        "enforce_https": True,
    }


def create_domain(config: dict, tags: dict[str, str], region: str) -> dict | None:
    """The new domain's status, or None when a domain of the name exists (ResourceAlreadyExistsException)."""
    opensearch = client("opensearch", region)
    created = unless_exists(lambda: opensearch.create_domain(**config, TagList=tagging.as_list(tags)), "ResourceAlreadyExistsException")
    return created and created["DomainStatus"]


def delete_domain(name: str, region: str) -> bool:
    """``create_domain``'s partner: start deleting the domain (it goes within minutes); False when it was already gone."""
    return gone_is_success(lambda: client("opensearch", region).delete_domain(DomainName=name), "ResourceNotFoundException")


def endpoint(status: dict) -> str | None:
    return status.get("Endpoint") or status.get("Endpoints", {}).get("vpc")


def domain_ready(status: dict) -> bool:
    """Created, no change in progress, an endpoint to give out. Tests replace this to simulate a slow domain."""
    busy = status.get("Processing") or status.get("UpgradeProcessing") or status.get("Deleted")
    return bool(status.get("Created")) and not busy and endpoint(status) is not None
