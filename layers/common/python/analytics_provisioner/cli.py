"""``analytics-provisioner``: the operator's command line.

Exit codes (for pipelines): 0 succeeded (or started, without --wait), 1 the deployment failed,
2 bad usage or input (nothing was started), 3 environment problem (no credentials or region, no
stack, teardown not deployed, no MySQL for local mode), 4 busy: another execution of the deployment
is running (start refused), or the execution is still running (status, watch that stopped waiting).
"""

import functools
import json
import os
import re
import sys
import textwrap
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import boto3
import click
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError, PartialCredentialsError
from rich.console import Console, JustifyMethod
from rich.live import Live
from rich.markup import escape
from rich.spinner import Spinner
from rich.table import Table

from . import execution as executions
from . import locking, progress, timeline
from . import plan as model
from .aws import clients
from .aws.errors import error_code
from .deployment import validation_errors
from .errors import AwsCallError, InputError, ProvisionerError, TransientAwsError
from .phases import plan as planning
from .phases.teardown.preview import preview as teardown_preview
from .phases.teardown.request import TeardownRequest
from .phases.teardown.request import check as check_teardown

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_ENVIRONMENT, EXIT_BUSY = 0, 1, 2, 3, 4
DEFAULT_STACK = "analytics-provisioner"

# No emoji codes (":secret:" is part of every Secrets Manager ARN); dynamic text goes through escape().
console = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)


class BadInput(click.ClickException):
    exit_code = EXIT_USAGE


class EnvironmentProblem(click.ClickException):
    exit_code = EXIT_ENVIRONMENT


