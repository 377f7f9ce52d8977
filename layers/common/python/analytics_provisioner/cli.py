"""``analytics-provisioner``: the operator's command line.

Exit codes (for pipelines): 0 succeeded, 1 the deployment failed, 2 bad usage or input file,
3 environment problem (no credentials, no stack, no MySQL for local mode).
"""

import json
import sys
from pathlib import Path

import click
from rich.console import Console

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_ENVIRONMENT = 0, 1, 2, 3

console = Console(stderr=True, highlight=False)


def _read_input(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise click.UsageError(f"--input {path}: cannot read a JSON document ({exc})") from None


def _progress_printer(started_label: str = "→"):
    def on_change(what: str, run) -> None:
        if what == "entered":
            console.print(f"  [cyan]{started_label}[/] {run.name}")
        else:
            mark = "[green]✓[/]" if run.status == "succeeded" else "[red]✗[/]"
            console.print(f"  {mark} {run.name} [dim]{run.seconds:.2f}s[/]")

    return on_change


@click.group()
@click.version_option(package_name="analytics-provisioner")
def main() -> None:
    """Provision the Open edX analytics stack on AWS from one JSON document."""


@main.group()
def local() -> None:
    """Run the real state machine offline (moto's interpreter, handlers in-process)."""


@local.command("run")
@click.option("--input", "input_path", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Execution input (JSON).")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path), help="Where the secure-repo files and report.json go.")
@click.option("--mysql", "mysql_url", default="mysql://root@127.0.0.1:3306", show_default=True, help="MySQL/MariaDB standing in for both RDS servers.")
@click.option("--time-scale", default=0.0, show_default=True, type=click.FloatRange(min=0), help="Multiply Wait and Retry delays (0 = instant).")
@click.option("--json", "as_json", is_flag=True, help="Print report.json to stdout.")
def local_run(input_path: Path, out_dir: Path, mysql_url: str, time_scale: float, as_json: bool) -> None:
    """Execute the provisioning workflow locally and write the secure repo into --out."""
    try:
        from .local import runner
        from .local.emulator import Emulator
        from .local.mysql import MysqlServer
    except ImportError as exc:
        console.print(f"[red]local mode needs the development extras:[/] pip install 'analytics-provisioner[local]' ({exc})")
        sys.exit(EXIT_ENVIRONMENT)
    document = _read_input(input_path)
    try:
        server = MysqlServer.from_url(mysql_url)
        server.check(mysql_url)
    except (ValueError, RuntimeError) as exc:
        console.print(f"[red]local run:[/] {exc}")
        sys.exit(EXIT_ENVIRONMENT)
    region = document.get("region") or "us-east-1"
    console.print(f"[bold]analytics-provisioner[/] local run of [bold]{document.get('deployment_id')}[/] in {region} (emulated)")
    with Emulator(region=region, mysql=server, time_scale=time_scale) as emulator:
        report = runner.run(document, out_dir, emulator, on_change=_progress_printer())
    _print_outcome(report, out_dir)
    if as_json:
        click.echo(json.dumps(report, indent=2, default=str))
    sys.exit(EXIT_OK if report["status"] == "SUCCEEDED" else EXIT_FAILED)


def _print_outcome(report: dict, out_dir: Path) -> None:
    if report["status"] == "SUCCEEDED":
        console.print(f"[green]SUCCEEDED[/] in {report['state_transitions']} state transitions; files in {out_dir}:")
        for name in report.get("files", []):
            console.print(f"  {name}")
        for step in (report.get("output") or {}).get("next_steps", []):
            console.print(f"  [yellow]next:[/] {step}")
    else:
        console.print(f"[red]{report['status']}[/]: {report['error']}")
        console.print(f"  {report['cause']}")
    console.print(f"report: {out_dir / 'report.json'}")
