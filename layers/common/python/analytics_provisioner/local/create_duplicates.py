"""AWS rule: a create whose name is taken is refused. RDS CreateDBSubnetGroup answers
DBSubnetGroupAlreadyExists (the DBSubnetGroupAlreadyExistsFault) and OpenSearch CreateDomain
ResourceAlreadyExistsException (HTTP 409) when a subnet group / domain of that name exists; moto
replaces the existing one, so the SDK's retry of a create whose answer was lost (local/faults.py)
would pass here where AWS refuses it. moto refuses the other creates we make (CreateDBInstance, IAM's,
EC2's, S3 outside us-east-1) as AWS does. Checked where moto makes the resource, so every attempt of
a call is (``tests/unit/test_ec2_describe_lag_rule.py`` checks moto still replaces).
"""

from unittest import mock

from moto.core.exceptions import JsonRESTError
from moto.opensearch.models import OpenSearchServiceBackend
from moto.rds.exceptions import RDSClientError
from moto.rds.models import RDSBackend


class DomainAlreadyExists(JsonRESTError):
    code = 409

    def __init__(self, name: str):
        super().__init__("ResourceAlreadyExistsException", f"domain {name} already exists")


def _refuse_taken(create, name_parameter: str, taken, error):
    def checked(backend, *args, **kwargs):
        name = args[0] if args else kwargs[name_parameter]
        if taken(backend, name):
            raise error(name)
        return create(backend, *args, **kwargs)

    return checked


class CreateDuplicates:
    def __init__(self):
        self._patches = [
            mock.patch.object(
                RDSBackend,
                "create_subnet_group",
                _refuse_taken(
                    RDSBackend.create_subnet_group,
                    "subnet_name",
                    lambda backend, name: name in backend.subnet_groups,
                    lambda name: RDSClientError("DBSubnetGroupAlreadyExists", f"The DB subnet group '{name}' already exists."),
                ),
            ),
            mock.patch.object(
                OpenSearchServiceBackend,
                "create_domain",
                _refuse_taken(
                    OpenSearchServiceBackend.create_domain,
                    "domain_name",
                    lambda backend, name: name in backend.domains,
                    DomainAlreadyExists,
                ),
            ),
        ]

    def install(self) -> None:
        for patch in self._patches:
            patch.start()

    def uninstall(self) -> None:
        for patch in reversed(self._patches):
            patch.stop()