def _read_input(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise click.UsageError(f"--input {path}: cannot read a JSON document ({exc})") from None
    except RecursionError:
        raise click.UsageError(
            f"--input {path}: the JSON nests thousands of levels deep; an execution input is a few levels of objects"
        ) from None


ERROR_KINDS = {EXIT_FAILED: "failed", EXIT_USAGE: "bad_input", EXIT_ENVIRONMENT: "environment", EXIT_BUSY: "busy"}


class _Commands(click.Group):
    """With ``--json`` anywhere on the command line, a refusal is a JSON document on stdout too
    (``{"error", "message", "exit_code"}``), so a script never parses an empty stdout."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except click.ClickException as exc:
            if "--json" in ctx.meta.get("arguments", []):
                click.echo(
                    json.dumps(
                        {"error": ERROR_KINDS.get(exc.exit_code, "error"), "message": exc.format_message(), "exit_code": exc.exit_code},
                        indent=2,
                    )
                )
            raise

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta["arguments"] = list(args)
        return super().parse_args(ctx, args)


@click.group(cls=_Commands)
@click.version_option(package_name="analytics-provisioner")
def main() -> None:
    """Provision the Open edX analytics stack on AWS from one JSON document."""


@main.group()
def local() -> None:
    """Run the real state machine offline (moto's interpreter, handlers in-process)."""


THROWAWAY = "throwaway"


def _mysql_url(ctx, param, value: str):
    from .local.mysql import MysqlServer

    if value == THROWAWAY:
        return THROWAWAY
    try:
        return MysqlServer.from_url(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@contextmanager
def _database_server(server):
    """The --mysql server, checked; ``throwaway``: a private MariaDB in a temporary directory, gone afterwards."""
    if server != THROWAWAY:
        try:
            server.check()
        except RuntimeError as exc:
            raise EnvironmentProblem(f"local run: {exc}") from None
        yield server
        return
    from .local.mariadb import NoMariaDB, throwaway_server

    try:
        with throwaway_server() as private:
            yield private
    except NoMariaDB as exc:
        raise EnvironmentProblem(f"local run --mysql throwaway: {exc}") from None


@local.command("run")
@click.option(
    "--input", "input_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Execution input (JSON)."
)
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the secure-repo files and report.json go.",
)
@click.option(
    "--mysql",
    "server",
    default="mysql://root@127.0.0.1:3306",
    show_default=True,
    callback=_mysql_url,
    help="MySQL/MariaDB standing in for both RDS servers, or 'throwaway': a private MariaDB started for the run and removed after it.",
)
@click.option(
    "--time-scale", default=0.0, show_default=True, type=click.FloatRange(min=0), help="Multiply Wait and Retry delays (0 = instant)."
)
@click.option("--json", "as_json", is_flag=True, help="Print report.json to stdout.")
def local_run(input_path: Path, out_dir: Path, server, time_scale: float, as_json: bool) -> None:
    """Execute the provisioning workflow locally and write the secure repo into --out."""
    try:
        from .local import runner
        from .local.emulator import Emulator
    except ImportError as exc:
        raise EnvironmentProblem(f"local mode needs the development extras: pip install 'analytics-provisioner[local]' ({exc})") from None
    except FileNotFoundError as exc:  # no template.yaml: not run from the checkout
        raise EnvironmentProblem(str(exc)) from None
    document = _read_input(input_path)
    _refuse_invalid(document, input_path)
    region = document.get("region") or "us-east-1"
    with _database_server(server) as mysql:
        console.print(
            f"[bold]analytics-provisioner[/] local run of [bold]{escape(str(document.get('deployment_id')))}[/] in {escape(region)} (emulated)"
        )
        with Emulator(region=region, mysql=mysql, time_scale=time_scale) as emulator:
            layout = runner.layout(emulator)
            shown = _Progress(time.time(), layout, time_scale)
            with _live(shown):
                report = runner.run(document, out_dir, emulator, on_change=shown.on_change, branches=layout)
            shown.finish()
    _print_outcome(report, out_dir)
    if as_json:
        click.echo(json.dumps(report, indent=2, default=str))
    sys.exit(EXIT_OK if report["status"] == "SUCCEEDED" else EXIT_FAILED)


def verified_summary(verified: dict) -> str:
    """One line on what Verify proved: the paths and the RDS test's verdict (with the reason it was skipped)."""
    paths, test = verified.get("paths", []), verified.get("rds_test") or {}
    opened = sum(1 for path in paths if path.get("open"))
    line = f"{opened} of {len(paths)} network paths open; the RDS test from the analytics instances: {test.get('status', 'not run')}"
    return line + (f" ({test['reason']})" if test.get("reason") else "")


def _print_outcome(report: dict, out_dir: Path) -> None:
    if report["status"] == "SUCCEEDED":
        console.print(f"[green]SUCCEEDED[/] in {report['state_transitions']} state transitions; files in {out_dir}:")
        for name in report.get("files", []):
            console.print(f"  {escape(name)}")
        verified = (report.get("output") or {}).get("verify")
        if verified:
            console.print(f"  [green]verified:[/] {escape(verified_summary(verified))}")
        for step in (report.get("output") or {}).get("next_steps", []):
            _print_wrapped("  [yellow]next:[/] ", "  next: ", step)
    else:
        console.print(f"[red]{report['status']}[/]: {escape(str(report['error']))}")
        cause = str(report["cause"])
        if report.get("failure_report"):  # the local copy, not the emulator's S3 URI nobody can open
            cause = re.sub(r"\(failure report: s3://[^)]*\)", f"(failure report: {report['failure_report']})", cause)
        _print_wrapped("  ", "  ", cause)
    _print_warnings(report.get("warnings") or [])
    console.print(f"report: {out_dir / 'report.json'}")


def _print_wrapped(markup_prefix: str, plain_prefix: str, text: str) -> None:
    """``text`` wrapped to the terminal (80 columns elsewhere), continuation lines indented under it."""
    width = max(console.width, 60)
    lines = textwrap.wrap(
        text,
        width=width,
        initial_indent=plain_prefix,
        subsequent_indent=" " * len(plain_prefix),
        break_long_words=False,
        break_on_hyphens=False,
    ) or [plain_prefix]
    console.print(markup_prefix + escape(lines[0][len(plain_prefix) :]))
    for line in lines[1:]:
        console.print(escape(line))


def _print_warnings(warnings: list[str]) -> None:
    """At the end of every command that shows an outcome: what AWS accepted but the operator should know."""
    if warnings:
        console.print(f"[yellow]{len(warnings)} warning{'s' if len(warnings) > 1 else ''}:[/]")
        for warning in warnings:
            console.print(f"  [yellow]![/] {escape(warning)}")


# --- the deployed stack: start, status, watch, teardown ----------------------------------------


@dataclass
class Target:
    """Where the state machines are: the ARNs given, else the stack's outputs."""

    stack: str
    region: str | None
    provision_arn: str | None
    teardown_arn: str | None
    _described: tuple[dict, dict] | None = field(default=None, repr=False)  # the stack's outputs and parameters

    @property
    def region_name(self) -> str:
        given_arn = self.provision_arn or self.teardown_arn
        region = self.region or (executions.region_of(given_arn) if given_arn else None) or boto3.session.Session().region_name
        if not region:
            raise EnvironmentProblem("no AWS region: pass --region, set AWS_REGION, or set a region in your AWS profile")
        return region

    def stepfunctions(self):
        return clients.client("stepfunctions", self.region_name)

    def provision(self) -> str:
        arn = self.provision_arn or self.outputs().get("ProvisionStateMachineArn")
        if not arn:
            raise EnvironmentProblem(f"stack {self.stack!r} has no ProvisionStateMachineArn output: is it this project's stack?")
        return arn

    def teardown(self) -> str:
        arn = self.teardown_arn or self.outputs().get("TeardownStateMachineArn")
        if not arn:
            raise EnvironmentProblem(
                f"the teardown workflow is not deployed: stack {self.stack!r} has no TeardownStateMachineArn "
                "output (update the stack with `sam deploy`, or pass --teardown-state-machine-arn)"
            )
        return arn

    def teardown_if_deployed(self) -> tuple[str, ...]:
        """For the one-execution-at-a-time rule; never looks for a stack when ARNs were given."""
        if self.teardown_arn or not self.provision_arn:
            try:
                return (self.teardown(),)
            except EnvironmentProblem:
                return ()
        return ()

    def _describe(self) -> tuple[dict, dict]:
        if self._described is None:
            try:
                stack = clients.client("cloudformation", self.region_name).describe_stacks(StackName=self.stack)["Stacks"][0]
            except ClientError as exc:
                if error_code(exc) != "ValidationError":
                    raise
                raise EnvironmentProblem(
                    f"stack {self.stack!r} not found in {self.region_name}: deploy it (sam deploy --guided), "
                    "or pass --stack NAME, --region or --state-machine-arn ARN"
                ) from None
            self._described = (
                {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])},
                {parameter["ParameterKey"]: parameter.get("ParameterValue", "") for parameter in stack.get("Parameters", [])},
            )
        return self._described

    def outputs(self) -> dict:
        return self._describe()[0]

    def parameters(self) -> dict:
        return self._describe()[1]


