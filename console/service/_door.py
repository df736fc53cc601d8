"""The one door: every action is authorised from the verified identity and audited.

Buttons, the CLIs and the worker all act through `Operations`, whose methods call `act`
here. Hiding a widget is a courtesy; the refusal is this check, and it is written to the
audit log like every outcome (done, failed, refused), naming the person, the action and
its target.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

from console._identity import Identity, PermissionDenied
from console._store import AuditRecord, Store
from console.platforms._base import Platform

T = TypeVar("T")

# Every action of the console, by its audit name, with the words a refusal uses.
ACTIONS: dict[str, str] = {
    "warm up": "warming up the service",
    "scale": "scaling the service",
    "scale to zero": "scaling to zero",
    "restore": "restoring the scaling",
    "keep warm": "keeping the service warm",
    "keep warm cancelled": "cancelling keep-warm",
    "rollback": "rolling back to an earlier revision",
    "split traffic": "changing where traffic goes",
    "start job": "starting an OCR job",
    "cancel job": "cancelling a job",
    "resume job": "resuming a job",
    "retry page": "reading a page again",
    "unlock document": "unlocking a document",
    "attach reference": "attaching a reference text",
    "set retention": "changing how long jobs are kept",
    "register golden set": "registering a golden set",
    "run golden set": "running a golden set",
    "update golden set": "updating a golden set",
    "remove golden set": "removing a golden set",
    "start comparison": "starting a comparison",
    "canary rollout": "rolling out a canary gated by a golden set",
    "cancel backfill": "cancelling a backfill",
    "retry backfill": "retrying a backfill's failed documents",
    "approve page": "approving a page's text",
    "correct page": "correcting a page's text",
    "restore page": "restoring an earlier version of a page's text",
    "send to review": "sending pages to review",
    "set review settings": "changing which pages go to review",
    "golden set from reviewed": "making a golden set of reviewed pages",
}


class Door:
    """Authorisation and audit over one platform and store (the base of `Operations`)."""

    platform: Platform
    store: Store
    actor: str
    identity_required: bool

    def authorise(self, identity: Identity | None, action: str, target: str | None = None) -> str:
        """The name to audit for `action`, or PermissionDenied (a viewer, or nobody verified
        where identity is required), the refusal audited."""
        words = ACTIONS[action]
        try:
            if identity is None:
                if self.identity_required:
                    raise PermissionDenied(f"{words} needs a signed-in operator")
                return self.actor
            identity.require_current(words, time.time())
            identity.require_operator(words)
        except PermissionDenied as refusal:  # a crafted rerun or a stale page: on the record
            who = identity.name if identity is not None else "(not signed in)"
            self._audit(
                action, target or self.platform.service_url, False, f"refused: {refusal}", who
            )
            raise
        return identity.name

    def act(
        self,
        identity: Identity | None,
        action: str,
        target: str,
        call: Callable[[str], T],
        detail: Callable[[T], str] = lambda _: "done",
    ) -> T:
        """Authorise, run `call(actor)`, audit its outcome (an exception is audited as a
        failure and raised again for the caller to show)."""
        actor = self.authorise(identity, action, target)
        try:
            result = call(actor)
        except Exception as error:
            self._audit(action, target, False, f"{type(error).__name__}: {error}", actor)
            raise
        self._audit(action, target, True, detail(result), actor)
        return result

    def _audit(
        self, action: str, target: str, ok: bool, detail: str, actor: str | None = None
    ) -> None:
        self.store.add_audit(
            AuditRecord(
                at=datetime.now(UTC),
                actor=actor or self.actor,
                platform=self.platform.name,
                action=action,
                target=target,
                ok=ok,
                detail=detail,
            )
        )
