"""Jenkins as analytics-jenkins.yml builds it from vars-analytics.yml, for every release.

ansible-core loads the jenkins_analytics role's defaults (upstream.JENKINS_ROLE_DEFAULTS: the role is the same at
every release) with the rendered file over them, and checks what the role's tasks and templates do with the result:
the play passes the role's own checks, a person can log in, every repository the seed job clones has a credential
that exists, and each credential holds the stored key (compared as hashes).
"""

import hashlib
import json

import pytest
import yaml
from secure_repo import run_ansible, write_repo

from upstream import (
    JENKINS_CREDENTIAL_TYPES,
    JENKINS_LOGIN_REALMS,
    JENKINS_ROLE_DEFAULTS,
    JENKINS_ROLE_FAILS_WHEN,
    RELEASES,
    branch,
)

# The ports the analytics security group opens to the world (phases/network.py), where Insights answers.
WORLD_PORTS = [80, 443]


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def expected_values(ctx) -> dict:
    scheduler = ctx.scheduler
    return {
        "expected": {
            "password_sha256": sha256(ctx.app.jenkins_password),
            "deploy_key_sha256": sha256(scheduler.deploy_key),
            "emr_key_sha256": sha256(ctx.analytics_private_key),
            "secure_repo_url": scheduler.secure_repo_url or "",
            "secure_repo_branch": scheduler.secure_repo_branch,
            "world_ports": WORLD_PORTS,
        }
    }


def _credential(id_variable: str) -> str:
    return f"(credentials | selectattr('id', 'equalto', {id_variable}) | first)"


def playbook(with_secure_repo: bool) -> list[dict]:
    secure_scm = "(jenkins_seed_job.multiscm | selectattr('dest', 'equalto', ANALYTICS_SCHEDULE_SECURE_REPO_DEST) | first)"
    secure_repo = (
        [f"{secure_scm}.url == expected.secure_repo_url", "ANALYTICS_SCHEDULE_SECURE_REPO_VERSION == expected.secure_repo_branch"]
        if with_secure_repo
        else [f"not {secure_scm}.url"]
    )  # the seed job leaves an scm without url out
    git, emr = _credential("ANALYTICS_SCHEDULE_SECURE_REPO_CREDENTIAL_ID"), _credential("ANALYTICS_SCHEDULE_MASTER_SSH_CREDENTIAL_ID")
    return [
        {
            "hosts": "localhost",
            "gather_facts": False,
            "tasks": [
                {
                    "name": "the role's own checks let the play go on",
                    "assert": {"quiet": True, "that": [f"not ({when})" for when in JENKINS_ROLE_FAILS_WHEN]},
                },
                {
                    "name": "a person logs in as jenkins, an administrator, with the stored password",
                    "assert": {
                        "quiet": True,
                        "that": [
                            f"jenkins_auth_realm.name in {sorted(JENKINS_LOGIN_REALMS)}",
                            "jenkins_auth_realm.name == 'unix'",
                            "jenkins_auth_realm.service == 'su'",
                            "jenkins_auth_realm.username == jenkins_user == 'jenkins'",
                            "jenkins_auth_realm.plain_password | hash('sha256') == expected.password_sha256",
                            "jenkins_user in jenkins_auth_users.administrators",
                        ],
                    },
                },
                {
                    "name": "the credentials file the role writes",
                    "set_fact": {
                        "credentials": "{{ JENKINS_ANALYTICS_CREDENTIALS | to_json | from_json }}",
                        "cloned": "{{ jenkins_seed_job.multiscm | selectattr('url') | list }}",
                    },
                },
                {
                    "name": "each credential once, of a type the role's script creates, in the global scope",
                    "assert": {
                        "quiet": True,
                        "that": [
                            "credentials | map(attribute='id') | unique | length == credentials | length",
                            f"credentials | map(attribute='type') | difference({sorted(JENKINS_CREDENTIAL_TYPES)}) == []",
                            "credentials | map(attribute='scope') | unique == ['GLOBAL']",
                        ],
                    },
                },
                {
                    "name": "every repository the seed job clones has its credential",
                    "assert": {
                        "quiet": True,
                        "that": [
                            "cloned | map(attribute='credential_id') | difference(credentials | map(attribute='id')) == []",
                            "ANALYTICS_SCHEDULE_JOBS_DSL_REPO_CREDENTIAL_ID == ANALYTICS_SCHEDULE_SECURE_REPO_CREDENTIAL_ID",
                        ],
                    },
                },
                {
                    "name": "git: the deploy key, user git",
                    "assert": {
                        "quiet": True,
                        "that": [
                            f"{git}.privatekey | hash('sha256') == expected.deploy_key_sha256",
                            f"{git}.username == 'git'",
                            f"{git}.type == 'ssh-private-key'",
                            f"{git}.passphrase is none",
                        ],
                    },
                },
                {
                    "name": "EMR: the analytics key pair, user hadoop, whether or not a secure repo is cloned",
                    "assert": {
                        "quiet": True,
                        "that": [
                            f"{emr}.privatekey | hash('sha256') == expected.emr_key_sha256",
                            f"{emr}.username == 'hadoop'",
                            f"{emr}.type == 'ssh-private-key'",
                        ],
                    },
                },
                {"name": "the secure repo", "assert": {"quiet": True, "that": secure_repo}},
                {
                    "name": "Jenkins' nginx site is on no port the world reaches",
                    "assert": {
                        "quiet": True,
                        "that": [
                            "jenkins_nginx_port | int not in expected.world_ports",
                            "jenkins_nginx_port | int != jenkins_port | int",
                        ],
                    },
                },
            ],
        }
    ]


