"""Create and delete side by side: phases/ call AWS only through aws/ helpers, every delete call in aws/
goes through the one "already gone counts as success" helper, and teardown/<x>.py undoes phases/<x>.py."""

import ast
import re
from pathlib import Path

from testkit import REPO

LIBRARY = REPO / "layers/common/python/analytics_provisioner"
PHASES, AWS = LIBRARY / "phases", LIBRARY / "aws"
# boto3 methods that remove something; each call sits in a lambda or local function handed to gone_is_success.
REMOVING = ("delete_", "release_", "disassociate_", "detach_", "remove_role_from_", "terminate_")
GONE_HELPERS = {"gone_is_success", "_gone_ok"}
NO_GONE_ANSWER = {
    ("instances.py", "terminate_instances"): "EC2 answers success for a terminated instance and describes it for an hour",
    ("emr.py", "terminate_job_flows"): "EMR answers success for a cluster that has terminated",
    ("s3.py", "delete_objects"): "DeleteObjects reports per key; a version that is gone is no error",
}
# Teardown modules that are not the partner of one phase.
NOT_A_PARTNER = {"__init__", "request", "preview", "steps", "secrets"}
PAGE = REPO / "docs/where-things-live.md"
REFERENCE = re.compile(r"`((?:phases|aws)/[\w/]+\.py|mysql\.py)(?::\s*([\w, ]+))?`")


def _trees(folder: Path):
    for path in sorted(folder.rglob("*.py")):
        yield path, ast.parse(path.read_text(), str(path))


def _name(func: ast.expr) -> str:
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def test_phases_make_no_raw_client_call():
    """A phase reads as a list of ensures (or, in teardown, of undos); the AWS calls live in aws/."""
    found = []
    for path, tree in _trees(PHASES):
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _name(node.func) == "client":
                found.append(f"{path.relative_to(REPO)}:{node.lineno}")
            if isinstance(node, ast.ImportFrom) and any(alias.name == "client" for alias in node.names):
                found.append(f"{path.relative_to(REPO)}:{node.lineno} imports client")
            modules = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            if any(module.split(".")[0] in ("boto3", "botocore") for module in modules):
                found.append(f"{path.relative_to(REPO)}:{node.lineno} imports {modules[0]}")
    assert found == [], "raw AWS calls in phases/ (move them into an aws/ helper): " + ", ".join(found)


def _inside_gone_helper(node: ast.AST, parents: dict, handed: set[str]) -> bool:
    while node in parents:
        parent = parents[node]
        if isinstance(parent, ast.Call) and _name(parent.func) in GONE_HELPERS and node in parent.args:
            return True
        if isinstance(node, ast.FunctionDef) and node.name in handed:
            return True
        node = parent
    return False


def test_every_delete_in_aws_goes_through_gone_is_success():
    found = []
    for path, tree in _trees(AWS):
        if path.name == "errors.py":
            continue
        parents = {child: parent for parent in ast.walk(tree) for child in ast.iter_child_nodes(parent)}
        handed = {
            arg.id
            for node in ast.walk(tree)
            if isinstance(node, ast.Call) and _name(node.func) in GONE_HELPERS
            for arg in node.args
            if isinstance(arg, ast.Name)
        }
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr.startswith(REMOVING)):
                continue
            if (path.name, node.func.attr) in NO_GONE_ANSWER or _inside_gone_helper(node, parents, handed):
                continue
            found.append(f"{path.name}:{node.lineno} {node.func.attr}")
    assert found == [], "deletes that read AWS's 'not found' themselves or not at all (use errors.gone_is_success): " + ", ".join(found)


def test_no_helper_in_aws_reads_a_not_found_code_after_a_delete():
    """The one place a delete's "no such thing" is read is errors.gone_is_success."""
    found = []
    for path, tree in _trees(AWS):
        for function in (
            node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef) and node.name.startswith(("delete", "release", "remove"))
        ):
            for handler in (node for node in ast.walk(function) if isinstance(node, ast.ExceptHandler)):
                literals = [n.value for n in ast.walk(handler) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
                found += [
                    f"{path.name}:{handler.lineno} {value}" for value in literals if "NotFound" in value or value.startswith("NoSuch")
                ]
    assert found == [], found


def test_each_teardown_module_is_named_after_the_phase_it_undoes():
    teardown = {path.stem for path in (PHASES / "teardown").glob("*.py")} - NOT_A_PARTNER
    phases = {path.stem for path in PHASES.glob("*.py")}
    assert teardown - phases == set(), "a teardown module undoes phases/<its name>.py"
    assert {"compute", "database", "dbsetup", "identity", "network", "search", "storage"} <= teardown


def _top_level_names(path: Path) -> set[str]:
    names = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {target.id for target in node.targets if isinstance(target, ast.Name)}
    return names


def test_every_module_and_function_where_things_live_names_exists():
    text = PAGE.read_text()
    references = REFERENCE.findall(text)
    assert len(references) > 40, "the page names modules as `phases/x.py: function, function`"
    missing = []
    for module, functions in references:
        path = LIBRARY / module
        if not path.is_file():
            missing.append(module)
            continue
        defined = _top_level_names(path)
        missing += [f"{module}: {name}" for name in (n.strip() for n in functions.split(",")) if name and name not in defined]
    assert missing == [], "docs/where-things-live.md names what does not exist: " + ", ".join(missing)


def test_where_things_live_names_every_teardown_module():
    named = {module for module, _ in REFERENCE.findall(PAGE.read_text())}
    undo = {f"phases/teardown/{path.name}" for path in (PHASES / "teardown").glob("*.py")} - {
        "phases/teardown/__init__.py",
        "phases/teardown/request.py",
        "phases/teardown/preview.py",
    }
    assert undo - named == set()