def _state_machine_arn(ctx, param, value: str | None) -> str | None:
    if value is not None and not re.fullmatch(r"arn:aws[a-z-]*:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_-]+", value):
        raise click.BadParameter(f"{value!r} is not a state machine ARN (arn:aws:states:<region>:<account>:stateMachine:<name>)")
    return value


_TARGET_OPTIONS = [
    click.option(
        "--stack",
        default=DEFAULT_STACK,
        envvar="ANALYTICS_PROVISIONER_STACK",
        show_default=True,
        help="CloudFormation stack whose outputs name the state machines.",
    ),
    click.option(
        "--state-machine-arn",
        "provision_arn",
        envvar="PROVISION_STATE_MACHINE_ARN",
        callback=_state_machine_arn,
        help="The provisioning state machine (default: the stack's ProvisionStateMachineArn).",
    ),
    click.option(
        "--teardown-state-machine-arn",
        "teardown_arn",
        envvar="TEARDOWN_STATE_MACHINE_ARN",
        callback=_state_machine_arn,
        help="The teardown state machine (default: the stack's TeardownStateMachineArn).",
    ),
    click.option("--region", envvar=["AWS_REGION", "AWS_DEFAULT_REGION"], help="AWS region (default: from the ARN or your AWS config)."),
]
_FOLLOW_OPTIONS = [
    click.option("--poll-seconds", default=2.0, show_default=True, type=click.FloatRange(min=0), help="Seconds between progress checks."),
    click.option(
        "--timeout-minutes",
        default=240.0,
        show_default=True,
        type=click.FloatRange(min=0),
        help="Stop waiting (exit 4; the execution keeps running) after this long.",
    ),
]
_JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON on stdout (progress stays on stderr).")


def _options(options):
    def decorate(command):
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


