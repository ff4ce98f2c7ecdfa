"""Passwords (argon2id), login rate limiting, CSRF tokens and roles."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import threading
import time
from collections import OrderedDict

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from inbox.store import ROLES

HASHER = PasswordHasher()  # argon2id with the library's current recommended parameters
MIN_PASSWORD_LENGTH = 10
# A valid hash to verify against when the user does not exist, so a wrong name costs the same time.
_DUMMY_HASH = HASHER.hash(secrets.token_urlsafe(16))


class WeakPassword(ValueError):
    pass


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
    return HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return HASHER.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def role_allows(role: str | None, needed: str) -> bool:
    """viewer < moderator < admin."""
    if role not in ROLES:
        return False
    return ROLES.index(role) >= ROLES.index(needed)


class LoginLimiter:
    """Refuses logins after failed attempts within ``window_s``: ``max_failures`` per (user name,
    client address), so one person's typos or an attack on one account never lock the other people
    behind the same address (an office NAT, a reverse proxy), and ``address_max_failures`` per
    address whatever the name (password spraying).

    Memory is bounded: keys are fixed-size hashes (a 100 kB user name costs 16 bytes), each key keeps
    at most its limit of timestamps, and past ``max_keys`` the least recently used key is dropped.
    """

    def __init__(
        self, max_failures: int, window_s: float, address_max_failures: int | None = None, max_keys: int = 20_000
    ):
        self.max_failures = max(1, max_failures)
        self.address_max_failures = address_max_failures or self.max_failures * 10
        self.window_s = window_s
        self.max_keys = max_keys
        self._failures: OrderedDict[bytes, list[float]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._failures)

    def _keys(self, username: str, address: str) -> list[tuple[bytes, int]]:
        def digest(text: str) -> bytes:
            return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()[:16]

        return [
            (digest(f"pair\0{username.casefold()}\0{address}"), self.max_failures),
            (digest(f"addr\0{address}"), self.address_max_failures),
        ]

    def _recent(self, key: bytes, now: float) -> list[float]:
        failures = self._failures.get(key)
        if failures is None:
            return []
        failures[:] = [moment for moment in failures if now - moment < self.window_s]
        if not failures:
            del self._failures[key]
        return failures

    def blocked(self, username: str, address: str) -> float:
        """Seconds until a new attempt is allowed (0 when allowed)."""
        now = time.monotonic()
        with self._lock:
            waits = [
                self.window_s - (now - recent[-limit])
                for key, limit in self._keys(username, address)
                for recent in [self._recent(key, now)]
                if len(recent) >= limit
            ]
        return max(waits, default=0.0)

    def failed(self, username: str, address: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key, limit in self._keys(username, address):
                failures = self._recent(key, now)
                failures.append(now)
                del failures[:-limit]  # only the last `limit` attempts decide
                self._failures[key] = failures
                self._failures.move_to_end(key)
            while len(self._failures) > self.max_keys:
                self._failures.popitem(last=False)

    def succeeded(self, username: str, address: str) -> None:
        """A good password clears that person's count from that address (not the address's own)."""
        with self._lock:
            self._failures.pop(self._keys(username, address)[0][0], None)


def client_address(peer: str | None, forwarded_for: str | None, trusted_proxies: list[str]) -> str:
    """The client's address: the peer's, or, when the peer is a trusted proxy, the nearest address of
    ``X-Forwarded-For`` that is not one (read right to left: the left part is the client's to forge)."""
    networks = [ipaddress.ip_network(n, strict=False) for n in trusted_proxies]

    def trusted(address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in networks)

    address = peer or "?"
    if not networks or not trusted(address) or not forwarded_for:
        return address
    for hop in reversed([part.strip() for part in forwarded_for.split(",")]):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return address  # a malformed hop: trust nothing left of it
        address = hop
        if not trusted(hop):
            return hop
    return address


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_matches(expected: str | None, given: str | None) -> bool:
    return bool(expected and given) and hmac.compare_digest(str(expected), str(given))
