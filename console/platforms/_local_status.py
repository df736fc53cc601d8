"""The local service's state when this console runs no server of its own on the port.

Said plainly, because the documents go wherever the port leads: a server somebody else
started is used but named as not this console's; a program that holds the port without
answering as an OCR server blocks the console's own server, and the status says who it is
(not "down", which would invite a warm-up that cannot work).
"""

from __future__ import annotations

from console.platforms._base import ServiceState
from console.platforms._port_holder import PortHolder
from ocr_core import HEALTH_PATH


def unmanaged_status(
    health: int | None, holder: PortHolder | None, port: int, floor: int
) -> tuple[ServiceState, str, str | None]:
    """(state, detail, revision) from /health's answer and the port's holder."""
    held_by = f" ({holder.describe()})" if holder else ""
    if health == 200:
        return (
            ServiceState.READY,
            f"An external OCR server{held_by}, not started by this console, answers on port "
            f"{port}: it is used and monitored, but cannot be stopped from here.",
            "external",
        )
    if health == 503:  # loading: jobs wait for it
        return (
            ServiceState.STARTING,
            f"An external server{held_by} on port {port} answers {HEALTH_PATH} with {health}.",
            "external",
        )
    if (
        health is not None
    ):  # a refusal (401, 403) or a fault is not loading: jobs would wait forever
        return (
            ServiceState.DEGRADED,
            f"An external server{held_by} on port {port} answers {HEALTH_PATH} with {health}.",
            "external",
        )
    if holder is not None:
        return (
            ServiceState.DEGRADED,
            f"Port {port} is taken by {holder.describe()}, which this console did not start "
            "and which does not answer as an OCR server: the local OCR server cannot start "
            "there. Stop that program or set LIGHTONOCR_LOCAL_PORT.",
            "external",
        )
    if floor == 0:
        return (
            ServiceState.DOWN,
            "Stopped (floor 0). Warm up or set the floor to 1 to start it.",
            None,
        )
    return ServiceState.DOWN, "Not running. Warm up or scale to 1 to start it.", None
