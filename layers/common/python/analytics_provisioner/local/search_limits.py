"""AWS rule: a search domain's data node takes only the EBS volume and encryption its instance type allows.

OpenSearch Service refuses CreateDomain (``ValidationException``, HTTP 400) when the EBS volume is
outside the instance type's limits (t2.small.search 10-35 GiB, t3.small.search 10-100 GiB: what
DescribeInstanceTypeLimits answers) or when it asks for encryption at rest on a type whose
InstanceTypeDetails say ``EncryptionEnabled`` false (t2, m3, r3). The figures are the catalogue's
(``catalog.SEARCH_EBS_GIB``), the ones local mode's DescribeInstanceTypeLimits and
ListInstanceTypeDetails answer with. moto creates any such domain
(``tests/static/test_moto_canary.py`` checks it still does).
"""

from . import catalog, hooks


def _check_domain(context, **_):
    request = hooks.request(context)
    instance_type = request.get("ClusterConfig", {}).get("InstanceType", "r5.large.search")
    version = request.get("EngineVersion", "OpenSearch_1.0").split("_", 1)[-1]
    ebs = request.get("EBSOptions", {})
    limits = catalog.SEARCH_EBS_GIB.get(instance_type)
    if ebs.get("EBSEnabled") and limits and not limits[0] <= ebs.get("VolumeSize", limits[0]) <= limits[1]:
        return hooks.aws_error(
            "ValidationException",
            f"Volume size must be between {limits[0]} and {limits[1]} for {instance_type} "
            f"instance type and ElasticSearch version {version}",
        )
    if request.get("EncryptionAtRestOptions", {}).get("Enabled") and not catalog.search_encrypts_at_rest(instance_type):
        return hooks.aws_error("ValidationException", f"Encryption at rest is not supported with {instance_type} instance type")
    return None


RULE: list[hooks.Entry] = [
    ("provide-client-params.opensearch.CreateDomain", hooks.remember_request),
    ("before-call.opensearch.CreateDomain", _check_domain),
]
