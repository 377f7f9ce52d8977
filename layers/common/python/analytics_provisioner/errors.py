"""Typed errors. The state machine's Retry and Catch match on these class names.

A Lambda that raises reports ``errorType`` = the class name, so keep names stable:
``statemachine/*.asl.json`` lists the retryable ones.
"""


class ProvisionerError(Exception):
    """Base class: a permanent error a user can read and act on."""

    retryable = False


class InputError(ProvisionerError):
    """The execution input does not satisfy the schema or a semantic rule."""


class PreflightError(ProvisionerError):
    """Something the runbook assumes exists is missing, unreadable or unusable."""


class NotOptedInError(PreflightError):
    """A resource that existed before the deployment lacks its owner's opt-in tag for it."""


class OwnershipError(ProvisionerError):
    """A name we would create is taken by a resource without our deployment tag."""


class ResourceStateError(ProvisionerError):
    """A resource exists but is in a state we cannot work with (e.g. a terminated instance)."""

    lacking: list[str] | None = None  # set by record.lacking: the state keys a phase found missing


class ResourceTimeoutError(ProvisionerError):
    """A poll loop reached its ceiling."""


class TransientAwsError(ProvisionerError):
    """Throttling, a 5xx, or eventual consistency: the state machine retries these."""

    retryable = True


class IamPropagationError(TransientAwsError):
    """A service refused an IAM principal or instance profile created seconds ago: IAM has not
    propagated it yet. The state machine retries these longer than other transient errors."""


class VerificationError(ProvisionerError):
    """A deployment whose resources exist but cannot work: a network path the runbook needs is closed,
    a port is open to the world beyond what it asks for, or the runbook's RDS test failed."""


class Busy(ProvisionerError):
    """Another execution of the deployment holds its lock: this one must not run (the message names it)."""


class AwsCallError(ProvisionerError):
    """An AWS call failed in a way retrying will not fix (access denied, invalid parameter)."""


class InternalError(ProvisionerError):
    """An exception no phase expected (a defect): the handler names its type, never lets it out bare."""


# What every Task of both state machines retries (tests/static/test_template.py reads this list);
# IamPropagationError is retried, longer, only by the Tasks that use a principal created seconds before.
RETRYABLE_ERROR_NAMES = [TransientAwsError.__name__]


QUOTE_LIMIT = 40


def quote(value, limit: int = QUOTE_LIMIT) -> str:
    """A rejected value as an error message shows it: its repr, cut to a short prefix, so an answer
    never echoes a huge value (a 2.5 MB field would otherwise make a 7.5 MB error)."""
    if isinstance(value, str):
        return repr(value) if len(value) <= limit else f"{value[:limit]!r}… ({len(value)} characters)"
    import reprlib  # only for a rejected non-string value

    shown = reprlib.Repr(maxlevel=2, maxdict=3, maxlist=3, maxstring=limit, maxother=limit).repr(value)
    return shown if len(shown) <= 2 * limit else shown[: 2 * limit] + "…"
