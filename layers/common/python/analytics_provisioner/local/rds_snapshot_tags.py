"""AWS rule: an instance restored from a DB snapshot carries the snapshot's tags, not its source's.

RestoreDBInstanceFromDBSnapshot without ``Tags`` gives the new instance the tags the snapshot carries
(what ``CopyTagsToSnapshot`` copied from the source instance, or what was added to the snapshot
later); with ``Tags``, those. moto copies the source instance's tags whatever the snapshot carries
(``tests/static/test_moto_canary.py`` checks it still does), so without this rule an untagged
snapshot would still give a restored copy our deployment tag.
"""

import copy

from moto.rds.models import rds_backends

from . import hooks


def rule(account: str) -> list[hooks.Entry]:
    def restored(parsed, context, **_):
        request = hooks.request(context)
        if request.get("Tags") or "DBInstance" not in parsed:
            return
        backend = rds_backends[account][context["client_region"]]
        snapshot_id = request["DBSnapshotIdentifier"].rsplit(":snapshot:", 1)[-1]
        snapshot = backend.describe_db_snapshots(db_instance_identifier=None, db_snapshot_identifier=snapshot_id)[0]
        backend.databases[request["DBInstanceIdentifier"]].tags = copy.deepcopy(snapshot.tags)
        parsed["DBInstance"]["TagList"] = copy.deepcopy(snapshot.tags)

    return [
        ("provide-client-params.rds.RestoreDBInstanceFromDBSnapshot", hooks.remember_request),
        ("after-call.rds.RestoreDBInstanceFromDBSnapshot", restored),
    ]
