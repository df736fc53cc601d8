"""The console's worker: the duties nobody must wait for a page view to start.

`python -m console.worker` runs the job runner, the keep-warm reconciler, the samplers and the
re-read of cold-start marks, with no Streamlit; `python -m console` starts it beside the UI.
"""

from console.worker._status import WorkerBeat, live_workers, worker_breaker, worker_problems
from console.worker._worker import Worker

__all__ = ["Worker", "WorkerBeat", "live_workers", "worker_breaker", "worker_problems"]
