"""Structured logs: one JSON object a line (or a plain line in development), each record carrying
the id of the request or Celery task it was logged in, with e-mail addresses redacted.

`settings.LOGGING` wires these in: `RequestIdMiddleware` opens a request's context,
`LogContextFilter` copies the ids onto each record, `PersonalDataFilter` is the safety net that
redacts anything that looks like an e-mail address, `JsonFormatter` / `PlainFormatter` write it.
"""

import contextvars
import json
import logging
import re
import uuid
from datetime import UTC, datetime

from celery._state import get_current_task

REQUEST_ID_HEADER = "X-Request-ID"
# An incoming id is kept only if it is short and plain: it ends up in every log line.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
# Anything that looks like an e-mail address, URL-encoded ("%40") too.
_EMAIL = re.compile(r"[\w.+%-]+(?:@|%40)[\w-]+(?:\.[\w-]+)+", re.IGNORECASE)
EMAIL_REPLACEMENT = "[email redacted]"

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)


def redact(text: str) -> str:
    return _EMAIL.sub(EMAIL_REPLACEMENT, text)


def level_at_least(level: str, floor: str) -> str:
    """The stricter of two level names: keeps chatty loggers at `floor` even when LOG_LEVEL is
    lower, and quieter still when LOG_LEVEL is higher."""
    number = logging.getLevelName(level.upper())
    if not isinstance(number, int):
        raise ValueError(f"Unknown log level: {level!r}")
    return logging.getLevelName(max(number, logging.getLevelName(floor)))


def current_request_id(record: logging.LogRecord | None = None) -> str | None:
    request_id = request_id_var.get()
    if request_id is None and record is not None:
        # django.request logs some responses after the middleware has returned: the record
        # carries the request itself.
        request_id = getattr(getattr(record, "request", None), "request_id", None)
    return request_id


def current_task_id() -> str | None:
    task = get_current_task()
    return getattr(task.request, "id", None) if task is not None else None


class RequestIdMiddleware:
    """Give each request an id: the caller's `X-Request-ID` when it looks sane, else a new one.

    The id is on the request (`request.request_id`), in every record logged while the request
    is handled, and on the response's `X-Request-ID` header.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = incoming if _SANE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            request_id_var.reset(token)
        response[REQUEST_ID_HEADER] = request_id
        return response


class LogContextFilter(logging.Filter):
    """Put `request_id` and `task_id` on the record (left unset when there is none)."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = current_request_id(record)
        if request_id is not None:
            record.request_id = request_id
        task_id = current_task_id()
        if task_id is not None:
            record.task_id = task_id
        return True


class PersonalDataFilter(logging.Filter):
    """Redact e-mail addresses from the message and the exception text of every record.

    A safety net: our own log calls never pass personal data (tests/test_logging.py checks that).
    """

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            return True  # A malformed call: the handler reports it, the caller carries on.
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, request_id, task_id[, exception]."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or current_request_id(record),
            "task_id": getattr(record, "task_id", None) or current_task_id(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class PlainFormatter(logging.Formatter):
    """A readable line for development, with the same ids ("-" when there is none)."""

    def __init__(self, fmt=None, datefmt=None, style="%", validate=True, *, defaults=None):
        super().__init__(
            fmt or "%(asctime)s %(levelname)s %(name)s [%(request_id)s %(task_id)s] %(message)s",
            datefmt,
            style,
            validate,
            defaults={"request_id": "-", "task_id": "-", **(defaults or {})},
        )
