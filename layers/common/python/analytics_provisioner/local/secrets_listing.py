"""AWS rule: ListSecrets lags writes. Secrets Manager documents ListSecrets as eventually consistent:
a secret created or deleted in the last five minutes may be missing from the list. moto lists every
change at once; here a secret created, deleted or restored less than five simulated minutes ago is
left out of the ListSecrets answers the functions get (DescribeSecret and GetSecretValue by name see
it at once, as on AWS). A test's own look at the account sees it as it is.
"""

from botocore import handlers

from . import faults
from .clock import Clock

LAG_SECONDS = 300
CHANGES = ("CreateSecret", "DeleteSecret", "RestoreSecret")


class ListSecretsLag:
    def __init__(self, clock: Clock):
        self.clock = clock
        self.changed_at: dict[str, float] = {}  # ARN -> simulated time of its last create/delete/restore
        self._entries = [(f"after-call.secrets-manager.{operation}", self._changed) for operation in CHANGES]
        self._entries.append(("after-call.secrets-manager.ListSecrets", self._listed))

    def install(self) -> None:
        handlers.BUILTIN_HANDLERS.extend(self._entries)

    def uninstall(self) -> None:
        for entry in self._entries:
            if entry in handlers.BUILTIN_HANDLERS:
                handlers.BUILTIN_HANDLERS.remove(entry)

    def settled(self, arn: str) -> bool:
        return arn not in self.changed_at or self.clock.now() - self.changed_at[arn] >= LAG_SECONDS

    def _changed(self, parsed, **_):
        if parsed.get("ARN"):
            self.changed_at[parsed["ARN"]] = self.clock.now()

    def _listed(self, parsed, **_):
        if getattr(faults.current, "function", None) and "SecretList" in parsed:
            parsed["SecretList"] = [secret for secret in parsed["SecretList"] if self.settled(secret["ARN"])]
