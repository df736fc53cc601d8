"""OCR jobs: upload batches that run in the background and are kept page by page.

`JobStore` creates and reads jobs, `JobRunner` runs them (one per console process), and
`python -m console.jobs` lists, shows, cancels, exports and runs them from a shell.
"""

from console.jobs._models import DocumentState, Job, JobDocument, JobStatus, StoredPage
from console.jobs._pages import describe_error, read_page
from console.jobs._references import WHOLE_DOCUMENT, Reference, ReferenceStore
from console.jobs._retention import DEFAULT_RETENTION_DAYS
from console.jobs._runner import JobRunner
from console.jobs._store import JobStore
from console.jobs._uploads import JobTooLarge, NewDocument

__all__ = [
    "DEFAULT_RETENTION_DAYS",
    "WHOLE_DOCUMENT",
    "DocumentState",
    "Job",
    "JobDocument",
    "JobRunner",
    "JobStatus",
    "JobStore",
    "JobTooLarge",
    "NewDocument",
    "Reference",
    "ReferenceStore",
    "StoredPage",
    "describe_error",
    "read_page",
]
