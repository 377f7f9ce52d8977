"""Compute: the runbook's "EC2", "Director EC2" and "Elastic IP" steps as one idempotent ensure.

Top to bottom: the Ubuntu image (Validate has resolved it into options.ami_id, so a missing one
fails before anything exists; looked up again here in case it was deregistered since), a key pair
per instance set and Jenkins' git deploy key, the analytics instance(s), the director, the Elastic IP on
the Insights instance (analytics-1).

What a re-run does with what it finds (instances are found by their Name and deployment tags):
- pending or running: adopted as it is. A newer Ubuntu image or an edited size applies only to
  instances launched later; nothing running is changed.
- stopped or stopping: started again, with a warning. The deployment needs it running (the
  Elastic IP, the SSH and ansible steps that follow); stop it again if it was stopped on purpose.
- terminated or shutting-down: reported in a warning and replaced; the Elastic IP moves to the
  replacement. RunInstances carries the ClientToken ``<name>-g<generation>``, so a retried launch
  gets the same instance back. EC2 remembers a token for at least 24 hours after its instance
  terminated and answers with that dead instance (or IdempotentParameterMismatch when the request
  changed), so a replacement takes the next generation.
- a key pair of ours whose private key is no longer in Secrets Manager is an error, never
  silently replaced: EC2 cannot hand the key out again and running instances trust the old one.
  Except a pair created less than 15 minutes ago that no instance uses: a create that never
  finished (its answer, which carries the private key, was lost, or the run stopped before storing
  it). Nobody holds that key: it is deleted and the retry creates a new pair.
"""

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from ..aws import instances, secrets
from ..aws import tags as tagging
from ..aws.clients import partition
from ..aws.errors import aws_call
from ..deployment import Deployment, ResolvedDeployment
from ..errors import PreflightError, ResourceStateError, TransientAwsError
from ..plan import Change, create, keep, modify
from ..settings import Settings
from ..state import ComputeOutput, DeployKey, ElasticIp, IdentityOutput, InstanceSummary, KeyPairRef, KeyPairs, NetworkOutput
from . import polling

# Canonical publishes the Ubuntu images under one account per partition.
CANONICAL_OWNERS = {"aws": "099720109477", "aws-cn": "837727238323", "aws-us-gov": "513442679011"}
UBUNTU_CODENAMES = {"16.04": "xenial", "18.04": "bionic", "20.04": "focal", "22.04": "jammy"}
UBUNTU_ARCHITECTURES = {"x86_64": "amd64", "arm64": "arm64"}
# Canonical moved new images from hvm-ssd to hvm-ssd-gp3 (22.04 onwards): search both.
UBUNTU_IMAGE_STORES = ("hvm-ssd", "hvm-ssd-gp3")

# The runbook's "Install all available updates" on first boot. No secret ever goes here.
FIRST_BOOT = "#cloud-config\npackage_update: true\npackage_upgrade: true\n"
MAX_GENERATIONS = 20
# A key pair younger than this without its secret is a create that never finished (see interrupted_create).
INTERRUPTED_CREATE_SECONDS = 15 * 60


@dataclass(frozen=True)
class InstanceSpec:
    name: str
    instance_type: str
    volume_gb: int
    key_name: str
    subnet_id: str
    security_group_ids: tuple[str, ...]
    instance_profile_arn: str | None = None


def run(deployment: ResolvedDeployment, identity: IdentityOutput, network: NetworkOutput, settings: Settings) -> ComputeOutput:
    names = deployment.names
    warnings: list[str] = []
    with aws_call("launch instances"):
        image = ubuntu_image(deployment, settings.trusted_image_owners)
        key_pairs = KeyPairs(
            analytics=KeyPairRef(**ensure_key_pair(deployment, names.analytics_key_pair)),
            director=KeyPairRef(**ensure_key_pair(deployment, names.director_key_pair)),
            jenkins_deploy=DeployKey(**ensure_deploy_key(deployment)),
        )
        specs = analytics_specs(deployment, identity, network) + [director_spec(deployment, network)]
        instance_ids = [ensure_instance(deployment, spec, image, warnings) for spec in specs]
        instances.wait_running(instance_ids, deployment.region)
        eip = ensure_elastic_ip(deployment, instance_ids[0], warnings)
        described = {i["InstanceId"]: i for i in instances.describe(instance_ids, deployment.region)}
    summaries = [
        InstanceSummary(**summary(described[instance_id], spec.name)) for instance_id, spec in zip(instance_ids, specs, strict=True)
    ]
    return ComputeOutput(
        ami_id=image["ImageId"],
        analytics_instances=summaries[:-1],
        director_instance=summaries[-1],
        eip=ElasticIp(**eip),
        key_pairs=key_pairs,
        warnings=warnings,
    )


