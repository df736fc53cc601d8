"""The loan backend installs ocr_core alone (`pip install .`, no extras): it must work with
the base dependencies only.

The child process below refuses every top-level module that is neither the standard library,
nor this distribution's `ocr_core`/`gpu_image`, nor a declared base dependency or one of
their own dependencies (read from the installed metadata, not from a list kept here), so an
import of anything an extra brings (numpy, streamlit, google.cloud, ...) fails the test.
"""

from __future__ import annotations

import importlib.metadata as metadata
import re
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
OUR_PACKAGES = frozenset({"ocr_core", "gpu_image"})


def base_requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [Requirement(line) for line in project["dependencies"]]


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def base_distributions() -> set[str]:
    """The base dependencies and their dependency closure, as installed here."""
    seen: set[str] = set()
    pending = base_requirements()
    while pending:
        requirement = pending.pop()
        name = _canonical(requirement.name)
        if name in seen:
            continue
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue
        seen.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue  # not needed on this platform or Python
        pending.extend(Requirement(line) for line in requires)
    return seen


def allowed_top_level_modules() -> set[str]:
    distributions = base_distributions()
    modules = {
        module
        for module, owners in metadata.packages_distributions().items()
        if any(_canonical(owner) in distributions for owner in owners)
    }
    return modules | OUR_PACKAGES | set(sys.stdlib_module_names) | set(sys.builtin_module_names)


def test_the_allowed_set_is_the_base_closure_and_leaves_the_extras_out() -> None:
    allowed = allowed_top_level_modules()
    assert {"httpx", "tenacity", "google", "pypdfium2", "PIL", "httpcore"} <= allowed
    assert not {"numpy", "streamlit", "starlette", "uvicorn", "pandas", "grpc"} & allowed


def test_ocr_core_imports_and_reads_documents_with_the_base_dependencies_only(corpus) -> None:
    allowed = sorted(allowed_top_level_modules())
    pdf = str(corpus / "pdf" / "pdflatex-4-pages.pdf")
    tiff = str(corpus / "pdf" / "smile-lzw.tiff")
    script = textwrap.dedent(
        f"""
        import importlib.abc, sys

        ALLOWED = set({allowed!r})
        refused = []

        class Block(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                top = name.split(".")[0]
                if top not in ALLOWED:
                    # Who asked: our own code, or a dependency probing for an optional
                    # extra (rapidfuzz 3.0 tries numpy and does without it).
                    frame = sys._getframe(1)
                    while frame and "importlib" in frame.f_code.co_filename:
                        frame = frame.f_back
                    if frame and "/ocr_core/" in frame.f_code.co_filename:
                        refused.append(name)
                    raise ModuleNotFoundError(f"{{name}} is not a base dependency of ocr_core")
                return None

        sys.meta_path.insert(0, Block())
        import io
        from PIL import Image
        import ocr_core
        from ocr_core import SyncOCRClient, load_document

        with open({pdf!r}, "rb") as f:
            doc = load_document(f.read(), filename="x.pdf")
        page = next(doc.pages())
        print(doc.page_count, page.image.size, page.encode().mime_type)
        with open({tiff!r}, "rb") as f:
            print(load_document(f.read()).page(0).encode().width)
        grey16 = io.BytesIO()
        Image.new("I;16", (40, 30), 30000).save(grey16, "PNG")
        print(load_document(grey16.getvalue()).page(0).image.mode)
        SyncOCRClient(base_url="http://127.0.0.1:9").close()
        print(sorted(set(refused)))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    pdf_line, tiff_line, grey_line, refused = result.stdout.splitlines()
    assert pdf_line.startswith("4 (") and pdf_line.endswith("image/jpeg")
    assert tiff_line == "1540"
    assert grey_line == "L"
    # Nothing of ours on these paths even tries numpy: it is an extra, not a base dependency.
    assert "numpy" not in refused
