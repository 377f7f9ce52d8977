"""AWS rule: a new RDS for MySQL instance is enrolled in paid Extended Support unless told otherwise.

CreateDBInstance without ``EngineLifecycleSupport`` sets ``open-source-rds-extended-support``: once
the major version leaves standard support (MySQL 8.0 on 2026-07-31), RDS bills Extended Support per
vCPU-hour. With ``open-source-rds-extended-support-disabled`` it creates no instance of a major
version already past standard support (``InvalidParameterCombination``). DescribeDBInstances reports
the setting. The dates are the catalogue's (``catalog.MYSQL_SUPPORT``), the ones local mode's
DescribeDBMajorEngineVersions answers with. moto ignores the parameter and reports nothing
(``tests/static/test_moto_canary.py`` checks it still does).
"""

from datetime import UTC, datetime

from . import catalog, hooks

EXTENDED_SUPPORT = "open-source-rds-extended-support"
DISABLED = "open-source-rds-extended-support-disabled"


def rule() -> list[hooks.Entry]:
    lifecycle: dict[tuple[str, str], str] = {}  # (region, identifier) -> EngineLifecycleSupport

    def refuse_past_standard_support(context, **_):
        request = hooks.request(context)
        major = ".".join(str(request.get("EngineVersion", "")).split(".")[:2])
        ends = catalog.MYSQL_SUPPORT.get(major, (None,))[0] if request.get("Engine") == "mysql" else None
        if request.get("EngineLifecycleSupport") == DISABLED and ends and ends < datetime.now(UTC):
            return hooks.aws_error(
                "InvalidParameterCombination",
                (
                    f"Cannot create a DB instance of MySQL {major} with EngineLifecycleSupport {DISABLED}: the major version is past "
                    f"its end of standard support date ({ends:%Y-%m-%d}). Use a newer major version or {EXTENDED_SUPPORT}."
                ),
            )
        return None

    def created(parsed, context, **_):
        if "DBInstance" in parsed:
            request = hooks.request(context)
            value = request.get("EngineLifecycleSupport") or EXTENDED_SUPPORT
            lifecycle[(context["client_region"], parsed["DBInstance"]["DBInstanceIdentifier"])] = value
            parsed["DBInstance"]["EngineLifecycleSupport"] = value

    def described(parsed, context, **_):
        for instance in parsed.get("DBInstances", []):
            found = lifecycle.get((context["client_region"], instance["DBInstanceIdentifier"]))
            if found:
                instance["EngineLifecycleSupport"] = found

    return [
        ("provide-client-params.rds.CreateDBInstance", hooks.remember_request),
        ("before-call.rds.CreateDBInstance", refuse_past_standard_support),
        ("after-call.rds.CreateDBInstance", created),
        ("after-call.rds.DescribeDBInstances", described),
    ]
