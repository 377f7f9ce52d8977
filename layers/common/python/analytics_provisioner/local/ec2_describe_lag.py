"""AWS rule: EC2's describe calls lag its writes. EC2 documents its API as eventually consistent: a
security group just created, an inbound rule just authorised or an Elastic IP just allocated may be
missing from DescribeSecurityGroups / DescribeAddresses answers for a while after the call that made
it returned, while a create of the same thing already answers InvalidGroup.Duplicate or
InvalidPermission.Duplicate. moto shows every change at once. Here what a function made less than
``LAG_SECONDS`` simulated seconds ago is left out of that function's describe answers (a group, a
rule of a group that shows, an address).

Only the attempts of the Task that made it see the lag (the SDK's retry of a call whose answer was
lost, the state machine's Retry of the phase a second or two later: threads its state's thread
started, ``clock.TaskThread``), or, outside the state machine, the thread and function that made it.
Local mode runs everything else (the next phase, a re-run, a teardown, a test's look at the account)
with no time in between, where on AWS tens of seconds to minutes pass; they see the account as it is.
"""

import threading
from unittest import mock

from botocore import handlers
from moto.ec2.responses.elastic_ip_addresses import ElasticIPAddresses
from moto.ec2.responses.security_groups import SecurityGroups

from . import faults
from .clock import Clock, TaskThread

LAG_SECONDS = 10
_SOURCES = (("IpRanges", "CidrIp"), ("Ipv6Ranges", "CidrIpv6"), ("UserIdGroupPairs", "GroupId"), ("PrefixListIds", "PrefixListId"))
_SOURCE_LISTS = tuple(list_key for list_key, _ in _SOURCES)


def rule_keys(group_id: str, permission: dict) -> list[tuple]:
    """One key per source of an ``IpPermissions`` item: (group, protocol, ports, source)."""
    protocol = str(permission.get("IpProtocol", "")).lower()
    ports = (
        None
        if protocol in ("-1", "all")
        else tuple(None if port is None else int(port) for port in (permission.get("FromPort"), permission.get("ToPort")))
    )
    return [(group_id, protocol, ports, item[source]) for key, source in _SOURCES for item in permission.get(key, [])]


class Ec2DescribeLag:
    def __init__(self, clock: Clock, seconds: float = LAG_SECONDS):
        self.clock, self.seconds = clock, seconds
        self.made: dict[
            tuple, tuple[str, threading.Thread, float]
        ] = {}  # ("group", id) / ("address", id) / ("rule", *rule_key) -> (function, attempts, when)
        self.hidden: list[tuple] = []  # what a describe left out, for tests
        self._entries = [
            ("after-call.ec2.DescribeSecurityGroups", self._groups_described),
            ("after-call.ec2.DescribeAddresses", self._addresses_described),
        ]
        # What moto made, when it made it: the SDK's answer may be lost (local/faults.py) while AWS did the call.
        self._patches = [
            mock.patch.object(
                SecurityGroups, "create_security_group", self._made_by(SecurityGroups.create_security_group, self._group_created)
            ),
            mock.patch.object(
                SecurityGroups,
                "authorize_security_group_ingress",
                self._made_by(SecurityGroups.authorize_security_group_ingress, self._rules_authorized),
            ),
            mock.patch.object(
                ElasticIPAddresses, "allocate_address", self._made_by(ElasticIPAddresses.allocate_address, self._address_allocated)
            ),
        ]

    def install(self) -> None:
        handlers.BUILTIN_HANDLERS.extend(self._entries)
        for patch in self._patches:
            patch.start()

    def uninstall(self) -> None:
        for patch in reversed(self._patches):
            patch.stop()
        for entry in self._entries:
            if entry in handlers.BUILTIN_HANDLERS:
                handlers.BUILTIN_HANDLERS.remove(entry)

    def fresh(self, key: tuple) -> bool:
        """Made less than the lag ago by the calling function, in the same Task's attempts."""
        made = self.made.get(key)
        hide = (
            made is not None
            and made[:2] == (getattr(faults.current, "function", None), _attempts())
            and self.clock.now() - made[2] < self.seconds
        )
        if hide:
            self.hidden.append(key)
        return hide

    # the writes (moto handles a request in the caller's thread) ---------------------------------
    @staticmethod
    def _made_by(action, record):
        def handled(response):
            answer = action(response)
            if getattr(faults.current, "function", None) is not None:
                record(response, answer.result)
            return answer

        return handled

    def _made(self, key: tuple) -> None:
        self.made[key] = (faults.current.function, _attempts(), self.clock.now())

    def _group_created(self, response, result: dict) -> None:
        self._made(("group", result["GroupId"]))

    def _address_allocated(self, response, result: dict) -> None:
        self._made(("address", result["AllocationId"]))

    def _rules_authorized(self, response, result: dict) -> None:
        group_id = response._get_param("GroupId")
        for permission in response._get_param("IpPermissions", []):
            for key in rule_keys(group_id, permission):
                self._made(("rule", *key))

    # the reads ----------------------------------------------------------------------------------
    def _groups_described(self, http_response, parsed, **_):
        if http_response.status_code >= 300 or "SecurityGroups" not in parsed:
            return
        shown = [group for group in parsed["SecurityGroups"] if not self.fresh(("group", group["GroupId"]))]
        for group in shown:
            group["IpPermissions"] = [
                kept for permission in group.get("IpPermissions", []) if (kept := self._settled_sources(group["GroupId"], permission))
            ]
        parsed["SecurityGroups"] = shown

    def _settled_sources(self, group_id: str, permission: dict) -> dict | None:
        """The permission without its fresh sources; None when none is left."""
        head = {key: value for key, value in permission.items() if key not in _SOURCE_LISTS}
        kept = dict(head)
        for list_key in _SOURCE_LISTS:
            kept[list_key] = [
                item
                for item in permission.get(list_key, [])
                if not self.fresh(("rule", *rule_keys(group_id, {**head, list_key: [item]})[0]))
            ]
        return kept if any(kept[list_key] for list_key in _SOURCE_LISTS) else None

    def _addresses_described(self, http_response, parsed, **_):
        if http_response.status_code < 300 and "Addresses" in parsed:
            parsed["Addresses"] = [address for address in parsed["Addresses"] if not self.fresh(("address", address["AllocationId"]))]


def _attempts() -> threading.Thread:
    """What a Task's attempts share: the state's thread that starts each of them; else the calling thread."""
    thread = threading.current_thread()
    return thread.started_by if isinstance(thread, TaskThread) else thread
