"""What a person follows while an execution runs: the phases by branch, the waits with their next check,
a line for every branch that ends or is stopped. Built from the state machine's own definition, so it
shows the workflow as it is deployed (the CLI's ``start --wait``, ``watch`` and ``local run``)."""

import json
from dataclasses import dataclass, field

# Only these state types are phases a person cares about; Choice and Pass states are bookkeeping.
SHOWN_KINDS = {"Task", "Wait", "Fail", "Parallel"}
LEADING_VERBS = ("Create ", "Ensure ", "Launch ", "Delete ", "Release ", "Empty ")


@dataclass(frozen=True)
class Branch:
    label: str
    states: frozenset[str]
    ends: frozenset[str]  # states whose exit ends the branch (End: true)


@dataclass
class Layout:
    """Which branch of which Parallel state each state belongs to, and each Wait's seconds."""

    branch_of: dict[str, Branch] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)
    waits: dict[str, dict] = field(default_factory=dict)  # name -> {"Seconds": n} or {"SecondsPath": "$.a.b"}
    parallels: dict[str, list[Branch]] = field(default_factory=dict)

    @classmethod
    def of(cls, definition: str | dict | None) -> "Layout":
        layout = cls()
        if definition:
            layout._read(json.loads(definition) if isinstance(definition, str) else definition, branch=None)
        return layout

    def _read(self, machine: dict, branch: Branch | None) -> None:
        for name, state in machine.get("States", {}).items():
            self.kinds[name] = state.get("Type", "")
            if branch:
                self.branch_of[name] = branch
            if state.get("Type") == "Wait":
                self.waits[name] = {key: state[key] for key in ("Seconds", "SecondsPath") if key in state}
            if state.get("Type") == "Parallel":
                branches = [self._branch(sub) for sub in state.get("Branches", [])]
                self.parallels[name] = branches
                for sub, inner in zip(state.get("Branches", []), branches, strict=True):
                    self._read(sub, inner)

    @staticmethod
    def _branch(machine: dict) -> Branch:
        states = machine.get("States", {})
        ends = frozenset(name for name, state in states.items() if state.get("End") or state.get("Type") == "Succeed")
        return Branch(branch_label(machine.get("StartAt", "")), frozenset(states), ends)

    def shown(self, name: str, kind: str) -> bool:
        return self.kinds.get(name, kind) in SHOWN_KINDS

    def wait_seconds(self, name: str, state_input: str | None) -> float | None:
        """The seconds a Wait state waits: its ``Seconds``, or its ``SecondsPath`` read from its input."""
        wait = self.waits.get(name, {})
        if "Seconds" in wait:
            return float(wait["Seconds"])
        try:
            value = json.loads(state_input or "null")
            for key in wait.get("SecondsPath", "$")[2:].split("."):
                value = value[key]
            return float(value)
        except (ValueError, KeyError, TypeError, IndexError):
            return None


def branch_label(start_at: str) -> str:
    """'Create search domain' -> 'search domain': what the branch builds."""
    for verb in LEADING_VERBS:
        if start_at.startswith(verb):
            return start_at[len(verb) :]
    return start_at


def waiting_for(name: str) -> str:
    """'Wait for search domain' -> 'waiting for search domain'."""
    return "waiting for " + name[len("Wait for ") :] if name.startswith("Wait for ") else name.lower()
