"""What AWS offers in a region, for the calls moto does not implement.

Installed as botocore ``before-call`` handlers while the emulator runs. The figures mirror the
public offerings: OpenSearch Service no longer offers Elasticsearch 1.5, RDS offers MySQL 8.0/8.4;
each search instance type's EBS volume limits and whether it can encrypt at rest are AWS's published
figures ("Amazon OpenSearch Service quotas", "Encryption of data at rest"), which
``local/search_limits.py`` also applies to CreateDomain.
"""

from datetime import UTC, datetime, timedelta

from .hooks import Entry

SEARCH_VERSIONS = [
    "OpenSearch_2.17",
    "OpenSearch_2.15",
    "OpenSearch_2.13",
    "OpenSearch_2.11",
    "OpenSearch_1.3",
    "Elasticsearch_7.10",
    "Elasticsearch_7.9",
    "Elasticsearch_6.8",
    "Elasticsearch_5.6",
]
SEARCH_INSTANCE_TYPES = ["t3.small.search", "t3.medium.search", "m5.large.search", "r6g.large.search"]
# gp2 EBS volume size per instance type, GiB (min, max), as DescribeInstanceTypeLimits answers.
SEARCH_EBS_GIB = {
    "t2.micro.search": (10, 35),
    "t2.small.search": (10, 35),
    "t2.medium.search": (10, 35),
    "t3.small.search": (10, 100),
    "t3.medium.search": (10, 200),
    "m5.large.search": (10, 512),
    "r6g.large.search": (10, 1024),
}
SEARCH_NO_ENCRYPTION_AT_REST = ("t2.", "m3.", "r3.")  # InstanceTypeDetails.EncryptionEnabled is false
SEARCH_T2_VERSIONS = {"Elasticsearch_7.10", "Elasticsearch_7.9", "Elasticsearch_6.8", "Elasticsearch_5.6", "OpenSearch_1.3"}
MYSQL_VERSIONS = ["8.0.39", "8.0.40", "8.0.41", "8.4.3", "8.4.4"]
# RDS for MySQL release calendar: (end of standard support, end of Extended Support) per major version.
MYSQL_SUPPORT = {
    "8.0": (datetime(2026, 7, 31, 23, 59, 59, tzinfo=UTC), datetime(2029, 7, 31, 23, 59, 59, tzinfo=UTC)),
    "8.4": (datetime(2029, 7, 31, 23, 59, 59, tzinfo=UTC), datetime(2032, 7, 31, 23, 59, 59, tzinfo=UTC)),
}
MYSQL_RELEASED = {"8.0": datetime(2018, 10, 23, tzinfo=UTC), "8.4": datetime(2024, 11, 21, tzinfo=UTC)}
DB_CLASSES = ["db.t3.micro", "db.t3.small", "db.t3.medium", "db.t4g.small", "db.m6g.large"]


class _Ok:
    status_code = 200
    headers: dict = {}


def _list_versions(**_):
    return _Ok(), {"Versions": SEARCH_VERSIONS}


def _list_instance_type_details(params, **_):
    version = params["url_path"].rsplit("/", 1)[-1]
    types = SEARCH_INSTANCE_TYPES + (["t2.small.search", "t2.medium.search"] if version in SEARCH_T2_VERSIONS else [])
    return _Ok(), {"InstanceTypeDetails": [{"InstanceType": t, "EncryptionEnabled": search_encrypts_at_rest(t)} for t in types]}


def search_encrypts_at_rest(instance_type: str) -> bool:
    return not instance_type.startswith(SEARCH_NO_ENCRYPTION_AT_REST)


def _describe_instance_type_limits(params, **_):
    instance_type = params["url_path"].split("?", 1)[0].rsplit("/", 1)[-1]
    if instance_type not in SEARCH_EBS_GIB:
        return _Ok(), {"LimitsByRole": {}}
    low, high = SEARCH_EBS_GIB[instance_type]
    limits = [{"LimitName": "MinimumVolumeSize", "LimitValues": [str(low)]}, {"LimitName": "MaximumVolumeSize", "LimitValues": [str(high)]}]
    storage = [{"StorageTypeName": "ebs", "StorageSubTypeName": "gp2", "StorageTypeLimits": limits}]
    return _Ok(), {"LimitsByRole": {"data": {"StorageTypes": storage, "InstanceLimits": {}, "AdditionalLimits": []}}}


