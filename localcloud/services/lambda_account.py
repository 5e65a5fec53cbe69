"""Lambda's account settings, ``GetAccountSettings``, which moto lacks (it answers 404 "Not yet implemented").

Modeled (Lambda API Reference, GetAccountSettings; Lambda quotas):
- ``AccountLimit.ConcurrentExecutions``: the Region's concurrency quota, 1,000 unless a knob sets another
  (``set_concurrency_limit(region, 10)``: what new accounts get);
- ``UnreservedConcurrentExecutions``: the quota minus the reserved concurrency of the Region's functions
  (moto keeps each function's ``PutFunctionConcurrency``);
- ``AccountUsage``: the Region's function count and their total code size; the code size quotas AWS
  documents (75 GB in all, 250 MB unzipped, 50 MB zipped).
Not modeled: throttling when invocations exceed the quota (localcloud's runtime runs every invocation).
"""

from __future__ import annotations

from moto.awslambda.models import lambda_backends

from localcloud.interceptor import Call, Interceptor, Response, serialize_result
from localcloud.template import ACCOUNT_ID

DEFAULT_CONCURRENCY = 1000
TOTAL_CODE_SIZE = 80_530_636_800  # 75 GB
CODE_SIZE_UNZIPPED = 262_144_000  # 250 MB
CODE_SIZE_ZIPPED = 52_428_800  # 50 MB


class LambdaAccountSimulator:
    def __init__(self, account: str = ACCOUNT_ID) -> None:
        self.account = account
        self.limits: dict[str, int] = {}

    def set_concurrency_limit(self, region: str, limit: int) -> None:
        """The Region's concurrent executions quota (a knob: AWS changes it through Service Quotas)."""
        if limit < 0:
            raise ValueError(f"a concurrency quota is >= 0, got {limit}")
        self.limits[region] = limit

    def settings(self, region: str) -> dict[str, dict[str, int]]:
        functions = list(lambda_backends[self.account][region].list_functions())
        reserved = sum(int(f.reserved_concurrency or 0) for f in functions)
        limit = self.limits.get(region, DEFAULT_CONCURRENCY)
        return {
            "AccountLimit": {
                "TotalCodeSize": TOTAL_CODE_SIZE,
                "CodeSizeUnzipped": CODE_SIZE_UNZIPPED,
                "CodeSizeZipped": CODE_SIZE_ZIPPED,
                "ConcurrentExecutions": limit,
                "UnreservedConcurrentExecutions": max(0, limit - reserved),
            },
            "AccountUsage": {
                "TotalCodeSize": sum(int(f.code_size or 0) for f in functions),
                "FunctionCount": len(functions),
            },
        }

    def _handle(self, call: Call) -> Response:
        return serialize_result(call, self.settings(call.region))

    def register(self, interceptor: Interceptor) -> None:
        interceptor.route("lambda", "GetAccountSettings", self._handle)
