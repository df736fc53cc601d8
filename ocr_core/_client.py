"""PLACEHOLDER: replaced by the client implementation."""


class OCRClient: ...


class SyncOCRClient: ...
