"""Revisions and traffic as the Service page offers them: rollback (one revision takes all the
traffic) or a split between two revisions, and the table of what is deployed.

The platform does the routing (`Platform.set_traffic`); this module only turns the page's
choices into a split and names it for the confirmation and the audit log.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from console.platforms._base import Revision

__all__ = ["TrafficChange", "revision_rows", "rollback", "split"]


@dataclass(frozen=True, slots=True)
class TrafficChange:
    """A traffic change waiting for confirmation: revision -> percent, with its words."""

    shares: Mapping[str, int]
    action: str  # the audit log's action: "rollback" or "split traffic"

    @property
    def target(self) -> str:
        return ", ".join(f"{name} {percent}%" for name, percent in self.shares.items())

    @property
    def label(self) -> str:
        if self.action == "rollback":
            return f"Send all traffic to {next(iter(self.shares))}"
        return f"Split traffic: {self.target}"


def rollback(revision: str) -> TrafficChange:
    return TrafficChange({revision: 100}, "rollback")


def split(first: str, second: str, first_percent: int) -> TrafficChange:
    """`first_percent` to `first`, the rest to `second` (ValueError when that is not a split)."""
    if first == second:
        raise ValueError("Choose two different revisions to split traffic between.")
    if not 0 < first_percent < 100:
        raise ValueError(f"A split gives each revision 1 to 99 percent, not {first_percent}.")
    return TrafficChange({first: first_percent, second: 100 - first_percent}, "split traffic")


def revision_rows(revisions: Iterable[Revision]) -> list[dict[str, object]]:
    """One table row per revision, newest first, as the Service page shows them."""
    return [
        {
            "revision": r.name,
            "traffic %": r.traffic_percent,
            "ready": r.ready,
            "created": r.created,
            "image": r.image,
            "digest": r.digest or "—",
            "model revision": r.model_revision or "—",
        }
        for r in revisions
    ]
