"""EC2 compute: machine images, key pairs, instances and Elastic IPs.

Lookups take the image owner, name patterns and tags explicitly. A key pair's private key never
leaves ``create_key_pair_into_secret``: it goes to Secrets Manager in the call that creates it.
"""

import contextlib
from datetime import UTC, datetime

from botocore.exceptions import ClientError, HTTPClientError, WaiterError
from botocore.exceptions import ConnectionError as BotoConnectionError

from .. import naming
from ..errors import ResourceStateError, TransientAwsError
from . import secrets
from . import tags as tagging
from .clients import client
from .errors import answer_lost, aws_call, classify, error_code, gone_is_success, unless_exists

GONE = ("shutting-down", "terminated")
STOPPED = ("stopping", "stopped")
ALIVE = ("pending", "running", *STOPPED, "shutting-down")  # every state but terminated
RUNNING_WAIT = {"Delay": 5, "MaxAttempts": 30}


def tag_specifications(resource_types: tuple[str, ...], tags: dict[str, str]) -> list[dict]:
    return [{"ResourceType": kind, "Tags": tagging.as_list(tags)} for kind in resource_types]


def _ours(name: str, deployment_id: str) -> list[dict]:
    return [{"Name": "tag:Name", "Values": [name]}, *_tagged(deployment_id)]


def _tagged(deployment_id: str) -> list[dict]:
    return [{"Name": f"tag:{naming.TAG_DEPLOYMENT}", "Values": [deployment_id]}]


@contextlib.contextmanager
def _transient_on(codes: tuple[str, ...], doing: str):
    """Errors that only mean "not yet" (an instance still changing state) become retryable."""
    try:
        yield
    except ClientError as exc:
        if error_code(exc) in codes:
            raise TransientAwsError(str(classify(exc, doing))) from exc
        raise


# Images ---------------------------------------------------------------------------------------
def newest_image(owner: str, name_patterns: list[str], architecture: str, region: str) -> dict | None:
    """The most recently created available image of ``owner`` whose name matches one of the patterns,
    deprecated or not: AWS deprecates public images two years after creation and lists them only when
    asked (every Ubuntu 16.04 and 18.04 image is deprecated; ``deprecated_since`` tells)."""
    images = client("ec2", region).describe_images(
        Owners=[owner],
        IncludeDeprecated=True,
        Filters=[
            {"Name": "name", "Values": name_patterns},
            {"Name": "architecture", "Values": [architecture]},
            {"Name": "state", "Values": ["available"]},
        ],
    )["Images"]
    return max(images, key=lambda image: (image["CreationDate"], image["Name"]), default=None)


def deprecated_since(image: dict, now: datetime | None = None) -> str | None:
    """The date the image was deprecated ("2023-10-01"), or None while it is not."""
    deprecation = image.get("DeprecationTime")
    if deprecation and datetime.fromisoformat(deprecation) <= (now or datetime.now(UTC)):
        return deprecation[:10]
    return None


def image(image_id: str, region: str) -> dict | None:
    try:
        images = client("ec2", region).describe_images(ImageIds=[image_id])["Images"]
    except ClientError as exc:
        if error_code(exc).startswith("InvalidAMIID."):
            return None
        raise
    return images[0] if images else None


# Key pairs ------------------------------------------------------------------------------------
def key_pair(name: str, region: str) -> dict | None:
    """The key pair ``name`` with its public key (OpenSSH format), or None."""
    pairs = client("ec2", region).describe_key_pairs(Filters=[{"Name": "key-name", "Values": [name]}], IncludePublicKey=True)["KeyPairs"]
    return pairs[0] if pairs else None


