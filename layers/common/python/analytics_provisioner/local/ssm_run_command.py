"""AWS rule: Systems Manager runs a command only on an instance whose agent has registered, and the
command's verdict comes from the instance's network.

On AWS an instance appears in DescribeInstanceInformation (``PingStatus`` Online) once its SSM agent
has registered: the image ships the agent (Canonical's Ubuntu images do) and the instance may
register (its instance profile's role has the permissions of AmazonSSMManagedInstanceCore, or the
account's Default Host Management Configuration is on). SendCommand to any other instance answers
``InvalidInstanceId``. A command runs for a while (Pending, InProgress), then its invocation says
Success or Failed with the script's output. moto has none of this: no DescribeInstanceInformation,
and a SendCommand that accepts any instance id and reports Success at once without running anything
(``tests/static/test_moto_canary.py`` checks it still does).

Local mode registers a running instance launched from a Canonical image whose profile's role has
AmazonSSMManagedInstanceCore attached (Default Host Management Configuration is not modelled). An
invocation is InProgress until ``RUN_SECONDS`` have passed on the simulated clock for the asking
thread (``Clock.since``: only the state machine's Wait makes them pass); then a script that opens
``/dev/tcp/<host>/<port>`` succeeds when the path model (``analytics_provisioner.reachability``)
lets the instance reach the RDS instance behind that endpoint on that port, and fails with exit code
1 otherwise. Local mode runs no shell: any other script fails, saying so.
"""

import re
import threading

from botocore import handlers

from .. import reachability
from ..aws import clients
from . import hooks
from .catalog import CANONICAL
from .clock import Clock
from .faults import outside_functions

RUN_SECONDS = 8
SSM_CORE_POLICY = "AmazonSSMManagedInstanceCore"
_PROBE = re.compile(r"/dev/tcp/([A-Za-z0-9.-]+)/(\d+)")