def _aws_errors(command):
    """Missing credentials, a missing stack or a refused AWS call: exit 3 with a message that says what to do."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except (NoCredentialsError, PartialCredentialsError):
            raise EnvironmentProblem("no AWS credentials: run `aws configure` or `aws sso login`, or set AWS_PROFILE") from None
        except NoRegionError:
            raise EnvironmentProblem("no AWS region: pass --region or set AWS_REGION") from None
        except ClientError as exc:
            error = exc.response.get("Error", {})
            raise EnvironmentProblem(f"AWS {exc.operation_name} failed: {error.get('Code')}: {error.get('Message')}") from None
        except BotoCoreError as exc:
            raise EnvironmentProblem(f"AWS call failed: {exc}") from None

    return wrapper


@main.command()
@click.option(
    "--input", "input_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Execution input (JSON)."
)
@click.option("--wait", is_flag=True, help="Follow the execution to its end: exit 0 succeeded, 1 failed.")
@click.option(
    "--attempt", default=1, show_default=True, type=click.IntRange(1, 99), help="Run an input that already ran once more (2, 3, ...)."
)
@_JSON_OPTION
@_options(_FOLLOW_OPTIONS)
@_options(_TARGET_OPTIONS)
@_aws_errors
def start(input_path: Path, wait: bool, attempt: int, as_json: bool, poll_seconds: float, timeout_minutes: float, **target_options) -> None:
    """Start the provisioning workflow. The same input starts once: repeating answers with that execution."""
    document = _read_input(input_path)
    _refuse_invalid(document, input_path)
    target = Target(**target_options)
    sfn, deployment_id = target.stepfunctions(), document["deployment_id"]
    started = _start(
        as_json,
        lambda: executions.start(sfn, target.provision(), document, deployment_id, attempt, exclusive_with=target.teardown_if_deployed()),
    )
    _report_start(sfn, target.provision(), deployment_id, started, "start")
    _conclude(sfn, started, f"watch {deployment_id}", wait, as_json, poll_seconds, timeout_minutes)


@main.command()
@click.argument("deployment_id")
@click.option(
    "--input",
    "input_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The deployment's execution input (default: the input of its latest provisioning execution).",
)
@click.option(
    "--delete-data",
    is_flag=True,
    help="Also empty and delete the buckets that hold objects (kept by default; the output names each bucket kept and why).",
)
@click.option(
    "--delete-tracking-logs",
    is_flag=True,
    help="Also delete the tracking-logs bucket when the deployment created it (kept by default; with objects in it, add --delete-data).",
)
@click.option("--keep-data", is_flag=True, help="Keep every bucket, empty ones too, and the secure-repo files.")
@click.option("--no-final-snapshot", is_flag=True, help="Delete the analytics RDS instance without a final snapshot.")
@click.option("--wait", is_flag=True, help="Follow the teardown to its end: exit 0 succeeded, 1 failed.")
@click.option(
    "--yes", "confirmed", is_flag=True, help="Do not ask for the deployment id to be typed (scripts); the preview is still printed."
)
@click.option("--attempt", default=1, show_default=True, type=click.IntRange(1, 99), help="Run a teardown that already ran once more.")
@_JSON_OPTION
@_options(_FOLLOW_OPTIONS)
@_options(_TARGET_OPTIONS)
@_aws_errors
def teardown(
    deployment_id: str,
    input_path: Path | None,
    delete_data: bool,
    delete_tracking_logs: bool,
    keep_data: bool,
    no_final_snapshot: bool,
    wait: bool,
    confirmed: bool,
    attempt: int,
    as_json: bool,
    poll_seconds: float,
    timeout_minutes: float,
    **target_options,
) -> None:
    """Start the teardown workflow: delete what DEPLOYMENT_ID created, revert what existed before.

    First shows what it would delete, revert and keep, and asks for DEPLOYMENT_ID to be typed (--yes: not asked).
    """
    target = Target(**target_options)
    teardown_arn, provision_arn = target.teardown(), target.provision()
    sfn = target.stepfunctions()
    # Only what differs from the defaults, so the CLI and the API name identical teardowns alike.
    settings: dict[str, dict | bool] = {"deployment": _read_input(input_path)} if input_path else {}
    for setting, given in (("delete_data", delete_data), ("delete_tracking_logs", delete_tracking_logs), ("keep_data", keep_data)):
        if given:
            settings[setting] = True
    if no_final_snapshot:
        settings["final_snapshot"] = False
    try:
        request = executions.teardown_request(sfn, provision_arn, deployment_id, settings, target.region_name)
    except (InputError, executions.NotFound) as exc:
        raise BadInput(f"{exc}; nothing was started") from None
    _confirm_teardown(deployment_id, teardown_preview(TeardownRequest.from_event(check_teardown(request, target.region_name))), confirmed)
    started = _start(as_json, lambda: executions.start(sfn, teardown_arn, request, deployment_id, attempt, exclusive_with=(provision_arn,)))
    _report_start(sfn, teardown_arn, deployment_id, started, "teardown")
    _conclude(sfn, started, f"watch --teardown {deployment_id}", wait, as_json, poll_seconds, timeout_minutes)


def _confirm_teardown(deployment_id: str, preview: dict, confirmed: bool) -> None:
    """Print what the teardown would delete, revert and keep; unless --yes, the id must be typed."""
    console.print(f"[bold]teardown of {escape(deployment_id)}[/] would:")
    for arn in preview["delete"]:
        console.print(f"  [red]-[/] delete {escape(arn)}")
    console.print(f"  [red]-[/] delete {escape(preview['also_deleted'])}")
    for change in preview["revert"]:
        console.print(f"  [yellow]~[/] revert {escape(change)}")
    for kept in preview["keep"]:
        console.print(f"  [green]=[/] keep {escape(kept['what'])} ({escape(kept['reason'])})")
    if confirmed:
        return
    try:
        typed = click.prompt(f"Type {deployment_id} to start this teardown", default="", show_default=False, err=True)
    except click.Abort:
        typed = ""
    if typed.strip() != deployment_id:
        raise BadInput(
            f"teardown of {deployment_id!r} not confirmed (type the deployment id, or pass --yes in scripts); nothing was started"
        )


@main.command()
@click.argument("deployment_id")
@click.option("--teardown", "of_teardown", is_flag=True, help="The latest teardown instead of the latest provisioning.")
@click.option(
    "--timeline",
    "timeline_path",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Also write the execution's timeline as an SVG file (one lane per branch, waits hatched, the critical path outlined).",
)
@_JSON_OPTION
@_options(_TARGET_OPTIONS)
@_aws_errors
def status(deployment_id: str, of_teardown: bool, timeline_path: Path | None, as_json: bool, **target_options) -> None:
    """The latest execution of DEPLOYMENT_ID: status, each state's outcome and timing, outputs or error.

    Exit 0 succeeded, 1 failed, 4 still running.
    """
    target = Target(**target_options)
    sfn = target.stepfunctions()
    execution_arn = _latest(sfn, target, deployment_id, of_teardown)["executionArn"]
    described, view = executions.described_with_history(sfn, execution_arn)
    document = executions.status_document(described, view)
    if not of_teardown:
        _note_teardown(sfn, target, deployment_id, document)
    if timeline_path:
        timeline_path.write_text(timeline.svg(view, _layout(sfn, execution_arn), f"{document['execution_name']} {document['status']}"))
        console.print(f"timeline: {timeline_path}")
    _print_states(document)
    _finish(document, as_json)


@main.command()
@click.argument("deployment_id")
@click.option("--teardown", "of_teardown", is_flag=True, help="The latest teardown instead of the latest provisioning.")
@_JSON_OPTION
@_options(_FOLLOW_OPTIONS)
@_options(_TARGET_OPTIONS)
@_aws_errors
def watch(deployment_id: str, of_teardown: bool, as_json: bool, poll_seconds: float, timeout_minutes: float, **target_options) -> None:
    """Follow the latest execution of DEPLOYMENT_ID live, state by state, to its end; then its outputs."""
    target = Target(**target_options)
    sfn = target.stepfunctions()
    _finish(_follow(sfn, _latest(sfn, target, deployment_id, of_teardown)["executionArn"], poll_seconds, timeout_minutes), as_json)


@main.command("list")
@click.option("--locks-table", envvar=locking.TABLE_ENV, help="The deployments table (default: the stack's DeploymentLocksTableName).")
@_JSON_OPTION
@_options(_TARGET_OPTIONS)
@_aws_errors
def list_deployments(locks_table: str | None, as_json: bool, **target_options) -> None:
    """Every deployment: what runs now, the latest provisioning and teardown (status, when, warnings)."""
    target = Target(**target_options)
    table = locks_table or target.outputs().get("DeploymentLocksTableName")
    if not table:
        raise EnvironmentProblem(
            f"stack {target.stack!r} has no DeploymentLocksTableName output (update it with `sam deploy`, or pass --locks-table)"
        )
    deployments = locking.Locks(target.region_name, table).deployments()
    listing = Table("deployment", "provisioning", "teardown", "warnings", box=None, pad_edge=False)
    for deployment in deployments:
        provision, teardown = deployment["provision"], deployment["teardown"]
        warnings = (provision or {}).get("warnings")
        listing.add_row(
            deployment["deployment_id"], _latest_line(provision), _latest_line(teardown), "" if warnings is None else str(warnings)
        )
    console.print(listing if deployments else "no deployment has run yet")
    if as_json:
        click.echo(json.dumps({"deployments": deployments}, indent=2))
    sys.exit(EXIT_OK)


def _latest_line(latest: dict | None) -> str:
    if not latest:
        return "-"
    colour = {"SUCCEEDED": "green", "RUNNING": "cyan"}.get(latest["status"], "red")
    return f"[{colour}]{latest['status']}[/] {latest.get('ended_at') or latest.get('started_at') or ''}"


def _latest(sfn, target: Target, deployment_id: str, of_teardown: bool) -> dict:
    try:
        return executions.latest(sfn, target.teardown() if of_teardown else target.provision(), deployment_id)
    except executions.NotFound as exc:
        raise BadInput(str(exc)) from None


def _start(as_json: bool, start_once):
    try:
        return start_once()
    except executions.Busy as busy:
        if as_json:
            click.echo(json.dumps({"error": "busy", "message": str(busy), "running_execution": busy.running_execution()}, indent=2))
        console.print(f"[yellow]busy:[/] {escape(str(busy))}")
        sys.exit(EXIT_BUSY)


def _report_start(sfn, machine_arn: str, deployment_id: str, started, command: str) -> None:
    if started.started:
        console.print(f"[bold]{deployment_id}[/]: started {started.execution_name}")
    elif started.status == executions.RUNNING:
        console.print(f"[bold]{deployment_id}[/]: {started.execution_name} was started by an identical request and is still running")
    else:
        console.print(
            f"[bold]{deployment_id}[/]: this exact request already ran ({started.status}) as {started.execution_name}; "
            f"nothing new was started. Run it again with `{command} --attempt {executions.next_attempt(sfn, machine_arn, started.execution_name, deployment_id)}`"
        )
    console.print(f"  {started.execution_arn}")


def _conclude(sfn, started, watch_command: str, wait: bool, as_json: bool, poll_seconds: float, timeout_minutes: float) -> None:
    if wait and started.status == executions.RUNNING:
        _finish({**started.to_dict(), **_follow(sfn, started.execution_arn, poll_seconds, timeout_minutes)}, as_json)
    if started.status != executions.RUNNING:  # an identical request ran before: its outcome is the answer
        _finish({**started.to_dict(), **executions.describe(sfn, started.execution_arn)}, as_json)
    console.print(f"  follow it: analytics-provisioner {watch_command}")
    if as_json:
        click.echo(json.dumps(started.to_dict(), indent=2))
    sys.exit(EXIT_OK)


def _follow(sfn, execution_arn: str, poll_seconds: float, timeout_minutes: float) -> dict:
    """Print each state as it starts and ends (time since the execution started) until the execution ends."""
    described = sfn.describe_execution(executionArn=execution_arn)
    console.print(f"[bold]{described['name']}[/] {described['status']} since {executions.iso(described['startDate'])}")
    shown = _Progress(described["startDate"].timestamp(), _layout(sfn, execution_arn))
    try:
        with _live(shown):
            final, view = executions.follow(sfn, execution_arn, shown.on_change, poll_seconds, timeout_minutes * 60)
    except (TimeoutError, KeyboardInterrupt):
        console.print("[yellow]stopped watching[/]; the execution goes on (`status` or `watch` it again)")
        sys.exit(EXIT_BUSY)
    shown.finish()
    return executions.status_document(final, view)


def _live(shown: "_Progress") -> Live:
    return Live(shown, console=console, transient=True, refresh_per_second=4, redirect_stdout=False, redirect_stderr=False)


class _Progress:
    """Phases grouped by parallel branch, waits with their next check (a live countdown on a terminal),
    a line for every branch that ends or is stopped; Choice and Pass states stay out of sight."""

    def __init__(self, started_at: float, layout: progress.Layout, time_scale: float = 1.0):
        self.started_at, self.layout, self.time_scale = started_at, layout, time_scale
        self.width = max((len(branch.label) for branch in layout.branch_of.values()), default=0)
        self.running: list[str] = []
        self.next_checks: dict[str, float] = {}  # "waiting for x" -> when its wait ends
        self.started: list[progress.Branch] = []
        self.opened: list[progress.Branch] = []  # the branches of every Parallel state entered
        self.ended: set[progress.Branch] = set()
        self.spinner = Spinner("dots")

    def __rich__(self):
        now = time.time()
        parts = [", ".join(self.running) or "…"]
        parts += [f"{what}: next check in {max(0.0, at - now):.0f} s" for what, at in self.next_checks.items()]
        self.spinner.update(text=f"{_clock(now - self.started_at)} running: {escape('; '.join(parts))}")
        return self.spinner

    def on_change(self, what: str, run) -> None:
        branch = self.layout.branch_of.get(run.name)
        if branch and branch not in self.started:
            self.started.append(branch)
        if what == "entered":
            self._entered(run, branch)
        else:
            self._exited(run, branch)

    def _entered(self, run, branch) -> None:
        if not self.layout.shown(run.name, run.kind):
            return
        if run.kind == "Parallel":
            self.opened += self.layout.parallels.get(run.name, [])
            labels = ", ".join(branch.label for branch in self.layout.parallels.get(run.name, []))
            self._line(run.entered, None, f"┌ {escape(run.name)}: {escape(labels)}")
        elif run.kind == "Wait":
            seconds, waiting = self.layout.wait_seconds(run.name, run.state_input), progress.waiting_for(run.name)
            self.next_checks[waiting] = run.entered + (seconds or 0) * self.time_scale  # local mode scales its waits
            after = f" (next check in {seconds:.0f} s)" if seconds is not None else ""
            self._line(run.entered, branch, f"[cyan]…[/] {escape(waiting)}{after}")
        elif run.kind == "Fail":
            self._line(run.entered, branch, f"[red]✗[/] {escape(run.name)}")
            self._branch_ended(branch, "[red]failed[/]", run.entered)
        else:
            self.running.append(run.name)
            self._line(run.entered, branch, f"[cyan]→[/] {escape(run.name)}")

    def _exited(self, run, branch) -> None:
        if run.name in self.running:
            self.running.remove(run.name)
        if run.kind == "Wait":
            self.next_checks.pop(progress.waiting_for(run.name), None)
        elif run.kind == "Parallel":
            self._line(run.exited, None, f"└ {escape(run.name)}: {run.status}")
        elif self.layout.shown(run.name, run.kind):
            mark = "[green]✓[/]" if run.status == "succeeded" else "[red]✗[/]"
            self._line(run.exited, branch, f"{mark} {escape(run.name)} [dim]{run.seconds:.2f}s[/]")
        if branch and run.name in branch.ends and run.status == "succeeded":
            self._branch_ended(branch, "[green]done[/]", run.exited)

    def _branch_ended(self, branch, how: str, at: float) -> None:
        if branch and branch not in self.ended:
            self.ended.add(branch)
            self._line(at, branch, f"■ {how}")

    def finish(self) -> None:
        """Once the execution has ended: a line for every branch that never ended, begun or not (a branch
        can fail before the others' first state: Step Functions then stops them unstarted)."""
        for branch in self.started:
            self._branch_ended(branch, "[yellow]stopped[/] (the execution ended first: another branch failed)", time.time())
        for branch in self.opened:
            self._branch_ended(branch, "[yellow]stopped before it began[/] (another branch failed first)", time.time())

    def _line(self, at: float, branch, text: str) -> None:
        lane = f"│ {escape(branch.label):<{self.width}} " if branch else ""
        console.print(f"  [dim]{_clock(at - self.started_at)}[/] {lane}{text}")


def _layout(sfn, execution_arn: str) -> progress.Layout:
    """The execution's own state machine definition; a flat list of states when the caller may not read it."""
    try:
        return progress.Layout.of(sfn.describe_state_machine_for_execution(executionArn=execution_arn)["definition"])
    except ClientError:
        return progress.Layout()


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(max(seconds, 0)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def _print_states(document: dict) -> None:
    started = datetime.fromisoformat(document["started_at"])
    table = Table(title=f"{document['execution_name']} {document['status']}, started {document['started_at']}", title_justify="left")
    columns: tuple[tuple[str, JustifyMethod], ...] = (("at", "right"), ("state", "left"), ("status", "left"), ("seconds", "right"))
    for column, justify in columns:
        table.add_column(column, justify=justify)
    for state in document["states"]:
        offset = _clock((datetime.fromisoformat(state["started_at"]) - started).total_seconds())
        seconds = "" if state["seconds"] is None else f"{state['seconds']:.2f}"
        table.add_row(offset, state["state"], state["status"], seconds)
    console.print(table)


def _note_teardown(sfn, target: Target, deployment_id: str, document: dict) -> None:
    """``torn_down`` in the status of a provisioning that a later teardown undid: its outputs are gone."""
    machines = target.teardown_if_deployed()
    if not machines:
        return
    try:
        teardown = executions.latest(sfn, machines[0], deployment_id)
    except executions.NotFound:
        return
    if teardown["status"] == executions.SUCCEEDED and executions.iso(teardown["startDate"]) > document["started_at"]:
        document["torn_down"] = {
            "execution_name": teardown["name"],
            "at": executions.iso(teardown.get("stopDate") or teardown["startDate"]),
        }


def _finish(document: dict, as_json: bool) -> None:
    """The outcome on stderr, the document on stdout with --json; the exit code from the status."""
    status, name, elapsed = document["status"], document["execution_name"], _clock(document["elapsed_seconds"])
    if document.get("torn_down"):
        torn_down = document["torn_down"]
        console.print(
            f"[yellow]TORN DOWN[/] by {torn_down['execution_name']} at {torn_down['at']}: the resources of {name} "
            f"({status}) no longer exist (`status --teardown` shows what was kept)"
        )
    elif status == "SUCCEEDED":
        console.print(f"[green]SUCCEEDED[/] {name} in {elapsed}")
        if document.get("output") is not None:
            console.print("outputs:")
            console.print_json(data=document["output"])
    elif status == "RUNNING":
        console.print(f"[cyan]RUNNING[/] {name} for {elapsed}: {escape(', '.join(document['running_states'])) or '…'}")
    else:
        console.print(f"[red]{status}[/] {name} after {elapsed}: {escape(str(document.get('error')))}")
        if document.get("cause"):
            console.print(f"  {escape(document['cause'])}")
    _print_warnings(document.get("warnings") or [])
    if as_json:
        click.echo(json.dumps(document, indent=2))
    sys.exit({"SUCCEEDED": EXIT_OK, "RUNNING": EXIT_BUSY}.get(status, EXIT_FAILED))


# --- plan: what start (or local run) would do, with reads only -----------------------------------

PLAN_MARKS = {"+": "[green]+[/]", "~": "[yellow]~[/]", "=": "[dim]=[/]"}
STACK_ENVIRONMENT = {"DbSetupSecurityGroupId": "DB_SETUP_SECURITY_GROUP_ID", "TrustedImageOwners": "TRUSTED_IMAGE_OWNERS"}


@main.command("plan")
@click.option(
    "--input", "input_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Execution input (JSON)."
)
@_JSON_OPTION
@_options(_TARGET_OPTIONS)
@_aws_errors
def plan_command(input_path: Path, as_json: bool, **target_options) -> None:
    """What `start` would create (+), change (~) or leave alone (=), found with reads only: nothing is created.

    Runs Validate's schema check and preflight with the stack's parameters: an input Validate refuses exits 2.
    """
    document = _planned_input(input_path)
    target = Target(**target_options)
    outputs, parameters = target.outputs(), target.parameters()
    environment = {variable: parameters.get(parameter, "") for parameter, variable in STACK_ENVIRONMENT.items()}
    with _environment(environment):
        _show_plan(document, input_path, target.region_name, outputs.get("SecureRepoBucketName", "<SecureRepoBucketName>"), as_json)


@local.command("plan")
@click.option(
    "--input", "input_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Execution input (JSON)."
)
@_JSON_OPTION
def local_plan(input_path: Path, as_json: bool) -> None:
    """What `local run` would create (+), change (~) or leave alone (=) in a freshly seeded emulator. No MySQL needed."""
    try:
        from .local.emulator import Emulator
        from .local.seed import seed_for_plan
    except ImportError as exc:
        raise EnvironmentProblem(f"local mode needs the development extras: pip install 'analytics-provisioner[local]' ({exc})") from None
    document = _planned_input(input_path)
    region = document.get("region") or "us-east-1"
    with Emulator(region=region) as emulator:
        seed_for_plan(emulator, document)
        _show_plan(document, input_path, region, emulator.secure_repo_bucket, as_json)


def _planned_input(input_path: Path) -> dict:
    document = _read_input(input_path)
    _refuse_invalid(document, input_path, "nothing was planned")
    return document


def _refuse_invalid(document: dict, input_path: Path, outcome: str = "nothing was started") -> None:
    """Every schema problem at once, before anything starts (exit 2), as Validate would name them."""
    problems = validation_errors(document)
    if problems:
        for problem in problems:
            console.print(f"  [red]✗[/] {escape(problem)}")
        raise BadInput(f"--input {input_path}: the execution input is invalid; {outcome}")


@contextmanager
def _environment(variables: dict[str, str]):
    """The Lambda environment Validate runs with (the stack's parameters), for the plan's preflight."""
    previous = {name: os.environ.get(name) for name in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _show_plan(document: dict, input_path: Path, region: str, secure_repo_bucket: str, as_json: bool) -> None:
    try:
        planned = planning.run(document, region, secure_repo_bucket)
    except (AwsCallError, TransientAwsError) as exc:
        raise EnvironmentProblem(str(exc)) from None
    except ProvisionerError as exc:
        console.print(f"  [red]✗[/] Validate: {escape(str(exc))}")
        raise BadInput(f"--input {input_path}: Validate refuses the input; nothing was planned") from None
    console.print(
        f"[bold]{escape(planned['deployment_id'])}[/] in {escape(planned['region'])}: what the deployment would do "
        "(+ create, ~ change or ensure, = unchanged); nothing was created"
    )
    for phase, changes in model.by_phase(planned):
        console.print(f"[bold]{escape(phase)}[/]")
        for change in changes:
            console.print(
                f"  {PLAN_MARKS[change.action]} {escape(change.kind)} [bold]{escape(change.name)}[/] [dim]— {escape(change.reason)}[/]"
            )
    for warning in planned["warnings"]:
        console.print(f"[yellow]warning:[/] {escape(warning)}")
    console.print(model.summary_line([change for _, changes in model.by_phase(planned) for change in changes]))
    if as_json:
        click.echo(json.dumps(planned, indent=2))
