"""Stable error codes of the REST API. Clients match on these; the Chinese message is for people."""

from enum import StrEnum


class ErrorCode(StrEnum):
    UNAUTHENTICATED = "unauthenticated"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    INVALID = "invalid"
    CONFLICT = "conflict"
    SERVER_ERROR = "server_error"
    STORAGE_FULL = "storage_full"
    UNAVAILABLE = "unavailable"
