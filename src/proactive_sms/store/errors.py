"""Errors the store raises with enough said for the caller to tell the user what and where."""


class NotFound(LookupError):
    def __init__(self, kind: str, key: object) -> None:
        super().__init__(f"no {kind} '{key}'")
        self.kind = kind
        self.key = key


class AlreadyExists(ValueError):
    def __init__(self, kind: str, key: object) -> None:
        super().__init__(f"{kind} '{key}' already exists")
        self.kind = kind
        self.key = key
