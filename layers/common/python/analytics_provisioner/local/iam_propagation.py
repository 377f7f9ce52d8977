"""AWS rule: a new IAM principal or instance profile is not usable by other services at once.

IAM is eventually consistent: a user, role or instance profile exists in IAM's own API the moment it
is created, but other services accept it only once it has propagated, seconds to minutes later.
Until then:
- OpenSearch CreateDomain/UpdateDomainConfig with an access policy naming the principal answers
  ``InvalidTypeException`` "Error setting policy" (HTTP 409);
- RunInstances with the instance profile answers ``InvalidParameterValue`` "Invalid IAM Instance
  Profile" (for a profile, propagation counts from the role being added to it).
Local mode counts ``PROPAGATION_SECONDS`` on the simulated clock, per thread (``Clock.since``): the
asking thread must have waited that long since the creation. So every principal a run creates is
refused on first use, deterministically, and only waiting (a Retry) gets it through. moto has no
propagation delay (``tests/static/test_moto_canary.py`` checks it still has none).
"""

import json

from botocore import handlers

from . import hooks
from .clock import Clock

PROPAGATION_SECONDS = 10
CREATED = {  # IAM call -> where its answer names what it created
    "CreateUser": ("User", "Arn"),
    "CreateRole": ("Role", "Arn"),
    "CreateInstanceProfile": ("InstanceProfile", "InstanceProfileName"),
}
_active: list["IamPropagation"] = []  # emulators may nest: the innermost one's rule applies


class IamPropagation:
    def __init__(self, clock: Clock, seconds: float = PROPAGATION_SECONDS):
        self.clock, self.seconds = clock, seconds
        self.created: dict[str, dict] = {}  # principal ARN or instance profile name -> clock mark
        self.refused: list[str] = []  # what was refused, for tests
        self._entries: list[hooks.Entry] = [(f"after-call.iam.{operation}", self._created) for operation in CREATED]
        self._entries += [
            ("provide-client-params.iam.AddRoleToInstanceProfile", hooks.remember_request),
            ("after-call.iam.AddRoleToInstanceProfile", self._role_added),
        ]
        for operation in ("CreateDomain", "UpdateDomainConfig"):
            self._entries += [
                (f"provide-client-params.opensearch.{operation}", hooks.remember_request),
                (f"before-call.opensearch.{operation}", self._check_access_policy),
            ]
        self._entries += [
            ("provide-client-params.ec2.RunInstances", hooks.remember_request),
            ("before-call.ec2.RunInstances", self._check_instance_profile),
        ]

    def install(self) -> None:
        _active.append(self)
        handlers.BUILTIN_HANDLERS.extend(self._entries)

    def uninstall(self) -> None:
        _active.remove(self)
        for entry in self._entries:
            handlers.BUILTIN_HANDLERS.remove(entry)

    def fresh(self, key: str) -> bool:
        mark = self.created.get(key)
        return mark is not None and self.clock.since(mark) < self.seconds and _active[-1] is self

    # after the IAM calls: when each thing became known -----------------------------------------
    def _created(self, parsed, model, **_):
        item, key = CREATED[model.name]
        if item in parsed:
            self.created[parsed[item][key]] = self.clock.mark()

    def _role_added(self, http_response, context, **_):
        if http_response.status_code < 300:
            self.created[hooks.request(context)["InstanceProfileName"]] = self.clock.mark()

    # before the calls that use them ------------------------------------------------------------
    def _check_access_policy(self, context, **_):
        policy = hooks.request(context).get("AccessPolicies")
        statements = json.loads(policy).get("Statement", []) if policy else []
        fresh = [principal for statement in statements for principal in _aws_principals(statement) if self.fresh(principal)]
        if not fresh:
            return None
        self.refused += fresh
        return hooks.aws_error("InvalidTypeException", f"Error setting policy: [{policy}]", 409)

    def _check_instance_profile(self, context, **_):
        profile = hooks.request(context).get("IamInstanceProfile") or {}
        name = profile.get("Name") or profile.get("Arn", "").rsplit("/", 1)[-1]
        if not self.fresh(name):
            return None
        self.refused.append(name)
        field, value, kind = ("arn", profile["Arn"], "ARN") if "Arn" in profile else ("name", name, "name")
        return hooks.aws_error(
            "InvalidParameterValue",
            f"Value ({value}) for parameter iamInstanceProfile.{field} is invalid. Invalid IAM Instance Profile {kind}",
        )


def _aws_principals(statement: dict) -> list[str]:
    principal = statement.get("Principal", {})
    named = principal.get("AWS", []) if isinstance(principal, dict) else []
    return [named] if isinstance(named, str) else list(named)