# The image: newest Canonical Ubuntu LTS unless options pin one --------------------------------
def ubuntu_image(deployment: Deployment, trusted_owners: tuple[str, ...]) -> dict:
    """``trusted_owners``: the accounts besides Canonical whose images may be pinned (``Settings.trusted_image_owners``)."""
    options, region = deployment.options, deployment.region
    if options.ami_id:
        pinned = instances.image(options.ami_id, region)
        if pinned is None:
            raise PreflightError(
                f"options.ami_id: image {options.ami_id} does not exist in {region} or is not shared with this account; give an AMI id of this region"
            )
        require_trusted_owner(pinned, region, trusted_owners)
        return pinned
    release = options.effective_ubuntu_release
    found = instances.newest_image(
        canonical_owner(region), ubuntu_name_patterns(release, options.architecture), options.architecture, region
    )
    if found is None:
        raise PreflightError(
            f"options.ubuntu_release: no Canonical Ubuntu {release} {options.architecture} image found in {region}; "
            "pin an image with options.ami_id, or choose another options.ubuntu_release"
        )
    return found


def canonical_owner(region: str) -> str:
    return CANONICAL_OWNERS[partition(region)]


def require_trusted_owner(image: dict, region: str, trusted_owners: tuple[str, ...]) -> None:
    """A pinned image runs with the analytics instance profile: only Canonical's or a trusted owner's
    (``trusted_owners``: the accounts the stack parameter TrustedImageOwners adds)."""
    trusted = [canonical_owner(region), *trusted_owners]
    if image.get("OwnerId") not in trusted:
        raise PreflightError(
            f"options.ami_id: image {image['ImageId']} belongs to account {image.get('OwnerId')}, not to Canonical ({trusted[0]}) "
            f"nor to an owner the stack trusts ({', '.join(trusted[1:]) or 'none'}); pin a Canonical Ubuntu image, omit "
            "options.ami_id for the newest one, or add the owner to the stack parameter TrustedImageOwners"
        )


def ubuntu_name_patterns(release: str, architecture: str) -> list[str]:
    codename, arch = UBUNTU_CODENAMES[release], UBUNTU_ARCHITECTURES[architecture]
    return [f"ubuntu/images/{store}/ubuntu-{codename}-{release}-{arch}-server-*" for store in UBUNTU_IMAGE_STORES]


# Key pairs: one per instance set --------------------------------------------------------------
def ensure_key_pair(deployment: Deployment, name: str) -> dict:
    region, deployment_id = deployment.region, deployment.deployment_id
    secret_name = deployment.names.key_pair_secret(name)
    existing, created = polling.found_or_created(
        lambda: instances.key_pair(name, region),
        lambda: instances.create_key_pair_into_secret(name, secret_name, deployment_id, region),
        f"key pair {name!r}",
    )
    if created:
        return {"name": name, "secret_arn": existing["secret_arn"]}
    tagging.require_ours(tagging.from_list(existing.get("Tags")), deployment_id, f"key pair {name!r}")
    secret_arn = secrets.arn_if_ours(secret_name, region, deployment_id)
    if secret_arn is None and interrupted_create(existing, region):
        with aws_call(f"delete key pair {name} whose private key nobody holds"):
            instances.delete_key_pair(name, region)
        raise TransientAwsError(
            f"key pair {name!r} was created moments ago but its private key never reached {secret_name} (the "
            "answer carrying it was lost, or the run stopped before storing it); deleted it, the retry creates a new one"
        )
    if secret_arn is None:
        raise ResourceStateError(
            f"key pair {name!r} exists but its private key is not in Secrets Manager ({secret_name}), and EC2 cannot "
            "hand it out again. Store the key you hold in that secret as JSON {key_name, key_pair_id, private_key}, "
            f"or delete the key pair (aws ec2 delete-key-pair --key-name {name}) and re-run to create a new one "
            "(instances launched with the old key keep trusting it)"
        )
    return {"name": name, "secret_arn": secret_arn}


