"""Emulator rule "network reachability": AWS decides connections by security groups, moto has no
network at all.

Every RDS endpoint in local mode (moto names them ``<id>.aaaaaaaaaa.<region>.rds.amazonaws.com``)
stands for a MySQL server behind the emulator (``Emulator.database_server``); this module is their DNS. A pymysql connection
to an endpoint made inside a Lambda function goes through only when the function reaches the
instance on that port by the path model (``analytics_provisioner.reachability``): its VPC config's
security group (for DbSetup, the stack parameter ``DbSetupSecurityGroupId``) must be admitted by the
instance's groups; a function outside any VPC reaches only a publicly accessible instance open to
every address. Otherwise the connection fails as on AWS: the attempt times out and pymysql reports
MySQL error 2003 "Can't connect to MySQL server on '<endpoint>' (timed out)" (at once here; after
its connect_timeout on AWS). Connections made outside any function (a test, the operator's
laptop) are not judged.
"""

import socket
from collections.abc import Callable
from contextlib import ExitStack
from unittest import mock

import pymysql

from .. import reachability
from ..aws import clients
from .faults import outside_functions
from .mysql import MysqlServer


class _SocketModule:
    """The ``socket`` module as pymysql sees it, with ``create_connection`` through the emulated network."""

    def __init__(self, create_connection):
        self.create_connection = create_connection

    def __getattr__(self, name):
        return getattr(socket, name)


class RdsNetwork:
    def __init__(self, region: str, server_of: Callable[[dict], MysqlServer]):
        self.region, self.server_of = region, server_of
        self.used = False  # a connection went to an RDS endpoint

    def install(self, stack: ExitStack) -> None:
        stack.enter_context(mock.patch.object(pymysql.connections, "socket", _SocketModule(self.create_connection)))

    def create_connection(self, address, timeout=None, **kwargs):
        host, port = address
        with outside_functions() as function:
            instance = self.db_instance(host)
            if instance is not None and function is not None and not self.admits(function, instance, port):
                raise TimeoutError("timed out")
            if instance is not None:
                self.used = True
                server = self.server_of(instance)
                address = (server.host, server.port)
        return socket.create_connection(address, timeout, **kwargs)

    def db_instance(self, host: str) -> dict | None:
        pages = clients.client("rds", self.region).get_paginator("describe_db_instances").paginate()
        return next((found for page in pages for found in page["DBInstances"] if found.get("Endpoint", {}).get("Address") == host), None)

    def admits(self, function: str, instance: dict, port: int) -> bool:
        if port != instance.get("Endpoint", {}).get("Port"):
            return False  # nothing listens there
        config = clients.client("lambda", self.region).get_function_configuration(FunctionName=function).get("VpcConfig")
        network = reachability.Network(clients.client("ec2", self.region).describe_security_groups()["SecurityGroups"])
        return network.reaches(reachability.lambda_function(function, config), reachability.db_instance(instance), port)
