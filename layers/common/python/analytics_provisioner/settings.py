"""The stack's settings: what template.yaml puts in a function's environment, read once per cold start.

The handler decorator builds ``Settings.from_environ()`` on a function's first invocation and passes it
to the phases (and the lock) that take a ``settings`` parameter, so their logic reads no ``os.environ``.
"""

import dataclasses
import os
from collections.abc import Mapping

DB_SETUP_SECURITY_GROUP_ENV = "DB_SETUP_SECURITY_GROUP_ID"
DB_SETUP_FUNCTION_ENV = "DB_SETUP_FUNCTION_NAME"
TRUSTED_IMAGE_OWNERS_ENV = "TRUSTED_IMAGE_OWNERS"
SECURE_REPO_BUCKET_ENV = "SECURE_REPO_BUCKET"
DEPLOYMENT_LOCKS_TABLE_ENV = "DEPLOYMENT_LOCKS_TABLE"
PROVISION_STATE_MACHINE_ENV, TEARDOWN_STATE_MACHINE_ENV = "PROVISION_STATE_MACHINE_ARN", "TEARDOWN_STATE_MACHINE_ARN"
LONGEST_FUNCTION_TIMEOUT_ENV = "LONGEST_FUNCTION_TIMEOUT"


def region_of(environ: Mapping[str, str]) -> str:
    return environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or "us-east-1"


@dataclasses.dataclass(frozen=True)
class Settings:
    # AWS_REGION: the function's own region, the deployment's unless its input names another
    region: str
    # SECURE_REPO_BUCKET (the stack's SecureRepoBucket): Render and Report write there
    secure_repo_bucket: str = ""
    # DB_SETUP_SECURITY_GROUP_ID (DbSetupSecurityGroupId; None: DbSetup runs outside any VPC)
    db_setup_security_group_id: str | None = None
    # DB_SETUP_FUNCTION_NAME: Verify reads its VpcConfig
    db_setup_function_name: str = "DbSetupFunction"
    # TRUSTED_IMAGE_OWNERS (TrustedImageOwners): accounts besides Canonical whose images may be pinned
    trusted_image_owners: tuple[str, ...] = ()
    # DEPLOYMENT_LOCKS_TABLE (DeploymentLocksTable): the Lock function's, and the API's deployments list
    deployment_locks_table: str = ""
    # LONGEST_FUNCTION_TIMEOUT (the Lock function's): the largest Timeout of the functions the state machines invoke
    longest_function_timeout: int = 0
    # PROVISION_STATE_MACHINE_ARN, TEARDOWN_STATE_MACHINE_ARN: the API's
    provision_state_machine_arn: str = ""
    teardown_state_machine_arn: str = ""

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if environ is None else environ
        return cls(
            region=region_of(env),
            secure_repo_bucket=env.get(SECURE_REPO_BUCKET_ENV, ""),
            db_setup_security_group_id=env.get(DB_SETUP_SECURITY_GROUP_ENV, "").strip() or None,
            db_setup_function_name=env.get(DB_SETUP_FUNCTION_ENV) or "DbSetupFunction",
            trusted_image_owners=tuple(owner.strip() for owner in env.get(TRUSTED_IMAGE_OWNERS_ENV, "").split(",") if owner.strip()),
            deployment_locks_table=env.get(DEPLOYMENT_LOCKS_TABLE_ENV, ""),
            longest_function_timeout=int(env.get(LONGEST_FUNCTION_TIMEOUT_ENV) or 0),
            provision_state_machine_arn=env.get(PROVISION_STATE_MACHINE_ENV, ""),
            teardown_state_machine_arn=env.get(TEARDOWN_STATE_MACHINE_ENV, ""),
        )

    def require_secure_repo_bucket(self) -> str:
        if not self.secure_repo_bucket:
            raise KeyError(SECURE_REPO_BUCKET_ENV)  # the stack always sets it: a function without it is misdeployed
        return self.secure_repo_bucket
