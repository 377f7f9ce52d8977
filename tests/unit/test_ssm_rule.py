"""The emulator's SSM rule (local/ssm_run_command.py) bites: only an instance whose agent may register
is listed and takes commands, a command is in progress until simulated time passes, and a connection
probe's verdict is the path model's."""

import pytest
from botocore.exceptions import ClientError

from analytics_provisioner.aws.ec2 import IngressRule
from analytics_provisioner.local.catalog import CANONICAL
from analytics_provisioner.local.iam_propagation import PROPAGATION_SECONDS
from analytics_provisioner.local.ssm_run_command import RUN_SECONDS
from analytics_provisioner.phases.verify import probe_script

SSM_CORE = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"


@pytest.fixture
def account(aws):
    """A role in an instance profile, a database group and an instance group in the default VPC, an RDS instance."""
    iam, ec2 = aws.client("iam"), aws.client("ec2")
    iam.create_role(RoleName="box", AssumeRolePolicyDocument="{}")
    profile = iam.create_instance_profile(InstanceProfileName="box")["InstanceProfile"]["Arn"]
    iam.add_role_to_instance_profile(InstanceProfileName="box", RoleName="box")
    aws.clock.wait(PROPAGATION_SECONDS)  # IAM has propagated the profile (local/iam_propagation.py)
    vpc_id = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    box_group = ec2.create_security_group(GroupName="box", Description="box", VpcId=vpc_id)["GroupId"]
    db_group = ec2.create_security_group(GroupName="db", Description="db", VpcId=vpc_id)["GroupId"]
    rds = aws.client("rds")
    rds.create_db_instance(
        DBInstanceIdentifier="db",
        Engine="mysql",
        DBInstanceClass="db.t3.small",
        AllocatedStorage=20,
        MasterUsername="admin",
        ManageMasterUserPassword=True,
        VpcSecurityGroupIds=[db_group],
        PubliclyAccessible=False,
    )
    endpoint = rds.describe_db_instances(DBInstanceIdentifier="db")["DBInstances"][0]["Endpoint"]
    return {"profile": profile, "box_group": box_group, "db_group": db_group, "endpoint": endpoint}


def launch(aws, account, owner: str = CANONICAL) -> str:
    ec2 = aws.client("ec2")
    image = (
        next(i for i in ec2.describe_images(Owners=[owner])["Images"] if i["Architecture"] == "x86_64")["ImageId"]
        if owner == CANONICAL
        else (ec2.register_image(Name="own", RootDeviceName="/dev/sda1")["ImageId"])
    )
    return ec2.run_instances(
        ImageId=image,
        MinCount=1,
        MaxCount=1,
        InstanceType="t3.medium",
        IamInstanceProfile={"Arn": account["profile"]},
        SecurityGroupIds=[account["box_group"]],
    )["Instances"][0]["InstanceId"]


def listed(aws, instance_id: str) -> list[str]:
    found = aws.client("ssm").describe_instance_information(Filters=[{"Key": "InstanceIds", "Values": [instance_id]}])[
        "InstanceInformationList"
    ]
    return [(info["InstanceId"], info["PingStatus"]) for info in found]


def send(aws, instance_id: str, script: str) -> str:
    return aws.client("ssm").send_command(InstanceIds=[instance_id], DocumentName="AWS-RunShellScript", Parameters={"commands": [script]})[
        "Command"
    ]["CommandId"]


def test_an_instance_is_listed_and_takes_commands_only_once_its_agent_may_register(aws, account):
    instance_id = launch(aws, account)
    assert listed(aws, instance_id) == []
    with pytest.raises(ClientError) as refused:
        send(aws, instance_id, "true")
    assert refused.value.response["Error"]["Code"] == "InvalidInstanceId"
    assert f"Instances [[{instance_id}]] not in a valid state" in refused.value.response["Error"]["Message"]

    aws.client("iam").attach_role_policy(RoleName="box", PolicyArn=SSM_CORE)
    assert listed(aws, instance_id) == [(instance_id, "Online")]
    assert send(aws, instance_id, "true")


def test_an_image_without_the_agent_never_registers(aws, account):
    aws.client("iam").attach_role_policy(RoleName="box", PolicyArn=SSM_CORE)
    instance_id = launch(aws, account, owner="self")
    assert listed(aws, instance_id) == []


def test_a_connection_probe_runs_a_while_then_answers_from_the_security_groups(aws, account):
    aws.client("iam").attach_role_policy(RoleName="box", PolicyArn=SSM_CORE)
    instance_id, endpoint = launch(aws, account), account["endpoint"]
    ssm = aws.client("ssm")

    def outcome(command_id: str) -> tuple:
        found = ssm.get_command_invocation(CommandId=command_id, InstanceId=instance_id)
        return found["Status"], found["ResponseCode"], found["StandardOutputContent"] or found["StandardErrorContent"]

    closed = send(aws, instance_id, probe_script(endpoint["Address"], endpoint["Port"]))
    assert outcome(closed)[0] == "InProgress"  # moto says Success at once, without running anything
    aws.clock.wait(RUN_SECONDS)
    assert outcome(closed) == ("Failed", 1, f"cannot connect to {endpoint['Address']}:3306")

    aws.client("ec2").authorize_security_group_ingress(
        GroupId=account["db_group"], IpPermissions=[IngressRule.tcp(3306, account["box_group"]).permission()]
    )
    opened = send(aws, instance_id, probe_script(endpoint["Address"], endpoint["Port"]))
    aws.clock.wait(RUN_SECONDS)
    assert outcome(opened) == ("Success", 0, f"connected to {endpoint['Address']}:3306: the server answered")

    other_port = send(aws, instance_id, probe_script(endpoint["Address"], 3307))
    anything_else = send(aws, instance_id, "exit 0")
    aws.clock.wait(RUN_SECONDS)
    assert outcome(other_port)[0] == "Failed"
    assert outcome(anything_else) == ("Failed", 1, "local mode runs no shell: only a /dev/tcp connection probe is emulated")