def interrupted_create(pair: dict, region: str) -> bool:
    """A pair of ours created minutes ago that no instance uses and whose private key is in no secret:
    nobody holds its key, so replacing it breaks nothing."""
    age = datetime.now(UTC) - pair["CreateTime"]
    return age.total_seconds() < INTERRUPTED_CREATE_SECONDS and not instances.key_pair_in_use(pair["KeyName"], region)


def ensure_deploy_key(deployment: Deployment) -> dict:
    """The key Jenkins' seed job clones the secure repo with (credential github-deploy-key). EC2 is the key
    generator the Lambda runtime has: the pair is on no instance. Its public half goes to the output, where
    the operator takes it to add it to the secure repo as a read-only deploy key."""
    name = deployment.names.jenkins_deploy_key_pair
    found = ensure_key_pair(deployment, name)
    return found | {"public_key": (instances.key_pair(name, deployment.region) or {})["PublicKey"].strip()}  # ensured just now


# Instances: the runbook's analytics box(es) and the director ----------------------------------
def analytics_specs(deployment: Deployment, identity: IdentityOutput, network: NetworkOutput) -> list[InstanceSpec]:
    options, names, groups = deployment.options, deployment.names, network.security_groups
    return [
        InstanceSpec(
            name=names.analytics_instance(n),
            instance_type=options.analytics_instance_type,
            volume_gb=options.analytics_volume_gb,
            key_name=names.analytics_key_pair,
            subnet_id=network.subnet_id,
            security_group_ids=(groups.default, groups.analytics),
            instance_profile_arn=identity.analytics_instance_profile_arn,
        )
        for n in range(1, options.analytics_instance_count + 1)
    ]


def director_spec(deployment: Deployment, network: NetworkOutput) -> InstanceSpec:
    options, names, groups = deployment.options, deployment.names, network.security_groups
    return InstanceSpec(
        name=names.director_instance,
        instance_type=options.director_instance_type,
        volume_gb=options.director_volume_gb,
        key_name=names.director_key_pair,
        subnet_id=network.subnet_id,
        security_group_ids=(groups.default, groups.director),
    )


def ensure_instance(deployment: Deployment, spec: InstanceSpec, image: dict, warnings: list[str]) -> str:
    found = instances.instances_named(spec.name, deployment.deployment_id, deployment.region)
    alive = [i for i in found if i["State"]["Name"] not in instances.GONE]
    if alive:
        return adopt(deployment, spec, alive, warnings)
    instance_id = launch(deployment, spec, image, next_generation(spec.name, found))
    warnings += [
        f"instance {gone['InstanceId']} ({spec.name}) is {gone['State']['Name']}; launched {instance_id} to replace it" for gone in found
    ]
    return instance_id


def adopt(deployment: Deployment, spec: InstanceSpec, alive: list[dict], warnings: list[str]) -> str:
    instance, state = alive[0], alive[0]["State"]["Name"]
    if len(alive) > 1:
        others = ", ".join(i["InstanceId"] for i in alive[1:])
        warnings.append(
            f"{len(alive)} instances carry Name={spec.name}: using the oldest, {instance['InstanceId']}; terminate the others ({others}) if they are strays"
        )
    if state in instances.STOPPED:
        instances.start(instance["InstanceId"], deployment.region)
        warnings.append(
            f"instance {instance['InstanceId']} ({spec.name}) was {state}; started it again (stop it afterwards if it was stopped on purpose)"
        )
    return instance["InstanceId"]


