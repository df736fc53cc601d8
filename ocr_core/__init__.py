"""ocr_core: PDF and image pages in, LightOnOCR text out.

The backend imports only this package; it needs neither Streamlit nor any google-cloud client.
"""

from ._answers import MAX_BYTES_PER_TOKEN, answer_text_limit, valid_text
from ._archive import ArchivePage, aarchive_page, archive_page
from ._breaker import CircuitBreaker
from ._client import OCRClient
from ._config import (
    DEFAULT_LOCAL_URL,
    DEFAULT_MODEL,
    ClientSettings,
    DocumentSettings,
    Sampling,
)
from ._documents import Document, Page, load_document
from ._exceptions import *  # noqa: F403
from ._exceptions import __all__ as _exception_names
from ._exports import ExportPage, alto, hocr, searchable_pdf
from ._locate import (
    DetectedLine,
    LocatedWord,
    PageWords,
    alocate_words,
    engine_available,
    locate_words,
)
from ._models import (
    BreakerSnapshot,
    BreakerState,
    ConfidenceSpan,
    DocumentResult,
    PageResult,
    StreamChunk,
    WarmUpReport,
)
from ._protocol import CHAT_PATH, HEALTH_PATH, METRICS_PATH, MODELS_PATH
from ._reading_order import OrderCheck, check_order
from ._sync import SyncOCRClient
from ._text import clean_text
from ._variables import SettingsError, Variable

__all__ = [
    "MAX_BYTES_PER_TOKEN",
    "answer_text_limit",
    "valid_text",
    "DetectedLine",
    "LocatedWord",
    "OrderCheck",
    "PageWords",
    "engine_available",
    "alocate_words",
    "ArchivePage",
    "aarchive_page",
    "archive_page",
    "ExportPage",
    "alto",
    "hocr",
    "searchable_pdf",
    "locate_words",
    "CHAT_PATH",
    "HEALTH_PATH",
    "METRICS_PATH",
    "MODELS_PATH",
    "DEFAULT_LOCAL_URL",
    "DEFAULT_MODEL",
    "BreakerSnapshot",
    "BreakerState",
    "CircuitBreaker",
    "ClientSettings",
    "SettingsError",
    "Variable",
    "ConfidenceSpan",
    "Document",
    "DocumentResult",
    "DocumentSettings",
    "OCRClient",
    "Page",
    "PageResult",
    "Sampling",
    "StreamChunk",
    "SyncOCRClient",
    "WarmUpReport",
    "check_order",
    "clean_text",
    "load_document",
    *_exception_names,
]
