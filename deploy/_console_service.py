"""Apply and read the console's Cloud Run service: the GPU deployer's machinery, another spec.

`ConsoleDeployer` is a `CloudRunDeployer` aimed at the console's service, so the clients,
the error explanations, the refusal to touch a public service and the invoker grants are
the same code as for the GPU service.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from google.api_core import exceptions as gexc
from google.cloud import run_v2
from google.iam.v1 import iam_policy_pb2

from deploy._console_spec import ConsoleSpec, build_console_service
from deploy._errors import InvalidSpec
from deploy._info import ServiceInfo, service_info
from deploy._service import INVOKER_ROLE, CloudRunDeployer
from deploy._spec import ServiceTarget

_DEVELOPER = "roles/run.developer"
_VIEWER = "roles/run.viewer"


@dataclass(frozen=True, slots=True)
class ConsoleStatus:
    service: ServiceInfo
    iap_enabled: bool
    session_affinity: bool
    invokers: tuple[str, ...]


class ConsoleDeployer(CloudRunDeployer):
    """The console's service; `gpu_target` is the service it operates."""

    def __init__(self, target: ServiceTarget, gpu_target: ServiceTarget, **kwargs: object) -> None:
        super().__init__(target, **kwargs)  # type: ignore[arg-type]
        self.gpu_target = gpu_target

    def gpu_service_url(self) -> str:
        """The GPU service's URL, as Cloud Run reports it."""
        with self._explained("reading the GPU service for", _VIEWER):
            try:
                service = self.services_client.get_service(name=self.gpu_target.name)
            except gexc.NotFound:
                raise InvalidSpec(
                    f"The GPU service {self.gpu_target.service} does not exist in "
                    f"{self.gpu_target.region}: deploy it first (python -m deploy apply) or "
                    "pass --service-url."
                ) from None
        if not service.uri:
            raise InvalidSpec(f"The GPU service {self.gpu_target.service} has no URL yet.")
        return service.uri

    def build_console(self, spec: ConsoleSpec) -> run_v2.Service:
        return build_console_service(self.target, spec)

    def apply_console(self, spec: ConsoleSpec) -> ServiceInfo:
        """Create the console's service or bring it to the spec (IAP on, never public)."""
        if spec.service_url is None:
            spec = spec.with_service_url(self.gpu_service_url())
        spec = self._with_own_urls(spec)
        result = self._apply(self.build_console(spec), spec.invokers)
        grown = self._with_own_urls(spec)
        if grown != spec:  # a first deploy: Cloud Run names the hashed URL only now
            result = self._apply(self.build_console(grown), ())
        return result

    def _with_own_urls(self, spec: ConsoleSpec) -> ConsoleSpec:
        """`spec` also serving every URL Cloud Run gives the console: besides the
        deterministic SERVICE-NUMBER.REGION.run.app name, the SERVICE-HASH-REGION.a.run.app
        one that `gcloud` and the Cloud console show first; a host missing from the list
        refuses whoever opens that URL."""
        with self._explained("reading", _VIEWER):
            try:
                urls = self._get().urls
            except gexc.NotFound:
                return spec
        served = spec.served_hosts(self.target)
        extra = tuple(h for h in (urlsplit(u).hostname for u in urls) if h and h not in served)
        return replace(spec, hosts=(*spec.hosts, *extra)) if extra else spec

    def console_status(self) -> ConsoleStatus:
        with self._explained("reading", _VIEWER):
            service = self._get()
            policy = self.services_client.get_iam_policy(
                request=iam_policy_pb2.GetIamPolicyRequest(resource=self.target.name)
            )
        invokers = tuple(
            sorted({m for b in policy.bindings if b.role == INVOKER_ROLE for m in b.members})
        )
        return ConsoleStatus(
            service=service_info(service),
            iap_enabled=service.iap_enabled,
            session_affinity=service.template.session_affinity,
            invokers=invokers,
        )
