"""Jenkins as analytics-jenkins.yml installs it (the jenkins_analytics role, the same at every release): its
variables in vars-analytics.yml, and the steps that take an operator to a logged-in Jenkins.

- Login: the role's Unix realm (PAM service ``su``) for the ``jenkins`` user, an administrator, with the
  password generated into the app secret. The role's default realm, github_oauth, fails the play without a
  GitHub OAuth client.
- Credentials: setting the list replaces the role's whole default, so it holds both ids the role's seed job
  and the analytics jobs name: ``github-deploy-key`` (user git) with the deploy key Compute generated, and
  ``ssh-access-key`` (user hadoop) with the analytics key pair, inline instead of the role's key file in
  the secure repo checkout, so it works whether or not a secure repo is cloned.
- Secure repo: ``input.jenkins`` sets the repository the seed job clones (with github-deploy-key); without
  it the seed job clones none and the next steps say how to add it.
- The role's nginx site for Jenkins listens on ``jenkins_nginx_port`` (80 by default). Insights is the
  default server on 80, open to the world, and a request naming Jenkins' server name would reach Jenkins
  1.651 through it: the site goes to a port the security group does not open.
"""

from ..naming import Names
from .context import EMR_SSH_USER, RenderContext
from .releases import JENKINS_RELEASE

REALM = "unix"
USER = "jenkins"  # jenkins_master's jenkins_user: the realm's login, and in jenkins_admin_users
PORT = 8080  # jenkins_master's jenkins_port: Jenkins itself, reached through SSH
NGINX_PORT = 18080  # neither 80/443 (Insights, open to the world) nor any other site's port
PASSWORD_KEY = "jenkins_password"  # nosec B105  # the name of the app secret's key that holds the password, not a password
# The role's credential ids (its ANALYTICS_SCHEDULE_{SECURE_REPO,JOBS_DSL_REPO,MASTER_SSH}_CREDENTIAL_ID defaults).
GIT_CREDENTIAL_ID, GIT_USER = "github-deploy-key", "git"
EMR_SSH_CREDENTIAL_ID = "ssh-access-key"
JOB_FILES = "/home/jenkins/"  # where jenkins_env points the analytics jobs for emr-vars.yml and analytics-override.cfg


def _ssh_key(credential_id: str, username: str, private_key: str, description: str) -> dict:
    return {
        "id": credential_id,
        "scope": "GLOBAL",
        "username": username,
        "type": "ssh-private-key",
        "passphrase": None,  # nosec B105  # the keys have none; a field the role's credential script reads, not a password
        "description": description,
        "privatekey": private_key,
    }


def variables(ctx: RenderContext) -> dict:
    scheduler = ctx.scheduler
    found = {
        ctx.release.jenkins_version_key: JENKINS_RELEASE,
        "JENKINS_ANALYTICS_AUTH_REALM": REALM,
        "JENKINS_ANALYTICS_USER_PASSWORD_PLAIN": ctx.app.jenkins_password,
        "JENKINS_ANALYTICS_CREDENTIALS": [
            _ssh_key(
                GIT_CREDENTIAL_ID,
                GIT_USER,
                scheduler.deploy_key,
                f"deploy key of the secure repo ({Names(ctx.deployment_id).jenkins_deploy_key_pair}, analytics-provisioner)",
            ),
            _ssh_key(
                EMR_SSH_CREDENTIAL_ID,
                EMR_SSH_USER,
                ctx.analytics_private_key,
                f"SSH key of {ctx.emr.key_pair_name} for the EMR clusters (analytics-provisioner)",
            ),
        ],
        "jenkins_nginx_port": NGINX_PORT,
    }
    if scheduler.secure_repo_url:
        found |= {
            "ANALYTICS_SCHEDULE_SECURE_REPO_URL": scheduler.secure_repo_url,
            "ANALYTICS_SCHEDULE_SECURE_REPO_VERSION": scheduler.secure_repo_branch,
        }
    return found


def summary(ctx: RenderContext, app_secrets_id: str) -> dict:
    """What the execution's output says about Jenkins: where the password is, the deploy key's public half."""
    scheduler = ctx.scheduler
    return {
        "user": USER,
        "password_secret_id": app_secrets_id,
        "password_secret_key": PASSWORD_KEY,
        "deploy_public_key": scheduler.deploy_public_key,
        "secure_repo_url": scheduler.secure_repo_url,
        "secure_repo_branch": scheduler.secure_repo_branch if scheduler.secure_repo_url else None,
    }


def next_steps(ctx: RenderContext, app_secrets_id: str, secure_repo_uri: str, install: str) -> list[str]:
    """``install`` is the command that runs analytics-jenkins.yml."""
    return [
        *secure_repo(ctx, secure_repo_uri),
        f"Install the scheduler: {install}",
        f"Copy analytics-tasks/jenkins_env, emr-vars.yml and analytics-override.cfg to {JOB_FILES} on the analytics instance "
        "(the analytics jobs read them there)",
        log_in(ctx, app_secrets_id),
    ]


def secure_repo(ctx: RenderContext, secure_repo_uri: str) -> list[str]:
    scheduler = ctx.scheduler
    url, branch = scheduler.secure_repo_url or "<repository URL>", scheduler.secure_repo_branch
    push = (
        f"git clone {url} secure-repo && aws s3 cp --recursive {secure_repo_uri} secure-repo/ --exclude manifest.json && "
        f"git -C secure-repo add -A && git -C secure-repo commit -m 'analytics-provisioner {ctx.deployment_id}' && "
        f"git -C secure-repo push origin HEAD:{branch}"
    )
    as_deploy_key = f"as a read-only deploy key (GitHub: the repository's Settings > Deploy keys): {scheduler.deploy_public_key}"
    if not scheduler.secure_repo_url:
        return [
            f"Jenkins' seed job clones no secure repo yet: create a private git repository, put the secure-repo files in it "
            f"({push}), add Jenkins' deploy key to it {as_deploy_key}; then start this input again with jenkins.secure_repo_url "
            "(an SSH URL) and jenkins.secure_repo_branch (default main), so that vars-analytics.yml points the seed job at it"
        ]
    return [
        f"Put the secure-repo files in {url}, branch {branch}, which Jenkins' seed job clones: {push}",
        f"Add Jenkins' deploy key to {url} {as_deploy_key}. The seed job clones ANALYTICS_SCHEDULE_JOBS_DSL_REPO_URL with the "
        "same key: when that repository is private, add the key to a machine user that can read both instead (GitHub accepts "
        "a deploy key on one repository only)",
    ]


def log_in(ctx: RenderContext, app_secrets_id: str) -> str:
    scheduler, names = ctx.scheduler, Names(ctx.deployment_id)
    director = scheduler.director_public_ip or "<director's public address>"
    return (
        f"Log in to Jenkins as {USER} with the password that aws secretsmanager get-secret-value --secret-id {app_secrets_id} "
        f"--query SecretString --output text | jq -r .{PASSWORD_KEY} prints. Jenkins listens on {PORT} of the analytics instance, "
        f"which the security group keeps closed: ssh-add analytics.pem and the director's key (Secrets Manager "
        f"{names.key_pair_secret(names.director_key_pair)}, key private_key), run ssh -N -L {PORT}:localhost:{PORT} "
        f"-J ubuntu@{director} ubuntu@{scheduler.host_private_ip}, and open http://localhost:{PORT}"
    )
