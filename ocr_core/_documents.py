"""PLACEHOLDER: replaced by the documents implementation."""


class Document: ...


class Page: ...


def load_document(data: bytes, *, filename=None, password=None, max_pages=None):
    raise NotImplementedError