class SsmRunCommand:
    def __init__(self, clock: Clock, region: str, account: str):
        self.clock, self.region, self.account = clock, region, account
        self.commands: dict[str, dict] = {}  # command id -> {instance_ids, commands, mark}
        self._lock = threading.Lock()
        self._entries: list[hooks.Entry] = [
            (f"provide-client-params.ssm.{operation}", hooks.remember_request)
            for operation in ("DescribeInstanceInformation", "SendCommand", "GetCommandInvocation")
        ]
        self._entries += [
            ("before-call.ssm.DescribeInstanceInformation", self._describe_instance_information),
            ("before-call.ssm.SendCommand", self._refuse_unregistered),
            ("after-call.ssm.SendCommand", self._sent),
            ("before-call.ssm.GetCommandInvocation", self._invocation),
        ]

    def install(self) -> None:
        handlers.BUILTIN_HANDLERS.extend(self._entries)

    def uninstall(self) -> None:
        for entry in self._entries:
            handlers.BUILTIN_HANDLERS.remove(entry)

    # registration ------------------------------------------------------------------------------
    def registered(self, instance: dict) -> bool:
        """Runs, ships the agent (a Canonical image) and may register (AmazonSSMManagedInstanceCore on its profile's role)."""
        if instance["State"]["Name"] != "running" or not instance.get("IamInstanceProfile"):
            return False
        images = self._client("ec2").describe_images(ImageIds=[instance["ImageId"]])["Images"]
        if not images or images[0].get("OwnerId") != CANONICAL:
            return False
        iam = self._client("iam")
        profile = iam.get_instance_profile(InstanceProfileName=instance["IamInstanceProfile"]["Arn"].rsplit("/", 1)[-1])["InstanceProfile"]
        return any(
            policy["PolicyName"] == SSM_CORE_POLICY
            for role in profile["Roles"]
            for policy in iam.list_attached_role_policies(RoleName=role["RoleName"])["AttachedPolicies"]
        )

    def _instances(self, instance_ids: list[str] | None) -> list[dict]:
        reservations = self._client("ec2").describe_instances(**({"InstanceIds": instance_ids} if instance_ids else {}))["Reservations"]
        return [instance for reservation in reservations for instance in reservation["Instances"]]

    def _describe_instance_information(self, context, **_):
        request = hooks.request(context)
        wanted = [
            value
            for f in request.get("Filters", []) + request.get("InstanceInformationFilterList", [])
            if f.get("Key") in ("InstanceIds", "instanceIds")
            for value in f.get("Values", f.get("valueSet", []))
        ]
        with outside_functions():
            online = [i for i in self._instances(None) if (not wanted or i["InstanceId"] in wanted) and self.registered(i)]
        return hooks.aws_answer(
            {
                "InstanceInformationList": [
                    {
                        "InstanceId": i["InstanceId"],
                        "PingStatus": "Online",
                        "PlatformType": "Linux",
                        "PlatformName": "Ubuntu",
                        "ResourceType": "EC2Instance",
                        "AgentVersion": "3.3.0.0",
                        "IPAddress": i.get("PrivateIpAddress"),
                    }
                    for i in online
                ]
            }
        )

    # commands ----------------------------------------------------------------------------------
    def _refuse_unregistered(self, context, **_):
        instance_ids = hooks.request(context).get("InstanceIds", [])
        with outside_functions():
            known = {i["InstanceId"]: i for i in self._instances(None)}
            refused = [i for i in instance_ids if i not in known or not self.registered(known[i])]
        if not refused:
            return None
        return hooks.aws_error("InvalidInstanceId", f"Instances [[{', '.join(refused)}]] not in a valid state for account {self.account}")

    def _sent(self, parsed, context, **_):
        command = parsed.get("Command")
        if command:
            request = hooks.request(context)
            with self._lock:
                self.commands[command["CommandId"]] = {
                    "instance_ids": list(request.get("InstanceIds", [])),
                    "commands": list(request.get("Parameters", {}).get("commands", [])),
                    "mark": self.clock.mark(),
                }

    def _invocation(self, context, **_):
        request = hooks.request(context)
        sent = self.commands.get(request.get("CommandId", ""))
        if sent is None or request.get("InstanceId") not in sent["instance_ids"]:
            return None  # not ours: moto answers (InvocationDoesNotExist for an unknown pair)
        answer = {
            "CommandId": request["CommandId"],
            "InstanceId": request["InstanceId"],
            "DocumentName": "AWS-RunShellScript",
            "PluginName": "aws:runShellScript",
            "StandardOutputContent": "",
            "StandardErrorContent": "",
        }
        if self.clock.since(sent["mark"]) < RUN_SECONDS:
            return hooks.aws_answer(answer | {"Status": "InProgress", "StatusDetails": "InProgress", "ResponseCode": -1})
        with outside_functions():
            ok, output = self.run(request["InstanceId"], "\n".join(sent["commands"]))
        status = "Success" if ok else "Failed"
        stream = "StandardOutputContent" if ok else "StandardErrorContent"
        return hooks.aws_answer(answer | {"Status": status, "StatusDetails": status, "ResponseCode": 0 if ok else 1, stream: output})

    def run(self, instance_id: str, script: str) -> tuple[bool, str]:
        """The script's verdict on the instance: only a connection probe can be judged here."""
        probe = _PROBE.search(script)
        if probe is None:
            return False, "local mode runs no shell: only a /dev/tcp connection probe is emulated"
        host, port = probe.group(1), int(probe.group(2))
        [instance] = self._instances([instance_id])
        database = next(
            (db for db in self._client("rds").describe_db_instances()["DBInstances"] if db.get("Endpoint", {}).get("Address") == host), None
        )
        if database is None or database["Endpoint"].get("Port") != port:
            return False, f"cannot connect to {host}:{port}"
        network = reachability.Network(self._client("ec2").describe_security_groups()["SecurityGroups"])
        if network.reaches(reachability.instance(instance), reachability.db_instance(database), port):
            return True, f"connected to {host}:{port}: the server answered"
        return False, f"cannot connect to {host}:{port}"

    def _client(self, service: str):
        return clients.client(service, self.region)
