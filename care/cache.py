"""The cache when Redis is down (docs/operations.md, "Redis down").

The hall's cache holds counters only: the API's throttling (Django REST framework) and the
per-address limit on sign-in codes (care.sms). Django's Redis cache raises when Redis cannot
be reached, which would turn every API call and every sign-in into a server error. This one
keeps answering: a call that cannot reach Redis goes to a cache in the process's own memory
instead, with a warning in the log. The counters then count per process rather than across
the hall (limits weaken for the length of the outage; they do not stop), and realtime pushes,
which go through the channel layer, degrade on their own (care.realtime).
"""

import logging

from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)

UNREACHABLE = (RedisConnectionError, RedisTimeoutError)
METHODS = ("add", "get", "set", "touch", "delete", "get_many", "has_key", "incr", "decr", "set_many",
           "delete_many", "clear", "get_or_set")


class ResilientRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self.fallback = LocMemCache(f"redis-fallback-{id(self)}", {"TIMEOUT": params.get("TIMEOUT", 300)})


def _with_fallback(name: str):
    def method(self, *args, **kwargs):
        try:
            return getattr(super(ResilientRedisCache, self), name)(*args, **kwargs)
        except UNREACHABLE as exc:
            log.warning("Redis unreachable (%s): cache %s served from this process's memory", exc, name)
            return getattr(self.fallback, name)(*args, **kwargs)

    method.__name__ = name
    return method


for _name in METHODS:
    setattr(ResilientRedisCache, _name, _with_fallback(_name))
