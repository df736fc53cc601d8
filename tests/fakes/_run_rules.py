"""Cloud Run's rules the fake Run server keeps (split from google_run.py): what a masked
update takes, what makes a new revision, and the error a refused request ends with."""

from __future__ import annotations

from typing import Any

import grpc
from google.cloud import run_v2

_SUCCEEDED = run_v2.Condition.State.CONDITION_SUCCEEDED
_FAILED = run_v2.Condition.State.CONDITION_FAILED


class _Abort(Exception):
    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _ready_condition(ready: bool) -> run_v2.Condition:
    return run_v2.Condition(type_="Ready", state=_SUCCEEDED if ready else _FAILED)


def _template_key(service: run_v2.Service) -> bytes:
    return run_v2.RevisionTemplate.pb(service.template).SerializeToString(deterministic=True)


def _masked(previous: run_v2.Service, incoming: run_v2.Service, paths: Any) -> run_v2.Service:
    """An update with an update_mask: the stored service with only the named top-level
    fields taken from the request (what Cloud Run does; the rest of the request is ignored)."""
    merged = run_v2.Service(previous)
    for path in paths:
        if path not in run_v2.Service.meta.fields:
            raise _Abort(grpc.StatusCode.INVALID_ARGUMENT, f"Invalid update_mask path '{path}'")
        setattr(merged, path, getattr(incoming, path))
    return merged