def _describe_db_engine_versions(params, **_):
    engine = params["body"].get("Engine", "mysql")
    versions = MYSQL_VERSIONS if engine == "mysql" else []
    return _Ok(), {"DBEngineVersions": [{"Engine": engine, "EngineVersion": v} for v in versions]}


def _describe_orderable(params, **_):
    body = params["body"]
    ok = body.get("Engine") == "mysql" and body.get("EngineVersion") in MYSQL_VERSIONS and body.get("DBInstanceClass") in DB_CLASSES
    options = [{"Engine": "mysql", "EngineVersion": body["EngineVersion"], "DBInstanceClass": body["DBInstanceClass"]}] if ok else []
    return _Ok(), {"OrderableDBInstanceOptions": options}


def _describe_db_major_engine_versions(params, **_):
    engine = params["body"].get("Engine", "mysql")
    majors = []
    for major, (standard_end, extended_end) in MYSQL_SUPPORT.items() if engine == "mysql" else ():
        lifecycles = [
            {
                "LifecycleSupportName": "open-source-rds-standard-support",
                "LifecycleSupportStartDate": MYSQL_RELEASED[major],
                "LifecycleSupportEndDate": standard_end,
            },
            {
                "LifecycleSupportName": "open-source-rds-extended-support",
                "LifecycleSupportStartDate": standard_end,
                "LifecycleSupportEndDate": extended_end,
            },
        ]
        majors.append({"Engine": engine, "MajorEngineVersion": major, "SupportedEngineLifecycles": lifecycles})
    return _Ok(), {"DBMajorEngineVersions": majors}


HANDLERS: list[Entry] = [
    ("before-call.opensearch.ListVersions", _list_versions),
    ("before-call.opensearch.ListInstanceTypeDetails", _list_instance_type_details),
    ("before-call.opensearch.DescribeInstanceTypeLimits", _describe_instance_type_limits),
    ("before-call.rds.DescribeDBEngineVersions", _describe_db_engine_versions),
    ("before-call.rds.DescribeOrderableDBInstanceOptions", _describe_orderable),
    ("before-call.rds.DescribeDBMajorEngineVersions", _describe_db_major_engine_versions),
]


CANONICAL = "099720109477"
# Canonical's last 16.04 and 18.04 images (long deprecated), and 20.04 and 22.04, which it still
# publishes: an image some days old and, for 20.04, one old enough to be deprecated.
UBUNTU_IMAGES: list[tuple[str, datetime | timedelta]] = [
    ("ubuntu/images/hvm-ssd/ubuntu-xenial-16.04-{arch}-server-{serial}", datetime(2021, 10, 1, tzinfo=UTC)),
    ("ubuntu/images/hvm-ssd/ubuntu-bionic-18.04-{arch}-server-{serial}", datetime(2023, 5, 31, tzinfo=UTC)),
    ("ubuntu/images/hvm-ssd/ubuntu-focal-20.04-{arch}-server-{serial}", timedelta(days=40)),
    ("ubuntu/images/hvm-ssd/ubuntu-focal-20.04-{arch}-server-{serial}", timedelta(days=1000)),
    ("ubuntu/images/hvm-ssd-gp3/ubuntu-jammy-22.04-{arch}-server-{serial}", timedelta(days=20)),
]


def seed_public_images(account: str, region: str) -> None:
    """Canonical's Ubuntu LTS images, as every region lists them (moto's own catalogue has none this recent)."""
    from moto.ec2.models import ec2_backends
    from moto.ec2.models.amis import Ami
    from moto.ec2.utils import random_ami_id

    backend, now = ec2_backends[account][region], datetime.now(UTC)
    for pattern, age_or_date in UBUNTU_IMAGES:
        created = now - age_or_date if isinstance(age_or_date, timedelta) else age_or_date
        for architecture, arch in (("x86_64", "amd64"), ("arm64", "arm64")):
            name = pattern.format(arch=arch, serial=created.strftime("%Y%m%d"))
            image = Ami(
                backend,
                random_ami_id(),
                name=name,
                owner_id=CANONICAL,
                public=True,
                architecture=architecture,
                virtualization_type="hvm",
                root_device_type="ebs",
                creation_date=created,
                region_name=region,
            )
            backend.amis[image.id] = image
