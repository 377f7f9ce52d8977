"""Creates that a retry cannot duplicate, in whole executions of the real state machine: a lost answer
(AWS did the call, the SDK's read timed out and it sends the call again) and a phase retried while
EC2's describe calls still lag what its first attempt made (local/faults.py, local/ec2_describe_lag.py)."""

import pytest

from analytics_provisioner.local.emulator import Emulator
from analytics_provisioner.local.runner import execute
from analytics_provisioner.local.seed import seed
from analytics_provisioner.naming import EMR_MASTER_SECURITY_GROUP, EMR_SLAVE_SECURITY_GROUP, Names
from testkit import REGION, inventory, load_event

# A create the SDK sends again when its answer is lost, and what AWS answers the second time.
LOST_CREATES = [
    ("IdentityFunction", "CreateRole"),  # EntityAlreadyExists, as for the next three
    ("IdentityFunction", "CreatePolicy"),
    ("IdentityFunction", "CreateInstanceProfile"),
    ("IdentityFunction", "CreateUser"),
    ("IdentityFunction", "AddRoleToInstanceProfile"),  # LimitExceeded: a profile holds one role
    ("IdentityFunction", "CreateAccessKey"),  # a second key, whose secret nobody holds
    ("SearchFunction", "CreateDomain"),  # ResourceAlreadyExistsException
    ("DatabaseFunction", "CreateDBSubnetGroup"),  # DBSubnetGroupAlreadyExists
    ("DatabaseFunction", "CreateDBInstance"),  # DBInstanceAlreadyExists
    ("StorageFunction", "CreateBucket"),  # none in us-east-1; BucketAlreadyOwnedByYou elsewhere
    ("ComputeFunction", "CreateKeyPair"),  # InvalidKeyPair.Duplicate, and the private key is in the lost answer
]


def group_names(emulator, vpc_id: str) -> list[str]:
    groups = emulator.client("ec2").describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["SecurityGroups"]
    return sorted(group["GroupName"] for group in groups)


def default_vpc(emulator) -> str:
    return emulator.client("ec2").describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]


def our_group_names(deployment_id: str) -> list[str]:
    names = Names(deployment_id)
    return sorted(
        [
            names.analytics_security_group,
            names.director_security_group,
            names.emr_rds_security_group,
            EMR_MASTER_SECURITY_GROUP,
            EMR_SLAVE_SECURITY_GROUP,
        ]
    )


def test_a_lost_allocate_address_answer_leaves_one_elastic_ip(emulator, minimal_input):
    seed(emulator, minimal_input)
    lost = emulator.faults.lost_answer("ComputeFunction", "AllocateAddress")

    result = execute(emulator, minimal_input)

    assert result.status == "SUCCEEDED", result.cause
    assert lost.lost == 1
    ec2 = emulator.client("ec2")
    [address] = ec2.describe_addresses()["Addresses"]
    [insights] = [i for r in ec2.describe_instances(InstanceIds=[address["InstanceId"]])["Reservations"] for i in r["Instances"]]
    assert {"Key": "Name", "Value": Names(minimal_input["deployment_id"]).analytics_instance(1)} in insights["Tags"]


@pytest.mark.parametrize("operation", ["CreateSecurityGroup", "AuthorizeSecurityGroupIngress"])
def test_a_lost_answer_in_network_is_no_duplicate_error(emulator, minimal_input, operation):
    """The SDK's retry of the call answers InvalidGroup.Duplicate / InvalidPermission.Duplicate: the
    group is there (adopted: it carries our tag) and so is the rule."""
    seed(emulator, minimal_input)
    lost = emulator.faults.lost_answer("NetworkFunction", operation)

    result = execute(emulator, minimal_input)

    assert result.status == "SUCCEEDED", result.cause
    assert lost.lost == 1
    vpc_id = default_vpc(emulator)
    assert [name for name in group_names(emulator, vpc_id) if name in our_group_names(minimal_input["deployment_id"])] == our_group_names(
        minimal_input["deployment_id"]
    )


def test_network_retried_while_ec2_lists_lag_adopts_what_its_first_attempt_made(emulator, minimal_input):
    """EC2's eventual consistency both ways: authorising a rule of a group made a moment ago answers
    InvalidGroup.NotFound (retryable), and the retried phase's look-ups do not show the groups and rules
    its first attempt made, while creating them again answers InvalidGroup.Duplicate."""
    seed(emulator, minimal_input)
    emulator.faults.aws(
        "NetworkFunction",
        times=1,
        code="InvalidGroup.NotFound",
        operation="AuthorizeSecurityGroupIngress",
        after="AuthorizeSecurityGroupIngress",
    )

    result = execute(emulator, minimal_input)

    assert result.status == "SUCCEEDED", result.cause
    assert emulator.faults.aws_injected == 1
    creates = [call for call in emulator.faults.calls if call.operation == "CreateSecurityGroup"]
    assert len(creates) == len(our_group_names(minimal_input["deployment_id"])) + 1, "the retry did not meet InvalidGroup.Duplicate"
    assert any(key[0] == "group" for key in emulator.ec2_describe_lag.hidden), "the retry's look-ups saw every group at once"
    vpc_id = default_vpc(emulator)
    assert [name for name in group_names(emulator, vpc_id) if name in our_group_names(minimal_input["deployment_id"])] == our_group_names(
        minimal_input["deployment_id"]
    )


@pytest.fixture(scope="module")
def clean_counts(mysql_server, database_servers) -> dict:
    """Resource counts after a fault-free run of the minimal input, in an emulator of its own."""
    document = load_event("input-minimal.json")
    with Emulator(region=REGION, mysql=mysql_server, database_servers=database_servers.server) as clean:
        seed(clean, document)
        assert execute(clean, document).status == "SUCCEEDED"
        return {kind: len(items) for kind, items in inventory(clean).items()}


@pytest.mark.parametrize(("function", "operation"), LOST_CREATES, ids=[operation for _, operation in LOST_CREATES])
def test_a_lost_answer_to_a_create_is_survived_without_duplicates(clean_counts, emulator, minimal_input, function, operation):
    seed(emulator, minimal_input)
    lost = emulator.faults.lost_answer(function, operation)

    result = execute(emulator, minimal_input)

    assert result.status == "SUCCEEDED", result.cause
    assert lost.lost == 1
    assert {kind: len(items) for kind, items in inventory(emulator).items()} == clean_counts
