"""The local OpenAI-compatible OCR server: vLLM's protocol over a CPU OCR engine.

Needs the `local` extra (starlette, uvicorn, prometheus-client, rapidocr-onnxruntime);
`import ocr_core` never imports this package.
"""

from ._app import DEFAULT_MODEL_NAME, ServerSettings, create_app
from ._engine import Engine, EngineResult, load_engine

__all__ = [
    "DEFAULT_MODEL_NAME",
    "Engine",
    "EngineResult",
    "ServerSettings",
    "create_app",
    "load_engine",
]
