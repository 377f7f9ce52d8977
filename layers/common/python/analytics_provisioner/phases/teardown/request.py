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
    keep_data: bool = False
    final_snapshot: bool = True
    poll_interval_seconds: int = 60
    timeout_minutes: float = 60

    @classmethod
    def from_event(cls, event: dict) -> "TeardownRequest":
        if "request" in event:
            request = event["request"]
            return cls(Deployment.from_state(request["deployment"]), request["keep_data"], request["final_snapshot"],
                       request["poll_interval_seconds"], request["timeout_minutes"])
        raise InputError("teardown: the event carries no checked request; start the teardown state machine")

    def to_state(self) -> dict:
        return {"deployment": self.deployment.to_state(), "keep_data": self.keep_data, "final_snapshot": self.final_snapshot,
                "poll_interval_seconds": self.poll_interval_seconds, "timeout_minutes": self.timeout_minutes}


def _schema_problems(document: dict) -> list[str]:
    shape = schemacheck.shape_problem(document)
    if shape:
        return [shape]
    problems = [f"{'.'.join(map(str, e.absolute_path)) or '(document)'}: {schemacheck.message(e)}" for e in schemacheck.errors(schema(), document)]
    return schemacheck.listed(problems or ["(document): does not conform to the teardown input schema"])


def check(document: dict, default_region: str) -> dict:
    """Validate the teardown input; every problem named by its field."""
    problems = [] if conforms(teardown_input.validate, document) else _schema_problems(document)
    if not problems:
        problems = [f"deployment.{message}" for message in validation_errors(document["deployment"])]
    if problems:
        raise InputError("The teardown input is invalid: " + " | ".join(problems))
    defaults = {key: spec["default"] for key, spec in schema()["properties"].items() if "default" in spec}
    settings = {**defaults, **{k: v for k, v in document.items() if k != "deployment"}}
    deployment = Deployment.from_input(document["deployment"], default_region)
    return {"request": TeardownRequest(deployment, **settings).to_state()}
