"""A plan: every resource a deployment would create, adopt and change, or leave alone, found with reads only.

Each phase module has a read-only ``plan(deployment)`` next to its ensure, built from the same names
(``naming``) and lookups (``aws/``) the ensure uses; ``phases/plan.py`` runs Validate's preflight and
then every phase's plan. A ``Change`` is one resource (or rule, statement, file) with Terraform's mark:

- ``+`` the deployment would create it;
- ``~`` it exists and the deployment would adopt it and change something (a rule, a setting, a
  membership), or ensure what it cannot see without logging in (MySQL users and databases);
- ``=`` it exists and is ours (or is used as it is): nothing changes.
"""

from dataclasses import asdict, dataclass

CREATE, MODIFY, KEEP = "+", "~", "="
ACTIONS = (CREATE, MODIFY, KEEP)
WORDS = {CREATE: "to create", MODIFY: "to change or ensure", KEEP: "unchanged"}


@dataclass(frozen=True)
class Change:
    action: str
    kind: str
    name: str
    reason: str

    def __post_init__(self):
        if self.action not in ACTIONS:
            raise ValueError(f"a plan's action is one of {ACTIONS}, not {self.action!r}")

    def to_dict(self) -> dict:
        return asdict(self)


def create(kind: str, name: str, reason: str) -> Change:
    return Change(CREATE, kind, name, reason)


def modify(kind: str, name: str, reason: str) -> Change:
    return Change(MODIFY, kind, name, reason)


def keep(kind: str, name: str, reason: str) -> Change:
    return Change(KEEP, kind, name, reason)


def unless_absent(found, kind: str, name: str, if_absent: str, if_found: str) -> Change:
    """``+`` when ``found`` is None (the lookup found nothing), else ``=``."""
    return create(kind, name, if_absent) if found is None else keep(kind, name, if_found)


def counts(changes: list[Change]) -> dict[str, int]:
    return {action: sum(1 for change in changes if change.action == action) for action in ACTIONS}


def summary_line(changes: list[Change]) -> str:
    found = counts(changes)
    return "Plan: " + ", ".join(f"{found[action]} {WORDS[action]}" for action in ACTIONS) + "."


def document(deployment_id: str, region: str, phases: list[tuple[str, list[Change]]], warnings: list[str]) -> dict:
    """The stable JSON form (``plan --json``): ``changes`` in the workflow's order, ``phases`` says which
    run of them each phase (by its state's name) would make."""
    changes = [change for _, of_phase in phases for change in of_phase]
    found = counts(changes)
    return {
        "deployment_id": deployment_id,
        "region": region,
        "changes": [change.to_dict() for change in changes],
        "phases": [{"phase": phase, "changes": len(of_phase)} for phase, of_phase in phases],
        "summary": {"create": found[CREATE], "modify": found[MODIFY], "keep": found[KEEP]},
        "warnings": list(warnings),
    }


def by_phase(planned: dict) -> list[tuple[str, list[Change]]]:
    """A ``document`` back as (phase, its changes)."""
    changes, start, grouped = [Change(**change) for change in planned["changes"]], 0, []
    for phase in planned["phases"]:
        grouped.append((phase["phase"], changes[start : start + phase["changes"]]))
        start += phase["changes"]
    return grouped
