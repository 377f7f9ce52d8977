"""Helpers of the consumer tests: a secure repo rendered on disk, and ansible-playbook run offline.

The contexts are built directly: the Render phase's loading from state and secrets is tested in
tests/unit.
"""

import secrets
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from analytics_provisioner.naming import Names
from analytics_provisioner.render import render_files
from analytics_provisioner.render.context import AccessKey, AppSecrets, Buckets, DbLogin, EmrSettings, Pipeline, RenderContext, Scheduler
from analytics_provisioner.render.releases import for_release

VENV_BIN = Path(sys.executable).parent
# What a person or a password generator may choose, and what breaks naive writers.
HOSTILE = "q'\"{{ x }}%s:#;\\ ~"
PRIVATE_KEY = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAconsumers\nTEST\n-----END RSA PRIVATE KEY-----\n"
DEPLOY_KEY = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAdeploy\nKEY\n-----END RSA PRIVATE KEY-----\n"
DEPLOY_PUBLIC_KEY = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDdeploy acme-prod-jenkins-deploy"


@dataclass
class SecureRepo:
    ctx: RenderContext
    root: Path

    def path(self, name: str) -> Path:
        return self.root / name


def make_context(release: str, analytics_db: DbLogin, edxapp_ro_db: DbLogin) -> RenderContext:
    return RenderContext(
        deployment_id="acme-prod",
        region="eu-west-1",
        release=for_release(release),
        lms_host="lms.acme.org",
        cms_host="studio.acme.org",
        scheme="https",
        contact_email="ops@acme.org",
        migration_user="edxapp001",
        migration_password="migrate-" + HOSTILE,
        analytics_db=analytics_db,
        edxapp_ro_db=edxapp_ro_db,
        es_endpoint="search-acme-prod-analytics-es-abc123.eu-west-1.es.amazonaws.com",
        es_key=AccessKey("AKIAESCONSUMERTEST01", "es+secret/" + secrets.token_urlsafe(12)),
        reports_key=AccessKey("AKIAREPORTSCONSUMER1", "reports+secret/" + secrets.token_urlsafe(12)),
        app=AppSecrets.generate(),
        buckets=Buckets(
            "acme-prod-analytics-emr",
            "acme-prod-analytics-emr",
            "acme-prod-edxanalytics",
            "acme-prod-edxanalytics",
            "acme-prod-tracking-logs",
            "acme-prod-analytics-api-reports",
            "acme-prod-edxapp",
        ),
        emr=EmrSettings(
            Names("acme-prod").emr_instance_profile, "acme-prod-analytics", "subnet-0abc1234", "emr-4.7.2", "acme-prod-analytics"
        ),
        pipeline=Pipeline(
            "https://github.com/openedx/edx-analytics-pipeline.git",
            release,
            "https://github.com/openedx/edx-analytics-configuration.git",
            release,
        ),
        analytics_private_key=PRIVATE_KEY,
        insights_public_ip="203.0.113.10",
        scheduler=Scheduler(
            DEPLOY_KEY, DEPLOY_PUBLIC_KEY, "git@github.com:acme/analytics-secure.git", "main", "10.0.1.10", "198.51.100.20"
        ),
    )


class _VarsLoader(yaml.SafeLoader):
    """YAML as ansible reads it, for inspecting keys: ``!unsafe`` values are plain strings."""


_VarsLoader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))


def load_vars(path: Path) -> dict:
    return yaml.load(path.read_text(), Loader=_VarsLoader)  # noqa: S506  # a SafeLoader subclass


def write_repo(ctx: RenderContext, root: Path) -> SecureRepo:
    for name, text in render_files(ctx).items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return SecureRepo(ctx, root)


def run_ansible(playbook: Path, extra_vars: list[Path], tmp_path: Path, env_file: Path | None = None) -> subprocess.CompletedProcess:
    """ansible-playbook from the venv, local connection, offline; optionally after a POSIX shell sources ``env_file``."""
    command = [str(VENV_BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(playbook)]
    for path in extra_vars:
        command += ["-e", f"@{path}"]
    settings = f"export ANSIBLE_HOME='{tmp_path}/ansible' ANSIBLE_LOCAL_TEMP='{tmp_path}/ansible/tmp' ANSIBLE_NOCOLOR=1"
    script = (f'. "{env_file}" && ' if env_file else "") + f'{settings} && exec "$@"'
    return subprocess.run(
        ["/bin/sh", "-c", script, "sh", *command],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": f"{VENV_BIN}:/usr/bin:/bin", "LANG": "C.UTF-8"},
    )
