"""Validate's checks of the rules AWS applies only when a resource is created. Nothing here creates anything.

``check`` refuses (PreflightError naming the field and a value that works) an input AWS would
refuse after other resources exist, and returns the warnings for what AWS accepts but the operator
should know:
- EC2 instance types: offered in the Availability Zone of the deployment's subnet (offerings are per
  zone: a type of the region can be missing from one zone), and able to run ``options.architecture``
  (DescribeInstanceTypes ``ProcessorInfo.SupportedArchitectures``);
- the search domain's EBS volume: within what its instance type takes (DescribeInstanceTypeLimits:
  t2.small.search 10-35 GiB, t3.small.search 10-100 GiB, ...);
- the image: AWS deprecates public images two years after creation (every Ubuntu 16.04 and 18.04
  image); a deprecated image still launches, and the warning names it.
Names AWS refuses (``naming.name_rule_breaks``) and poll settings past Step Functions' history
(validate.py, ``polling.POLL_HISTORY_BUDGET``) are refused before Validate calls AWS at all.
"""

from ..aws import ec2, instances, search
from ..deployment import ResolvedDeployment
from ..errors import PreflightError
from .search import EBS_VOLUME_TYPE

# Types a refusal suggests, per role and architecture, the first one the subnet's zone offers.
SUGGESTED_TYPES = {
    "options.analytics_instance_type": {
        "x86_64": ("t3.medium", "t2.medium", "t3a.medium", "m5.large"),
        "arm64": ("t4g.medium", "m6g.large"),
    },
    "options.director_instance_type": {"x86_64": ("t3.micro", "t2.micro", "t3a.micro"), "arm64": ("t4g.micro", "t4g.small")},
}


def check(deployment: ResolvedDeployment, availability_zone: str) -> list[str]:
    """The warnings; raises PreflightError for an input AWS would refuse."""
    check_ec2_types(deployment, availability_zone)
    check_search_volume(deployment)
    return [warning for warning in (deprecated_image(deployment),) if warning]


def check_ec2_types(deployment: ResolvedDeployment, availability_zone: str) -> None:
    options, region, subnet = deployment.options, deployment.region, deployment.network.subnet_id
    wanted = {
        "options.analytics_instance_type": options.analytics_instance_type,
        "options.director_instance_type": options.director_instance_type,
    }
    candidates = {t for per_arch in SUGGESTED_TYPES.values() for t in per_arch[options.architecture]}
    zones = ec2.zones_offering(sorted(set(wanted.values()) | candidates), region)
    for field, instance_type in wanted.items():
        suggestion = _suggest(field, options.architecture, availability_zone, zones)
        if instance_type not in zones:
            raise PreflightError(f"{field}: {instance_type} is not offered in {region}; choose an offered type such as {suggestion}")
        if availability_zone not in zones[instance_type]:
            raise PreflightError(
                f"{field}: {instance_type} is not offered in {availability_zone}, the Availability Zone of network.subnet_id {subnet}; "
                f"choose a type offered there such as {suggestion}, or a subnet in {', '.join(sorted(zones[instance_type]))}"
            )
    supported = ec2.architectures(sorted(set(wanted.values())), region)
    for field, instance_type in wanted.items():
        if options.architecture not in supported.get(instance_type, []):
            other = "arm64" if options.architecture == "x86_64" else "x86_64"
            raise PreflightError(
                f"{field}: {instance_type} runs {', '.join(supported.get(instance_type, [])) or 'no known architecture'}, not "
                f"options.architecture {options.architecture!r}; choose a type such as {_suggest(field, options.architecture, availability_zone, zones)}, "
                f"or set options.architecture to {other!r}"
            )


def _suggest(field: str, architecture: str, availability_zone: str, zones: dict[str, set[str]]) -> str:
    preferred = SUGGESTED_TYPES[field][architecture]
    return '"' + next((t for t in preferred if availability_zone in zones.get(t, ())), preferred[0]) + '"'


def check_search_volume(deployment: ResolvedDeployment) -> None:
    options = deployment.options
    instance_type, version, size = options.es_instance_type, options.es_engine_version, options.es_volume_gb
    limits = search.volume_limits_gib(instance_type, version, EBS_VOLUME_TYPE, deployment.region)
    if limits is None:
        return
    low, high = limits
    if not low <= size <= high:
        working = f"at most {high}" if size > high else f"at least {low}"
        raise PreflightError(
            f"options.es_volume_gb: {size} GiB is outside what a {instance_type} data node takes with {version} "
            f"({EBS_VOLUME_TYPE} EBS {low}-{high} GiB); give {working}, or a larger options.es_instance_type"
        )


def deprecated_image(deployment: ResolvedDeployment) -> str | None:
    image = instances.image(deployment.options.ami_id, deployment.region)
    since = instances.deprecated_since(image) if image else None
    if image is None or since is None:
        return None
    return (
        f"the instances' image {image['ImageId']} ({image.get('Name')}) is deprecated since {since}: AWS deprecates public "
        "images two years after creation and lists them only when asked; instances still launch from it and install the "
        "available updates on first boot"
    )
