"""The clients localcloud itself uses (the cloud's and the deployer's, the event router's, the Step Functions
role adapter's, the IAM enforcer's) come from one boto3 session per process.

moto replaces boto3's default session at every mock start, so a ``boto3.client`` made in a new LocalCloud
read and parsed its service model again: a deploy makes clients of about fifteen services in two regions,
and every test builds a new cloud. One session parses each model once per process (botocore's loader
caches them per session).

A client signs as the administrator (``ADMIN``: a key no role session has, so the IAM enforcer lets it do
anything, as before) unless it is given keys of its own, whatever environment the calling thread sees
(a Lambda invocation's environment holds its role's keys).
"""

from __future__ import annotations

import threading
from typing import Any

import boto3

ADMIN = {"aws_access_key_id": "localcloud-admin", "aws_secret_access_key": "localcloud-admin"}
_LOCK = threading.Lock()  # a boto3 session is not thread-safe
_SESSION: list[boto3.session.Session] = []


def client(service: str, region: str, **kwargs: Any) -> Any:
    """A new client of ``service`` in ``region`` (``kwargs`` as ``Session.client`` takes them)."""
    if "aws_access_key_id" not in kwargs:
        kwargs.update(ADMIN)
    with _LOCK:
        if not _SESSION:
            _SESSION.append(boto3.session.Session())
        return _SESSION[0].client(service, region_name=region, **kwargs)
