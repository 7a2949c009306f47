"""The app the Redis history tests serve in several processes: ``tests.support.history_app`` on a Redis hub.

Rooms ``h-*`` keep their last 1,000 publications for ten minutes; the others keep none.
``HUB_REDIS_URL`` names the Redis (``redis+cluster://...``: a Redis Cluster); ``HUB_RETRY_FOR`` how long a
publication is retried.
"""

from __future__ import annotations

import os

from pyfly_ws.hub import HistoryPolicy, Hub, RedisBackend, RedisClusterBackend
from tests.support.history_app import build

URL = os.environ["HUB_REDIS_URL"]
Backend = RedisClusterBackend if URL.startswith("redis+cluster://") else RedisBackend
HUB = Hub(
    Backend(URL, retry_for=float(os.environ.get("HUB_RETRY_FOR", "5"))),
    history={"h-*": HistoryPolicy(size=1000, ttl=600)},
)
app = build(HUB)
