"""Domain errors and their RFC 9457 problem+json rendering.

Every error has a stable `code` clients can branch on, a `title`, and a `detail` in Bahasa Indonesia
(English with `Accept-Language: en`). Validation errors list the failing fields.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.i18n import Locale, Text, negotiate

log = logging.getLogger("shared.errors")

PROBLEM_JSON = "application/problem+json"


class DomainError(Exception):
    """Base for every error a service raises on purpose; subclasses set status, code and message."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    message: ClassVar[Text] = Text("Permintaan tidak valid.", "The request is not valid.")
    headers: dict[str, str] | None = None

    def __init__(
        self,
        message: Text | None = None,
        *,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        **params: object,
    ) -> None:
        base = message or type(self).message
        self.text = base.format(**params) if params else base
        self.extra = extra or {}
        self.headers = headers
        super().__init__(self.text.en)


class NotFound(DomainError):
    status = 404
    code = "not_found"
    message = Text("Data tidak ditemukan.", "Not found.")


class Conflict(DomainError):
    status = 409
    code = "conflict"
    message = Text("Permintaan bertentangan dengan data yang ada.", "The request conflicts with existing data.")


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"
    message = Text("Silakan masuk terlebih dahulu.", "Please sign in first.")
    headers = {"WWW-Authenticate": "Bearer"}

    def __init__(self, message: Text | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(message, **kwargs)


class Forbidden(DomainError):
    status = 403
    code = "forbidden"
    message = Text("Anda tidak berhak melakukan ini.", "You are not allowed to do this.")


class TooManyRequests(DomainError):
    status = 429
    code = "too_many_requests"
    message = Text(
        "Terlalu banyak percobaan. Coba lagi dalam {retry_after} detik.",
        "Too many attempts. Try again in {retry_after} seconds.",
    )

    def __init__(self, retry_after: int, message: Text | None = None, code: str | None = None) -> None:
        retry_after = max(1, int(retry_after))
        super().__init__(
            message,
            extra={"retry_after": retry_after},
            headers={"Retry-After": str(retry_after)},
            retry_after=retry_after,
        )
        if code:
            self.code = code  # type: ignore[misc]


class ServiceUnavailable(DomainError):
    status = 503
    code = "service_unavailable"
    message = Text(
        "Layanan sedang tidak tersedia. Silakan coba lagi beberapa saat lagi.",
        "The service is unavailable. Please try again shortly.",
    )


class FieldError(BaseModel):
    field: str = Field(description="Dotted path of the failing field, e.g. `body.email`")
    code: str = Field(description="Stable code of the failure, e.g. `missing`, `string_too_short`")
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = Field(default="about:blank", examples=["https://prakerja.example/problems/email_taken"])
    title: str
    status: int
    code: str = Field(description="Stable machine-readable code")
    detail: str = Field(description="Human message, Bahasa Indonesia by default")
    instance: str | None = None
    errors: list[FieldError] | None = None


def problem_responses(*errors: type[DomainError]) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: documents each domain error it may raise, grouped by status."""
    out: dict[int | str, dict[str, Any]] = {}
    for err in errors:
        entry = out.setdefault(
            err.status,
            {"model": Problem, "content": {PROBLEM_JSON: {"schema": Problem.model_json_schema()}}, "description": ""},
        )
        sep = "; " if entry["description"] else ""
        entry["description"] += f"{sep}`{err.code}`: {err.message.en}"
    return out


def locale_of(request: Request) -> Locale:
    return negotiate(request.headers.get("accept-language"))


def problem(
    request: Request,
    *,
    status: int,
    code: str,
    text: Text,
    errors: list[dict[str, str]] | None = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    locale = locale_of(request)
    body: dict[str, Any] = {
        "type": f"https://prakerja.example/problems/{code}",
        "title": code.replace("_", " ").capitalize(),
        "status": status,
        "code": code,
        "detail": text.get(locale),
        "instance": request.url.path,
    }
    if errors is not None:
        body["errors"] = errors
    if extra:
        body.update(extra)
    hdrs = {"Content-Language": locale, **(headers or {})}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=hdrs)


_VALIDATION_TEXT: dict[str, Text] = {
    "missing": Text("Wajib diisi.", "This field is required."),
    "extra_forbidden": Text("Kolom ini tidak dikenal.", "This field is not allowed."),
    "json_invalid": Text("JSON tidak valid.", "Invalid JSON."),
    "string_type": Text("Harus berupa teks.", "Must be a string."),
    "int_type": Text("Harus berupa bilangan bulat.", "Must be an integer."),
    "int_parsing": Text("Harus berupa bilangan bulat.", "Must be an integer."),
    "bool_type": Text("Harus berupa true atau false.", "Must be true or false."),
    "bool_parsing": Text("Harus berupa true atau false.", "Must be true or false."),
    "string_too_short": Text("Terlalu pendek.", "Too short."),
    "string_too_long": Text("Terlalu panjang.", "Too long."),
    "string_pattern_mismatch": Text("Formatnya tidak sesuai.", "The format is not valid."),
    "value_error": Text("Nilai tidak valid.", "Invalid value."),
    "date_from_datetime_parsing": Text("Tanggal tidak valid (YYYY-MM-DD).", "Invalid date (YYYY-MM-DD)."),
    "date_parsing": Text("Tanggal tidak valid (YYYY-MM-DD).", "Invalid date (YYYY-MM-DD)."),
    "date_type": Text("Tanggal tidak valid (YYYY-MM-DD).", "Invalid date (YYYY-MM-DD)."),
    "uuid_parsing": Text("ID tidak valid.", "Invalid id."),
    "uuid_type": Text("ID tidak valid.", "Invalid id."),
    "literal_error": Text("Pilihan tidak dikenal.", "Unknown choice."),
    "enum": Text("Pilihan tidak dikenal.", "Unknown choice."),
    "greater_than_equal": Text("Nilainya terlalu kecil.", "The value is too small."),
    "less_than_equal": Text("Nilainya terlalu besar.", "The value is too large."),
    "greater_than": Text("Nilainya terlalu kecil.", "The value is too small."),
    "less_than": Text("Nilainya terlalu besar.", "The value is too large."),
    "model_attributes_type": Text("Harus berupa objek JSON.", "Must be a JSON object."),
    "dict_type": Text("Harus berupa objek JSON.", "Must be a JSON object."),
    "list_type": Text("Harus berupa daftar.", "Must be a list."),
    "too_long": Text("Terlalu banyak isian.", "Too many items."),
    "too_short": Text("Terlalu sedikit isian.", "Too few items."),
}


class FieldMessage(ValueError):
    """Raise inside a pydantic validator to give a field a stable code and a bilingual message."""

    def __init__(self, code: str, text: Text, field: str | None = None) -> None:
        self.code = code
        self.text = text
        self.field = field
        super().__init__(f"[{code}] {text.id} | {text.en}")

    def at(self, field: str) -> FieldMessage:
        """The same failure, raised outside pydantic, naming the field it belongs to (`body.new_password`)."""
        return FieldMessage(self.code, self.text, field)


def _field_error(err: dict[str, Any], locale: Locale) -> dict[str, str]:
    loc = ".".join(str(p) for p in err.get("loc", ()))
    ctx = err.get("ctx") or {}
    inner = ctx.get("error")
    if isinstance(inner, FieldMessage):
        return {"field": loc, "code": inner.code, "message": inner.text.get(locale)}
    kind = str(err.get("type", "value_error"))
    text = _VALIDATION_TEXT.get(kind)
    message = text.get(locale) if text else str(err.get("msg", "Invalid value."))
    return {"field": loc, "code": kind, "message": message}


async def _on_domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    return problem(
        request, status=exc.status, code=exc.code, text=exc.text, extra=exc.extra or None, headers=exc.headers
    )


_INVALID = Text("Ada isian yang belum benar. Periksa kembali.", "Some fields are not valid. Please check them.")


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    locale = locale_of(request)
    errors = [_field_error(dict(e), locale) for e in exc.errors()]
    if any(e["code"] == "json_invalid" for e in errors):
        return problem(
            request,
            status=400,
            code="malformed_json",
            text=Text("Isi permintaan bukan JSON yang valid.", "The request body is not valid JSON."),
            errors=errors,
        )
    return problem(
        request,
        status=422,
        code="validation_failed",
        text=_INVALID,
        errors=errors,
    )


async def _on_field_message(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, FieldMessage)
    locale = locale_of(request)
    return problem(
        request,
        status=422,
        code="validation_failed",
        text=_INVALID,
        errors=[{"field": exc.field or "body", "code": exc.code, "message": exc.text.get(locale)}],
    )


_HTTP_TEXT: dict[int, tuple[str, Text]] = {
    400: ("bad_request", DomainError.message),
    401: ("unauthorized", Unauthorized.message),
    403: ("forbidden", Forbidden.message),
    404: ("not_found", Text("Alamat tidak ditemukan.", "Not found.")),
    405: ("method_not_allowed", Text("Metode tidak diizinkan.", "Method not allowed.")),
    406: ("not_acceptable", Text("Format jawaban tidak didukung.", "Not acceptable.")),
    413: ("payload_too_large", Text("Isi permintaan terlalu besar.", "The request body is too large.")),
    415: ("unsupported_media_type", Text("Jenis isi tidak didukung.", "Unsupported media type.")),
}


async def _on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code, text = _HTTP_TEXT.get(exc.status_code, ("http_error", Text(str(exc.detail), str(exc.detail))))
    return problem(request, status=exc.status_code, code=code, text=text, headers=getattr(exc, "headers", None))


NUL_IN_INPUT = Text(
    "Isian memuat karakter NUL (\\u0000), yang tidak diterima.",
    "The input contains a NUL character (\\u0000), which is not accepted.",
)


def _unstorable_character(exc: Exception) -> bool:
    """PostgreSQL refused a character of the client's input (a NUL in a text value): the request's fault. The
    request's transaction has rolled back, so nothing was stored."""
    return isinstance(exc, DBAPIError) and "invalid byte sequence for encoding" in str(exc.orig)


async def _on_database_error(request: Request, exc: Exception) -> JSONResponse:
    if _unstorable_character(exc):
        return problem(request, status=422, code="nul_character", text=NUL_IN_INPUT)
    raise exc  # any other database error is a 5xx (a bug or an outage): the handler below


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return problem(
        request,
        status=500,
        code="internal_error",
        text=Text("Terjadi kesalahan pada sistem. Silakan coba lagi.", "Something went wrong. Please try again."),
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _on_domain_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(FieldMessage, _on_field_message)
    app.add_exception_handler(DBAPIError, _on_database_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(Exception, _on_unexpected)
