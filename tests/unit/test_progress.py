"""Progress lines and the timeline read the deployed state machine's own definition."""

import json
import xml.etree.ElementTree as ET

from analytics_provisioner import timeline
from analytics_provisioner.execution import HistoryView, StateRun
from analytics_provisioner.local import template as cfn
from analytics_provisioner.progress import Layout, branch_label, waiting_for

PROVISION = (cfn.REPO_ROOT / "statemachine" / "provision.asl.json").read_text()


def test_the_provisioning_branches_are_named_after_what_they_build():
    layout = Layout.of(PROVISION)
    [branches] = layout.parallels.values()
    assert [branch.label for branch in branches] == ["search domain", "analytics RDS instance", "S3 buckets", "instances"]
    assert layout.branch_of["Check search domain"].label == "search domain"
    assert "Validate input" not in layout.branch_of
    assert "Search done" in layout.branch_of["Check search domain"].ends


def test_bookkeeping_states_are_not_shown():
    layout = Layout.of(PROVISION)
    assert layout.shown("Check search domain", "Task") and layout.shown("Wait for search domain", "Wait")
    assert not layout.shown("Search domain ready?", "Choice") and not layout.shown("Search done", "Pass")


def test_a_wait_reads_its_seconds_from_its_input():
    layout = Layout.of(PROVISION)
    state_input = json.dumps({"search": {"poll": {"next_wait_seconds": 90}}})
    assert layout.wait_seconds("Wait for search domain", state_input) == 90
    assert layout.wait_seconds("Wait for search domain", "{}") is None
    assert waiting_for("Wait for search domain") == "waiting for search domain"
    assert branch_label("Launch instances") == "instances"


def _run(name: str, entered: float, exited: float, kind: str = "Task", status: str = "succeeded") -> StateRun:
    return StateRun(name, entered, exited, status, kind)


def test_the_timeline_has_a_lane_per_branch_hatched_waits_and_the_slowest_branch_on_the_critical_path():
    layout = Layout.of(PROVISION)
    view = HistoryView(
        states=[
            _run("Validate input", 0, 1),
            _run("Create resources in parallel", 1, 20, "Parallel"),
            _run("Create search domain", 1, 2),
            _run("Wait for search domain", 2, 18, "Wait"),
            _run("Check search domain", 18, 19),
            _run("Ensure S3 buckets", 1, 3),
            _run("Render secure-repo files", 20, 21),
        ]
    )
    on_path = timeline.critical(view, layout, 21)
    names = {run.name for run in view.states if id(run) in on_path}
    assert {"Wait for search domain", "Check search domain", "Render secure-repo files"} <= names
    assert "Ensure S3 buckets" not in names
    document = ET.fromstring(timeline.svg(view, layout, "acme-demo SUCCEEDED"))
    svg = "{http://www.w3.org/2000/svg}"
    lanes = [text.text for text in document.iter(f"{svg}text") if text.get("class") == "lane"]
    assert lanes == ["workflow", "search domain", "S3 buckets"]
    bars = list(document.iter(f"{svg}rect"))
    assert any(bar.get("fill") == "url(#wait)" for bar in bars)
    assert sum(bar.get("class") == "critical" for bar in bars) == len(names)
    assert not list(document.iter(f"{svg}script"))
