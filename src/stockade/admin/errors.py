"""Map store errors to HTTP responses of the admin API."""

from __future__ import annotations

from fastapi import FastAPI, Request, status
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from stockade.store.errors import Conflict, NotFound, OutOfScope


def _answer(status_code: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status_code)


async def _not_found(_request: Request, exc: Exception) -> JSONResponse:
    return _answer(status.HTTP_404_NOT_FOUND, str(exc))


async def _conflict(_request: Request, exc: Exception) -> JSONResponse:
    return _answer(status.HTTP_409_CONFLICT, str(exc))


async def _out_of_scope(_request: Request, exc: Exception) -> JSONResponse:
    return _answer(status.HTTP_403_FORBIDDEN, str(exc))


async def _invalid(_request: Request, exc: Exception) -> JSONResponse:
    return _answer(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(NotFound, _not_found)
    app.add_exception_handler(Conflict, _conflict)
    app.add_exception_handler(OutOfScope, _out_of_scope)
    app.add_exception_handler(ValidationError, _invalid)
    app.add_exception_handler(ValueError, _invalid)
