"""Everything the routes of one app share: settings, database, tokens, limits."""

from __future__ import annotations

from dataclasses import dataclass

from demo_api.database import Database
from demo_api.ratelimit import SlidingWindowLimiter
from demo_api.settings import (
    EXPORT_WINDOW_SECONDS,
    EXPORTS_PER_USER,
    LOGIN_FAILURES_PER_CLIENT,
    LOGIN_FAILURES_PER_USERNAME,
    LOGIN_WINDOW_SECONDS,
    Settings,
)
from demo_api.tokens import TokenCodec


@dataclass(frozen=True)
class AppContext:
    settings: Settings
    database: Database
    tokens: TokenCodec
    failed_logins_by_username: SlidingWindowLimiter
    failed_logins_by_client: SlidingWindowLimiter
    exports_by_user: SlidingWindowLimiter

    @classmethod
    def create(cls, settings: Settings) -> AppContext:
        return cls(
            settings=settings,
            database=Database(settings.db_path, sql_sleep=not settings.fixed),
            tokens=TokenCodec(settings),
            failed_logins_by_username=SlidingWindowLimiter(
                LOGIN_FAILURES_PER_USERNAME, LOGIN_WINDOW_SECONDS
            ),
            failed_logins_by_client=SlidingWindowLimiter(
                LOGIN_FAILURES_PER_CLIENT, LOGIN_WINDOW_SECONDS
            ),
            exports_by_user=SlidingWindowLimiter(EXPORTS_PER_USER, EXPORT_WINDOW_SECONDS),
        )

    @property
    def fixed(self) -> bool:
        return self.settings.fixed