def create_key_pair_into_secret(name: str, secret_name: str, deployment_id: str, region: str) -> dict | None:
    """Create key pair ``name`` and store ``{key_name, key_pair_id, private_key}`` in ``secret_name``.

    Returns ``{"key_pair_id", "secret_arn"}``, never the key; None when EC2 answers that the pair exists
    (InvalidKeyPair.Duplicate: a look-up moments before did not show it, or the SDK retried a call whose
    answer, with the key, was lost). When the secret cannot be stored the key pair is deleted again: a
    retry then creates a fresh pair instead of finding one nobody holds.
    """
    ec2 = client("ec2", region)
    with aws_call(f"create key pair {name}"):
        created = unless_exists(
            lambda: ec2.create_key_pair(
                KeyName=name,
                KeyType="rsa",
                KeyFormat="pem",
                TagSpecifications=tag_specifications(("key-pair",), tagging.ours(deployment_id)),
            ),
            "InvalidKeyPair.Duplicate",
        )
    if created is None:
        return None
    key_pair_id = created["KeyPairId"]
    value = {"key_name": name, "key_pair_id": key_pair_id, "private_key": created.pop("KeyMaterial")}
    try:
        secret_arn = secrets.put_json(secret_name, value, region, deployment_id, f"private key of EC2 key pair {name}")
    except Exception:
        with aws_call(f"delete key pair {name} after its private key could not be stored"):
            delete_key_pair(name, region)
        raise
    return {"key_pair_id": key_pair_id, "secret_arn": secret_arn}


def tagged_key_pairs(deployment_id: str, region: str) -> list[str]:
    """The names of every key pair carrying the deployment's tag."""
    pairs = client("ec2", region).describe_key_pairs(Filters=_tagged(deployment_id))["KeyPairs"]
    return [pair["KeyName"] for pair in pairs]


def delete_key_pair(name: str, region: str) -> bool:
    """``create_key_pair_into_secret``'s partner (the secret holding the private key goes with the
    deployment's secrets); False when it was already gone."""
    return gone_is_success(lambda: client("ec2", region).delete_key_pair(KeyName=name), "InvalidKeyPair.NotFound")


def key_pair_in_use(name: str, region: str) -> bool:
    """True when an instance that is not terminated was launched with the key pair."""
    pages = client("ec2", region).get_paginator("describe_instances").paginate(Filters=[{"Name": "key-name", "Values": [name]}])
    return any(i["State"]["Name"] != "terminated" for page in pages for r in page["Reservations"] for i in r["Instances"])


# Instances ------------------------------------------------------------------------------------
def instances_named(name: str, deployment_id: str, region: str) -> list[dict]:
    """Our instances tagged Name=``name``, in every state, oldest first."""
    found = []
    for page in client("ec2", region).get_paginator("describe_instances").paginate(Filters=_ours(name, deployment_id)):
        found += [instance for reservation in page["Reservations"] for instance in reservation["Instances"]]
    return sorted(found, key=lambda instance: instance["LaunchTime"])


def describe(instance_ids: list[str], region: str) -> list[dict]:
    reservations = client("ec2", region).describe_instances(InstanceIds=instance_ids)["Reservations"]
    return [instance for reservation in reservations for instance in reservation["Instances"]]


def run_instance(request: dict, region: str) -> dict | None:
    """RunInstances for one instance. None when EC2 answers IdempotentParameterMismatch: the
    request's ClientToken was spent on an earlier, different request. A fresh instance profile is
    refused until IAM propagates it: IamPropagationError (``aws_call``)."""
    with aws_call(f"launch instance {request['ClientToken']}"):
        try:
            return client("ec2", region).run_instances(**request)["Instances"][0]
        except ClientError as exc:
            if error_code(exc) == "IdempotentParameterMismatch":
                return None
            raise


def tagged_instances(deployment_id: str, region: str, states: tuple[str, ...] = ALIVE) -> list[dict]:
    """Every instance carrying the deployment's tag, whatever its name, in one of ``states``."""
    filters = [*_tagged(deployment_id), {"Name": "instance-state-name", "Values": list(states)}]
    pages = client("ec2", region).get_paginator("describe_instances").paginate(Filters=filters)
    return [instance for page in pages for reservation in page["Reservations"] for instance in reservation["Instances"]]