def run_play(repo, tmp_path, with_secure_repo: bool = True, expected: dict | None = None, over: dict | None = None):
    files = {"defaults.json": JENKINS_ROLE_DEFAULTS, "expected.json": expected or expected_values(repo.ctx), "over.json": over or {}}
    for name, content in files.items():
        (tmp_path / name).write_text(json.dumps(content))
    play = tmp_path / "play.yml"
    play.write_text(yaml.safe_dump(playbook(with_secure_repo), sort_keys=False))
    extra = [tmp_path / "defaults.json", repo.path("vars-analytics.yml"), tmp_path / "over.json", tmp_path / "expected.json"]
    return run_ansible(play, extra, tmp_path)


@pytest.mark.parametrize("release", RELEASES)
def test_the_role_builds_a_jenkins_one_can_log_in_to_for_every_release(render_repo, tmp_path, release):
    result = run_play(render_repo(branch(release)), tmp_path)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "failed=0" in result.stdout and f"ok={len(playbook(True)[0]['tasks'])}" in result.stdout


def test_without_a_secure_repo_the_seed_job_clones_none_and_keeps_its_credentials(render_repo, tmp_path):
    ctx = render_repo().ctx
    repo = write_repo(ctx._replace(scheduler=ctx.scheduler._replace(secure_repo_url=None)), tmp_path / "no-repo")
    assert "ANALYTICS_SCHEDULE_SECURE_REPO_URL" not in repo.path("vars-analytics.yml").read_text()
    result = run_play(repo, tmp_path, with_secure_repo=False)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


@pytest.mark.parametrize(
    ("earlier", "caught"),
    [
        ({"JENKINS_ANALYTICS_AUTH_REALM": "github_oauth"}, "(not jenkins_auth_realm.clientId)"),
        (
            {"JENKINS_ANALYTICS_CREDENTIALS": [JENKINS_ROLE_DEFAULTS["JENKINS_ANALYTICS_CREDENTIALS"][1]]},
            "cloned | map(attribute='credential_id') | difference(credentials | map(attribute='id')) == []",
        ),
        (
            {"JENKINS_ANALYTICS_USER_PASSWORD_PLAIN": "jenkins", "JENKINS_ANALYTICS_AUTH_REALM": "unix"},
            "jenkins_auth_realm.plain_password ==",
        ),
        ({"jenkins_nginx_port": 80}, "jenkins_nginx_port | int not in expected.world_ports"),
    ],
    ids=["github-oauth-realm", "no-git-credential", "default-password", "nginx-on-80"],
)
def test_the_play_fails_where_the_earlier_render_failed(render_repo, tmp_path, earlier, caught):
    """The assertions bite: each of the earlier render's faults (and the role's default password) is caught."""
    result = run_play(render_repo(), tmp_path, over=earlier)
    assert result.returncode != 0 and caught in result.stdout, result.stdout[-3000:]