def launch(deployment: Deployment, spec: InstanceSpec, image: dict, first_generation: int) -> str:
    generations = range(first_generation, first_generation + MAX_GENERATIONS)
    for generation in generations:
        launched = instances.run_instance(launch_request(deployment, spec, image, client_token(spec.name, generation)), deployment.region)
        # A spent token answers with its terminated instance, or None (IdempotentParameterMismatch).
        if launched is not None and launched["State"]["Name"] not in instances.GONE:
            return launched["InstanceId"]
    raise ResourceStateError(
        f"instance {spec.name}: the client tokens {client_token(spec.name, generations[0])} to "
        f"{client_token(spec.name, generations[-1])} are all spent on terminated instances; re-run in a day"
    )


def client_token(name: str, generation: int) -> str:
    return f"{name}-g{generation}"


def next_generation(name: str, found: list[dict]) -> int:
    pattern = re.compile(re.escape(name) + r"-g(\d+)")
    spent = [int(match.group(1)) for i in found if (match := pattern.fullmatch(i.get("ClientToken", "")))]
    return max(spent, default=0) + 1


def launch_request(deployment: Deployment, spec: InstanceSpec, image: dict, token: str) -> dict:
    request = {
        "ImageId": image["ImageId"],
        "InstanceType": spec.instance_type,
        "MinCount": 1,
        "MaxCount": 1,
        "ClientToken": token,
        "KeyName": spec.key_name,
        # A public address whatever the subnet's default: first boot fetches its updates, and the
        # director is reached over SSH.
        "NetworkInterfaces": [
            {
                "DeviceIndex": 0,
                "SubnetId": spec.subnet_id,
                "Groups": list(spec.security_group_ids),
                "AssociatePublicIpAddress": True,
                "DeleteOnTermination": True,
            }
        ],
        "BlockDeviceMappings": [
            {
                "DeviceName": image["RootDeviceName"],
                "Ebs": {"VolumeSize": spec.volume_gb, "VolumeType": "gp3", "Encrypted": True, "DeleteOnTermination": True},
            }
        ],
        "MetadataOptions": {"HttpTokens": "required", "HttpEndpoint": "enabled"},
        "UserData": FIRST_BOOT,
        "TagSpecifications": instances.tag_specifications(
            ("instance", "volume", "network-interface"), tagging.ours(deployment.deployment_id, Name=spec.name)
        ),
    }
    if spec.instance_profile_arn:
        request["IamInstanceProfile"] = {"Arn": spec.instance_profile_arn}
    return request


# Elastic IP: allocated once, on the Insights instance -----------------------------------------
def ensure_elastic_ip(deployment: Deployment, insights_instance_id: str, warnings: list[str]) -> dict:
    region, deployment_id, name = deployment.region, deployment.deployment_id, deployment.names.insights_eip
    found = instances.addresses_named(name, deployment_id, region) or allocate_elastic_ip(deployment)
    address = keep_one_address(deployment, found, insights_instance_id, warnings)
    previous = address.get("InstanceId")
    if previous != insights_instance_id:
        instances.associate_address(address["AllocationId"], insights_instance_id, region)
        if previous:
            warnings.append(
                f"Elastic IP {address['PublicIp']} was on {previous}; moved it to {insights_instance_id} ({deployment.names.analytics_instance(1)})"
            )
    return {"allocation_id": address["AllocationId"], "public_ip": address["PublicIp"], "instance_id": insights_instance_id}


def allocate_elastic_ip(deployment: Deployment) -> list[dict]:
    """A new address, tagged by the call. AllocateAddress takes no client token and is sent once: after a
    lost answer, what it allocated is found by its tag once EC2's describe shows it (or nothing shows,
    and the phase's retry looks again before allocating)."""
    region, deployment_id, name = deployment.region, deployment.deployment_id, deployment.names.insights_eip
    allocated = instances.allocate_address(name, deployment_id, region)
    if allocated is not None:
        return [allocated]
    return polling.until_found(
        lambda: instances.addresses_named(name, deployment_id, region),
        f"Elastic IP {name}",
        "the answer to AllocateAddress was lost, so it may have allocated one",
    )


