"""The teardown input: the deployment's own execution input plus what to keep."""

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from ... import schemacheck
from ...deployment import Deployment, validation_errors
from ...errors import InputError
from ...precompiled import conforms, teardown_input


@lru_cache(maxsize=1)
def schema() -> dict:
    return json.loads(resources.files("analytics_provisioner").joinpath("teardown-input.schema.json").read_text())


@dataclass(frozen=True)
class TeardownRequest:
    deployment: Deployment
    keep_data: bool = False  # every bucket and the secure-repo files stay
    final_snapshot: bool = True
    poll_interval_seconds: int = 60
    timeout_minutes: float = 60
    delete_data: bool = False  # buckets of ours that hold objects go too (else they stay)
    delete_tracking_logs: bool = False  # the tracking-logs bucket, when ours, may go (else it stays)

    SETTINGS = ("keep_data", "final_snapshot", "poll_interval_seconds", "timeout_minutes", "delete_data", "delete_tracking_logs")

    @classmethod
    def from_event(cls, event: dict) -> "TeardownRequest":
        if "request" in event:
            request = event["request"]
            # a request checked before a setting existed runs with that setting's default
            return cls(Deployment.from_state(request["deployment"]), **{key: request[key] for key in cls.SETTINGS if key in request})
        raise InputError("teardown: the event carries no checked request; start the teardown state machine")

    def to_state(self) -> dict:
        return {"deployment": self.deployment.to_state(), **{key: getattr(self, key) for key in self.SETTINGS}}


def _schema_problems(document: dict) -> list[str]:
    shape = schemacheck.shape_problem(document)
    if shape:
        return [shape]
    problems = [
        f"{'.'.join(map(str, e.absolute_path)) or '(document)'}: {schemacheck.message(e)}" for e in schemacheck.errors(schema(), document)
    ]
    return schemacheck.listed(problems or ["(document): does not conform to the teardown input schema"])


def check(document: dict, default_region: str) -> dict:
    """Validate the teardown input; every problem named by its field."""
    problems = [] if conforms(teardown_input.validate, document) else _schema_problems(document)
    if not problems:
        problems = [f"deployment.{message}" for message in validation_errors(document["deployment"])]
    if not problems and document.get("keep_data") and (document.get("delete_data") or document.get("delete_tracking_logs")):
        problems = ["keep_data: true keeps every bucket, which contradicts delete_data / delete_tracking_logs; leave out one of them"]
    if problems:
        raise InputError("The teardown input is invalid: " + " | ".join(problems))
    defaults = {key: spec["default"] for key, spec in schema()["properties"].items() if "default" in spec}
    settings = {**defaults, **{k: v for k, v in document.items() if k != "deployment"}}
    deployment = Deployment.from_input(document["deployment"], default_region)
    return {"request": TeardownRequest(deployment, **settings).to_state()}
