"""Per-client rate limit (限流) for the public app: an in-process token bucket per client address.

Each client holds up to `burst` tokens, refilled at `per_minute` a minute; a request spends one, and with none left it
is refused (429) until the next token arrives. A client is an IPv4 address, or an IPv6 /64 network: one household or
phone gets a whole /64 and could otherwise take a fresh bucket for every address in it. In-process means each web
process counts on its own: run the public app as one process (it is light), or divide the figures by the number of
processes. Memory is bounded: past `max_clients` the least recently seen client is forgotten.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections import OrderedDict
from collections.abc import Callable


def client_key(host: str) -> str:
    """The bucket a client address counts against: IPv4 as it is, IPv6 by its /64 (IPv4-mapped ones as IPv4)."""
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


class TokenBucket:
    MAX_CLIENTS = 100_000  # beyond this the least recently seen client is forgotten: memory stays bounded

    def __init__(self, per_minute: int, burst: int, clock: Callable[[], float] = time.monotonic,
                 max_clients: int = MAX_CLIENTS):
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.clock = clock
        self.max_clients = max_clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # client → (tokens, at), oldest first
        self._lock = threading.Lock()

    def take(self, client: str) -> float:
        """0 when the request may go ahead, else the seconds until this client has a token again."""
        key = client_key(client)
        now = self.clock()
        with self._lock:
            tokens, at = self._buckets.pop(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - at) * self.rate)
            if tokens >= 1:
                self._buckets[key] = (tokens - 1, now)
                wait = 0.0
            else:
                self._buckets[key] = (tokens, now)
                wait = (1 - tokens) / self.rate
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
        return wait

    @property
    def clients(self) -> int:
        """How many clients are being counted now."""
        return len(self._buckets)