def keep_one_address(deployment: Deployment, found: list[dict], insights_instance_id: str, warnings: list[str]) -> dict:
    """The address to use when several carry our Name (allocated twice by an older version's retry, or
    by a retry within the seconds EC2's describe lags): the one on the instance, else one associated
    elsewhere (its IP may be published), else the lowest allocation id. The others are released when
    nothing uses them and they carry our deployment tag; any other stays, with a warning."""
    name, deployment_id = deployment.names.insights_eip, deployment.deployment_id
    kept, *spares = sorted(found, key=lambda a: (a.get("InstanceId") != insights_instance_id, "AssociationId" not in a, a["AllocationId"]))
    for spare in spares:
        if "AssociationId" not in spare and tagging.belongs_to(tagging.from_list(spare.get("Tags")), deployment_id):
            instances.release_address(spare, deployment.region)
            warnings.append(
                f"released Elastic IP {spare['PublicIp']} ({spare['AllocationId']}): a second, unused address named {name}; "
                f"{kept['PublicIp']} is the deployment's"
            )
        else:
            warnings.append(
                f"Elastic IP {spare['PublicIp']} ({spare['AllocationId']}) also carries Name={name} and is in use; "
                f"{kept['PublicIp']} is the deployment's: release the other if it is a stray"
            )
    return kept


def summary(instance: dict, name: str) -> dict:
    return {
        "instance_id": instance["InstanceId"],
        "name": name,
        "private_ip": instance.get("PrivateIpAddress"),
        "public_ip": instance.get("PublicIpAddress"),
        "private_dns": instance.get("PrivateDnsName"),
    }


# The plan: what run() would do, found with reads only ---------------------------------------------
def plan(deployment: Deployment) -> list[Change]:
    names, options, region = deployment.names, deployment.options, deployment.region
    changes = []
    for name in (names.analytics_key_pair, names.director_key_pair, names.jenkins_deploy_key_pair):
        changes += plan_key_pair(deployment, name)
    specs = [
        (names.analytics_instance(n), options.analytics_instance_type, options.analytics_volume_gb)
        for n in range(1, options.analytics_instance_count + 1)
    ]
    specs.append((names.director_instance, options.director_instance_type, options.director_volume_gb))
    alive_ids = {}
    for name, instance_type, volume_gb in specs:
        change, alive_ids[name] = plan_instance(deployment, name, f"{instance_type}, {volume_gb} GB encrypted, image {options.ami_id}")
        changes.append(change)
    insights = names.analytics_instance(1)
    found = instances.addresses_named(names.insights_eip, deployment.deployment_id, region)
    if not found:
        changes.append(create("Elastic IP", names.insights_eip, f"on {insights}"))
    elif alive_ids[insights] is not None and any(address.get("InstanceId") == alive_ids[insights] for address in found):
        changes.append(keep("Elastic IP", f"{names.insights_eip} ({found[0]['PublicIp']})", f"on {insights}"))
    else:
        changes.append(modify("Elastic IP", f"{names.insights_eip} ({found[0]['PublicIp']})", f"associated with {insights}"))
    return changes


def plan_key_pair(deployment: Deployment, name: str) -> list[Change]:
    secret_name = deployment.names.key_pair_secret(name)
    if instances.key_pair(name, deployment.region) is None:
        return [create("key pair", name, "generated by EC2"), create("secret", secret_name, f"the private key of {name}")]
    if secrets.describe(secret_name, deployment.region) is None:
        return [keep("key pair", name, f"exists, but its private key is not in {secret_name}: Compute stops there (see its error)")]
    return [keep("key pair", name, "exists and is ours"), keep("secret", secret_name, f"holds the private key of {name}")]


def plan_instance(deployment: Deployment, name: str, what: str) -> tuple[Change, str | None]:
    """(the change, the id of the instance kept or started again)."""
    found = instances.instances_named(name, deployment.deployment_id, deployment.region)
    alive = [i for i in found if i["State"]["Name"] not in instances.GONE]
    if not alive:
        replacing = f"; replaces {', '.join(i['InstanceId'] for i in found)} ({found[0]['State']['Name']})" if found else ""
        return create("EC2 instance", name, what + replacing), None
    instance, state = alive[0], alive[0]["State"]["Name"]
    if state in instances.STOPPED:
        return modify("EC2 instance", f"{name} ({instance['InstanceId']})", f"{state}: started again"), instance["InstanceId"]
    return keep("EC2 instance", f"{name} ({instance['InstanceId']})", f"{state}: adopted as it is"), instance["InstanceId"]