def terminate(instance_ids: list[str], region: str) -> None:
    """``run_instance``'s partner: termination starts (``tagged_instances`` shows when it has ended).
    Terminating a terminated instance succeeds, and EC2 describes it for an hour after, so no
    "already gone" answer exists here: InvalidInstanceID.NotFound means an id EC2 does not know yet,
    which is retried (errors.TRANSIENT_CODES)."""
    if instance_ids:
        client("ec2", region).terminate_instances(InstanceIds=list(instance_ids))


def start(instance_id: str, region: str) -> None:
    doing = f"start instance {instance_id}"
    with aws_call(doing), _transient_on(("IncorrectInstanceState",), doing):
        client("ec2", region).start_instances(InstanceIds=[instance_id])


def wait_running(instance_ids: list[str], region: str) -> None:
    """Until every instance runs. One that ends up terminated is a ResourceStateError naming EC2's
    reason; still pending at the ceiling is transient (the next attempt finds them by tag)."""
    try:
        client("ec2", region).get_waiter("instance_running").wait(InstanceIds=instance_ids, WaiterConfig=RUNNING_WAIT)
    except WaiterError:
        failed = [i for i in describe(instance_ids, region) if i["State"]["Name"] in GONE + STOPPED]
        if failed:
            reasons = "; ".join(
                f"{i['InstanceId']} is {i['State']['Name']} ({i.get('StateReason', {}).get('Message', 'no reason given')})" for i in failed
            )
            raise ResourceStateError(
                f"instances did not start: {reasons}; fix the cause and re-run (a terminated instance is replaced)"
            ) from None
        raise TransientAwsError(f"instances {', '.join(instance_ids)} are not running yet") from None


# Elastic IPs ----------------------------------------------------------------------------------
def addresses_named(name: str, deployment_id: str, region: str) -> list[dict]:
    return client("ec2", region).describe_addresses(Filters=_ours(name, deployment_id))["Addresses"]


def allocate_address(name: str, deployment_id: str, region: str) -> dict | None:
    """Allocate an Elastic IP tagged ``name`` and ours by the call itself. AllocateAddress takes no client
    token, so the call is sent once (no SDK retry, which would allocate a second address after a lost
    answer): None when its answer was lost (``answer_lost``), and only a look-up by tag tells whether
    it allocated."""
    with aws_call(f"allocate Elastic IP {name}"):
        try:
            allocated = client("ec2", region, retries=False).allocate_address(
                Domain="vpc", TagSpecifications=tag_specifications(("elastic-ip",), tagging.ours(deployment_id, Name=name))
            )
        except (ClientError, BotoConnectionError, HTTPClientError) as exc:
            if answer_lost(exc):
                return None
            raise
    return {
        "AllocationId": allocated["AllocationId"],
        "PublicIp": allocated["PublicIp"],
        "Tags": tagging.as_list(tagging.ours(deployment_id, Name=name)),
    }


def release_address(address: dict, region: str) -> bool:
    """``allocate_address``'s partner: off its instance, then released; False when it was already released."""
    ec2 = client("ec2", region)
    if address.get("AssociationId"):
        gone_is_success(lambda: ec2.disassociate_address(AssociationId=address["AssociationId"]), "InvalidAssociationID.NotFound")
    return gone_is_success(lambda: ec2.release_address(AllocationId=address["AllocationId"]), "InvalidAllocationID.NotFound")


def associate_address(allocation_id: str, instance_id: str, region: str) -> None:
    doing = f"associate Elastic IP {allocation_id} with {instance_id}"
    with aws_call(doing), _transient_on(("IncorrectInstanceState",), doing):
        client("ec2", region).associate_address(AllocationId=allocation_id, InstanceId=instance_id, AllowReassociation=True)


def tagged_addresses(deployment_id: str, region: str) -> list[dict]:
    """Every Elastic IP carrying the deployment's tag, whatever its name."""
    return client("ec2", region).describe_addresses(Filters=_tagged(deployment_id))["Addresses"]
