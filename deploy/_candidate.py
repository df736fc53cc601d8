"""The name a candidate revision is tagged with, so that its own URL can be tested before
it takes traffic (`canary-` and the commit or the image digest)."""

from __future__ import annotations

import re

from deploy._errors import InvalidSpec
from deploy._spec import ServiceSpec

_DIGEST = re.compile(r"@sha256:([0-9a-f]{64})$")


def candidate_tag(spec: ServiceSpec) -> str:
    """`canary-` and the first 12 characters of the commit tag or the image's digest."""
    if spec.tag:
        return f"canary-{spec.tag[:12]}"
    if spec.image:
        digest = _DIGEST.search(spec.image)
        version = digest.group(1) if digest else spec.image.rsplit(":", 1)[-1]
        return f"canary-{version[:12]}"
    raise InvalidSpec(
        "A canary needs the image it deploys: --tag COMMIT or --image REF@sha256:DIGEST."
    )
