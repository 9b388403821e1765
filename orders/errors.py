"""Why a transition was refused. Views and the API turn these into 403/409/422 with the same code and message."""

from hotline.error_codes import ErrorCode


class TransitionError(Exception):
    status = 400
    code = ErrorCode.INVALID

    def __init__(self, message: str, field: str | None = None, errors: dict[str, str] | None = None) -> None:
        self.message = message
        self.errors = errors or ({field: message} if field else {})
        super().__init__(message)

    @property
    def text(self) -> str:
        """The reason as a page shows it: each field's reason without the field's code (the API names the codes)."""
        return "；".join(self.errors.values()) or self.message


class Forbidden(TransitionError):
    """This user may not do this to this order (role or unit)."""

    status = 403
    code = ErrorCode.FORBIDDEN


class Conflict(TransitionError):
    """Not allowed in the order's current state, or someone else changed the order first."""

    status = 409
    code = ErrorCode.CONFLICT


class InvalidInput(TransitionError):
    """A field is missing or wrong; ``errors`` maps each field to its reason."""

    status = 422
    code = ErrorCode.INVALID

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("；".join(f"{field}：{msg}" for field, msg in errors.items()), errors=errors)
