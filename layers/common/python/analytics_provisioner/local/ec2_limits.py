"""AWS rules: what EC2 refuses at CreateSecurityGroup and RunInstances that moto accepts.

- A security group name may not start with ``sg-`` (``InvalidParameterValue``).
- An instance type runs only its ``ProcessorInfo.SupportedArchitectures``: RunInstances with an image
  of another architecture answers ``InvalidParameterValue``.
- An instance type is offered per Availability Zone: RunInstances into a subnet whose zone does not
  offer it answers ``Unsupported``.
The types' architectures and offerings are moto's copy of AWS's published data (the same
DescribeInstanceTypes and DescribeInstanceTypeOfferings answer with); moto itself checks none of
these (``tests/static/test_moto_canary.py`` checks it still does not).
"""

from moto.ec2.models import ec2_backends
from moto.ec2.models.instance_types import INSTANCE_TYPE_OFFERINGS, INSTANCE_TYPES

from . import hooks

RESERVED_GROUP_PREFIX = "sg-"


def _group_name(context, **_):
    name = hooks.request(context).get("GroupName", "")
    if name.lower().startswith(RESERVED_GROUP_PREFIX):
        return hooks.aws_error(
            "InvalidParameterValue", f"Value ({name}) for parameter GroupName is invalid. Group names may not be in the format sg-*."
        )
    return None


def rule(account: str) -> list[hooks.Entry]:
    def run_instances(context, **_):
        request, region = hooks.request(context), context.get("client_region")
        backend, instance_type = ec2_backends[account][region], request.get("InstanceType", "m1.small")
        image = backend.amis.get(request.get("ImageId", ""))
        supported = INSTANCE_TYPES.get(instance_type, {}).get("ProcessorInfo", {}).get("SupportedArchitectures", [])
        if image is not None and image.architecture and supported and image.architecture not in supported:
            return hooks.aws_error(
                "InvalidParameterValue",
                (
                    f"The architecture '{supported[-1]}' of the specified instance type does not match the architecture "
                    f"'{image.architecture}' of the specified AMI. Specify an instance type and an AMI that have matching "
                    "architectures, and try again."
                ),
            )
        subnet_id = request.get("SubnetId") or next(
            (nic.get("SubnetId") for nic in request.get("NetworkInterfaces", []) if nic.get("SubnetId")), None
        )
        zone = backend.get_subnet(subnet_id).availability_zone if subnet_id else request.get("Placement", {}).get("AvailabilityZone")
        offering = INSTANCE_TYPE_OFFERINGS["availability-zone"].get(region, [])
        offered_in = sorted(o["Location"] for o in offering if o["InstanceType"] == instance_type)
        if zone and offered_in and zone not in offered_in:
            return hooks.aws_error(
                "Unsupported",
                (
                    f"Your requested instance type ({instance_type}) is not supported in your requested Availability Zone ({zone}). "
                    f"Please retry your request by not specifying an Availability Zone or choosing {', '.join(offered_in)}."
                ),
            )
        return None

    return [
        ("provide-client-params.ec2.CreateSecurityGroup", hooks.remember_request),
        ("before-call.ec2.CreateSecurityGroup", _group_name),
        ("provide-client-params.ec2.RunInstances", hooks.remember_request),
        ("before-call.ec2.RunInstances", run_instances),
    ]
