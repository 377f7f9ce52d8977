"""Lint the IAM policy documents our code creates at runtime (no template scanner sees them).

    from policy_lint import lint_policy
    assert lint_policy(document) == []
    assert lint_policy(document, allowed={"RESOURCE_STAR": "ec2:DescribeImages has no resource-level permissions"}) == []

parliament checks every action against AWS's catalogue (UNKNOWN_ACTION, UNKNOWN_PREFIX), every
resource against each action's ARN format (RESOURCE_MISMATCH), a ``*`` resource where the action
supports resource-level permissions (RESOURCE_STAR), malformed elements and conditions and, with its
community auditors, privilege escalation, credentials exposure and permissions management. It does
not flag wildcard actions, so two issues are added here: STAR_ACTION (``*``, or any Allow with
NotAction) and SERVICE_WILDCARD_ACTION (``service:*``). An issue is allowed only with its reason.
"""

import json
import warnings
from pathlib import Path

import yaml

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # parliament imports the deprecated pkg_resources
    import parliament
    from parliament import analyze_policy_string, enhance_finding
    from parliament.cli import is_finding_filtered

# What the CLI's --include-community-auditors does: register those auditors' issues and severities.
with open(Path(parliament.__file__).parent / "community_auditors" / "config_override.yaml") as overrides:
    for _issue, _settings in yaml.safe_load(overrides).items():
        parliament.config.setdefault(_issue, {}).update(_settings)


def lint_policy(document: dict | str, allowed: dict[str, str] | None = None) -> list[str]:
    """Findings as ``ISSUE: detail (where)``, minus the issues ``allowed`` maps to a reason."""
    allowed = allowed or {}
    unexplained = [issue for issue, reason in allowed.items() if not (isinstance(reason, str) and reason.strip())]
    if unexplained:
        raise ValueError(f"an allowed issue needs its reason: {unexplained}")
    found = []
    text = document if isinstance(document, str) else json.dumps(document)
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None  # parliament reports MALFORMED_JSON
    if isinstance(parsed, dict):
        statements = parsed.get("Statement", [])
        statements = statements if isinstance(statements, list) else [statements]
        found += [_describe(issue, action, {"statement": sid}) for issue, action, sid in _wildcard_actions(statements)]
        # parliament expands Action "*" into every action of every service (~20 s) to say what
        # STAR_ACTION already says: it analyses the other statements.
        text = json.dumps(dict(parsed, Statement=[s for s in statements if not _allows_everything(s)]))
    policy = analyze_policy_string(text, include_community_auditors=True)
    findings = [enhance_finding(finding) for finding in policy.findings]
    found += [_describe(f.issue, f.detail, f.location) for f in findings if not is_finding_filtered(f, "INFO")]
    return sorted({finding for finding in found if finding.split(":", 1)[0] not in allowed})


def _allows_everything(statement) -> bool:
    actions = statement.get("Action", []) if isinstance(statement, dict) else []
    return statement.get("Effect") == "Allow" and "*" in ([actions] if isinstance(actions, str) else actions)


def _wildcard_actions(statements: list):
    for index, statement in enumerate(statements):
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        sid = statement.get("Sid", f"#{index}")
        if "NotAction" in statement:
            yield "STAR_ACTION", f"NotAction {statement['NotAction']}", sid
        actions = statement.get("Action", [])
        for action in [actions] if isinstance(actions, str) else actions:
            if action == "*":
                yield "STAR_ACTION", action, sid
            elif isinstance(action, str) and action.endswith(":*"):
                yield "SERVICE_WILDCARD_ACTION", action, sid


def _describe(issue: str, detail, location) -> str:
    text = issue
    if detail:
        detail = str(detail)
        text += f": {detail[:300]}{'...' if len(detail) > 300 else ''}"
    where = {key: value for key, value in (location or {}).items() if key in ("statement", "action", "string") and value}
    if where:
        text += " (" + ", ".join(f"{key}={value}" for key, value in where.items()) + ")"
    return text
