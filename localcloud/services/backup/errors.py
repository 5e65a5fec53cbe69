"""The errors the simulated AWS Backup API answers with (codes from botocore's model of each operation)."""

from __future__ import annotations


class BackupApiError(Exception):
    """An AWS Backup error response: ``code`` is the modeled error name, ``message`` says what was expected
    and what was found. The API layer serializes it in the operation's protocol (HTTP 400)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def not_found(message: str) -> BackupApiError:
    return BackupApiError("ResourceNotFoundException", message)


def invalid_parameter(message: str) -> BackupApiError:
    return BackupApiError("InvalidParameterValueException", message)


def invalid_request(message: str) -> BackupApiError:
    return BackupApiError("InvalidRequestException", message)
