"""`SyncOCRClient` is the blocking face of `OCRClient`: every public coroutine (and async
generator) of the async client has a twin of the same name with the same parameters, so the
README's "the same methods" stays true as the async client grows."""

from __future__ import annotations

import inspect

import pytest

from ocr_core import OCRClient, SyncOCRClient


def _public_async(cls: type) -> list[str]:
    return sorted(
        name
        for name, member in inspect.getmembers(cls)
        if not name.startswith("_")
        and name != "aclose"  # the sync face closes with close()
        and (inspect.iscoroutinefunction(member) or inspect.isasyncgenfunction(member))
    )


def _parameters(function: object) -> list[tuple[str, object, object]]:
    signature = inspect.signature(function)  # type: ignore[arg-type]
    return [(p.name, p.kind, p.default) for p in signature.parameters.values()]


@pytest.mark.parametrize("name", _public_async(OCRClient))
def test_every_async_method_has_a_sync_twin_with_the_same_parameters(name: str) -> None:
    twin = getattr(SyncOCRClient, name, None)
    assert twin is not None, f"SyncOCRClient has no {name}"
    assert _parameters(twin) == _parameters(getattr(OCRClient, name))


def test_the_public_properties_are_the_same() -> None:
    def properties(cls: type) -> set[str]:
        return {n for n, m in inspect.getmembers(cls) if isinstance(m, property) and n[0] != "_"}

    assert properties(OCRClient) <= properties(SyncOCRClient)
