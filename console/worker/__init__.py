"""The console's worker: the duties nobody must wait for a page view to start.

`python -m console.worker` runs the job runner, the keep-warm reconciler, the samplers and the
re-read of cold-start marks, with no Streamlit; `python -m console` starts it beside the UI.
The beats it writes (alive, its breaker, its problems) are read through the door
(`console.service`: `live_workers`, `worker_breaker`, `worker_problems`).
"""

from console.worker._worker import Worker

__all__ = ["Worker"]
