"""The Huey instance: SqliteHuey in the data folder (embedded), RedisHuey when FANZHA_QUEUE_URL is redis://."""

from __future__ import annotations

from huey import RedisHuey, SqliteHuey

from fanzha.config import get_settings


def make_huey():
    settings = get_settings()
    url = settings.queue_url
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey("fanzha", url=url, immediate=settings.queue_immediate)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    path = url.removeprefix("sqlite:///") if url else str(settings.data_dir / "queue.db")
    return SqliteHuey("fanzha", filename=path, immediate=settings.queue_immediate)


huey = make_huey()
