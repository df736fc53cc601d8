"""The loan backend installs ocr_core alone: it must work without the console's and the
local server's dependencies."""

from __future__ import annotations

import subprocess
import sys
import textwrap

# Top-level packages that only the extras bring; importing any of them from ocr_core's base
# would break the backend's install.
EXTRAS_ONLY = (
    "streamlit",
    "google.cloud",
    "grpc",
    "starlette",
    "uvicorn",
    "rapidocr_onnxruntime",
    "onnxruntime",
    "prometheus_client",
    "nh3",
    "pandas",
)


def test_ocr_core_imports_and_reads_a_document_without_any_extra(corpus) -> None:
    script = textwrap.dedent(
        f"""
        import importlib.abc, sys

        BLOCKED = {EXTRAS_ONLY!r}

        class Block(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if any(name == b or name.startswith(b + ".") for b in BLOCKED):
                    raise ImportError(f"{{name}} is not installed for the backend")
                return None

        sys.meta_path.insert(0, Block())
        import ocr_core
        from ocr_core import OCRClient, SyncOCRClient, load_document

        with open({str(corpus / "pdf" / "pdflatex-4-pages.pdf")!r}, "rb") as f:
            doc = load_document(f.read(), filename="x.pdf")
        print(doc.page_count, next(doc.pages()).image.size)
        SyncOCRClient(base_url="http://127.0.0.1:9").close()
        print(sorted(m for m in sys.modules if m.split(".")[0] in {{"streamlit", "google"}}))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    first, modules = result.stdout.splitlines()
    assert first.startswith("4 (")
    assert "streamlit" not in modules and "google.cloud" not in modules
