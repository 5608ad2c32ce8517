"""A MinHash LSH index in Redis that several workers (or machines) share: datasketch's ``MinHashLSH`` with Redis
storage, plus each document's signature so a worker can judge candidates that another worker inserted.

    index = SharedLSHIndex("redis://10.0.0.5:6379/0", threshold=0.8, num_perm=128, bands=14, rows=7,
                           basename="qft-v1-statements")
    others = index.query_and_insert("qft-1234", signature)   # [(key, estimated Jaccard), ...] above threshold

A document's own key is never its own candidate, so re-running a batch against the index it filled changes
nothing. Candidates from this batch are judged by exact Jaccard (the caller has their text); candidates that only
the index knows are judged by the Jaccard their MinHash signatures estimate.
"""

from __future__ import annotations

from urllib.parse import urlparse

import numpy as np


class SharedIndexError(ValueError):
    """The storage URL or the Redis server cannot be used; the message says what to fix."""


def redis_config(url: str) -> dict[str, object]:
    """``redis://host:port/db`` as datasketch's ``storage_config['redis']`` mapping."""
    parsed = urlparse(url)
    if parsed.scheme != "redis" or not parsed.hostname:
        raise SharedIndexError(
            f"--lsh-storage {url!r}: write redis://HOST:PORT/DB, e.g. redis://127.0.0.1:6379/0"
        )
    db = parsed.path.lstrip("/") or "0"
    if not db.isdigit():
        raise SharedIndexError(f"--lsh-storage {url!r}: the database after the port must be a number")
    config: dict[str, object] = {"host": parsed.hostname, "port": parsed.port or 6379, "db": int(db)}
    if parsed.password:
        config["password"] = parsed.password
    return config


class SharedLSHIndex:
    """See the module docstring."""

    def __init__(
        self,
        url: str,
        *,
        threshold: float,
        num_perm: int,
        bands: int,
        rows: int,
        basename: str,
        seed: int = 1,
    ):
        try:
            import redis
            from datasketch import MinHashLSH
        except ImportError:
            raise SharedIndexError(
                "a Redis-backed index needs the redis package: pip install redis"
            ) from None
        config = redis_config(url)
        self.threshold = threshold
        self.seed = seed
        self._redis = redis.Redis(**config)
        try:
            self._redis.ping()
        except redis.exceptions.ConnectionError as exc:
            raise SharedIndexError(f"--lsh-storage {url}: cannot reach Redis ({exc})") from None
        self._signatures = f"{basename}:signatures"
        self._lsh = MinHashLSH(
            threshold=threshold,
            num_perm=num_perm,
            params=(bands, rows),
            storage_config={"type": "redis", "basename": basename.encode(), "redis": config},
        )

    def _minhash(self, signature: np.ndarray):
        from datasketch import LeanMinHash

        # Our signatures come from our own bulk permutations, (a*h+b) mod a Mersenne prime like datasketch's
        # first scheme; the index only ever compares them with each other.
        return LeanMinHash(seed=self.seed, hashvalues=signature.astype(np.uint64), scheme="legacy")

    def query_and_insert(self, key: str, signature: np.ndarray) -> list[str]:
        """The keys already in the index whose LSH bands match ``signature`` (not ``key`` itself); then adds
        ``key`` unless it is there already."""
        minhash = self._minhash(signature)
        found = [k.decode() if isinstance(k, bytes) else k for k in self._lsh.query(minhash)]
        candidates = [k for k in found if k != key]
        if key not in found:
            self._lsh.insert(key, minhash, check_duplication=False)
            self._redis.hset(self._signatures, key, signature.astype(np.uint32).tobytes())
        return candidates

    def estimated_similarity(self, key: str, signature: np.ndarray) -> float | None:
        """The Jaccard similarity the stored signature of ``key`` and ``signature`` estimate (None if unknown)."""
        stored = self._redis.hget(self._signatures, key)
        if stored is None:
            return None
        other = np.frombuffer(stored, dtype=np.uint32)
        return float(np.mean(other == signature.astype(np.uint32)))
