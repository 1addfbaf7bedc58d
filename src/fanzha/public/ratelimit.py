"""Per-client rate limit (限流) for the public app: an in-process token bucket per client IP.

Each IP holds up to `burst` tokens, refilled at `per_minute` a minute; a request spends one, and with none left it
is refused (429) until the next token arrives. In-process means each web process counts on its own: run the public
app as one process (it is light), or divide the figures by the number of processes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TokenBucket:
    MAX_CLIENTS = 100_000  # beyond this the fullest (idle) buckets are forgotten: memory stays bounded

    def __init__(self, per_minute: int, burst: int, clock: Callable[[], float] = time.monotonic):
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # ip → (tokens, at)
        self._lock = threading.Lock()

    def take(self, client: str) -> float:
        """0 when the request may go ahead, else the seconds until this client has a token again."""
        now = self.clock()
        with self._lock:
            tokens, at = self._buckets.get(client, (self.burst, now))
            tokens = min(self.burst, tokens + (now - at) * self.rate)
            if tokens >= 1:
                self._buckets[client] = (tokens - 1, now)
                wait = 0.0
            else:
                self._buckets[client] = (tokens, now)
                wait = (1 - tokens) / self.rate
            if len(self._buckets) > self.MAX_CLIENTS:
                self._forget(now)
        return wait

    def _forget(self, now: float) -> None:
        full_after = self.burst / self.rate
        for ip in [ip for ip, (_, at) in self._buckets.items() if now - at >= full_after]:
            del self._buckets[ip]
        while len(self._buckets) > self.MAX_CLIENTS:  # all busy: drop the oldest
            del self._buckets[next(iter(self._buckets))]
