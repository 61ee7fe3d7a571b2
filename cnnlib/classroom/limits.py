"""Rate limits on joining a class and starting one: per client address and per class, in the database.

One client must not fill a class (520 joins as "Ana" in 24 s filled a class of 500) or start
classes by the dozen. A school's laptops often reach the server from one address (NAT), so the
per-address limit lets a whole class through at once; the tight limit is per browser, and is the
page's: a browser that holds a seat in the class gets that seat back instead of a second one
(pages/ui/classes/classroom.py), so one browser is one student however many tabs it opens.

Each limit is a token bucket: `capacity` tokens, refilled at `capacity` per WINDOW_S, one taken
per join (or class started). A burst of `capacity` passes at once, then one more every
WINDOW_S / capacity seconds:

    JOINS_PER_ADDRESS   60 a minute from one client address (a class behind one NAT joins at once)
    JOINS_PER_CLASS    300 a minute into one class, from any number of addresses
    CLASSES_PER_ADDRESS  5 a minute started from one client address

The buckets live in the class database (table rate_limits, schema v4), taken from inside the
join's own transaction: several app processes behind nginx share them, a restart does not reset
them, and a refused join writes nothing (its transaction rolls back with the refusal). An
in-process limiter would be simpler but would give each process behind nginx its own budget;
joins are rare (one per student per lesson), so one more row written per join costs little.
Addresses are kept as a hash (`address_bucket`), IPv6 ones by their /64 (what one household or
school is given). A call without a client address (the library, a test, a local session) skips
the per-address limits; the per-class one always applies. Buckets untouched for WINDOW_S are full
again, so they are deleted when a class is started (`purge`).
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import os
from collections.abc import Mapping

from sqlalchemy import Connection, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from cnnlib.classroom.codes import format_code
from cnnlib.classroom.errors import ClassError
from cnnlib.classroom.schema import rate_limits

__all__ = ["trusted_proxies", "client_address"]


WINDOW_S = 60.0
JOINS_PER_ADDRESS = 60
JOINS_PER_CLASS = 300
CLASSES_PER_ADDRESS = 5
MAX_ADDRESS_CHARS = 100  # a longer "address" is cut before hashing
ADDRESS_LABEL = b"cnn-classroom client address\x00"
# A peer in these networks is taken for a proxy (nginx on this machine, a platform's router), so
# its X-Forwarded-For is believed: loopback, RFC 1918, carrier-grade NAT, IPv6 unique-local. The
# default fits Community Cloud and the nginx recipe. A server on a school network with no proxy
# in front (browsers reach `streamlit run` straight from 192.168.x.x) must not believe them: any
# laptop could send a new X-Forwarded-For with each join. There, set ENV_TRUSTED_PROXIES=none.
ENV_TRUSTED_PROXIES = "CNN_CLASSROOM_TRUSTED_PROXIES"
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
PROXY_NETWORKS: tuple[Network, ...] = tuple(
    ipaddress.ip_network(n)
    for n in (
        "127.0.0.0/8",
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
        "::1/128",
        "fc00::/7",
    )
)


def normalize_address(address: object) -> str | None:
    """The client address a limit counts: an IPv4 address, an IPv6 /64, or the text as given
    (stripped, lower case, at most MAX_ADDRESS_CHARS); None when there is none."""
    if not isinstance(address, str) or not address.strip():
        return None
    text = address.strip().lower()[:MAX_ADDRESS_CHARS]
    try:
        ip = ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return text
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def trusted_proxies(environ: Mapping[str, str] | None = None) -> tuple[Network, ...]:
    """The networks whose peers are taken for proxies, from $CNN_CLASSROOM_TRUSTED_PROXIES: unset
    or empty, PROXY_NETWORKS; "none", no proxy at all (X-Forwarded-For is never believed); else a
    comma list of networks or addresses ("127.0.0.1, 10.0.0.0/8"). Entries that are not networks
    are skipped (a typo must not open the limits wider than the entries that parse)."""
    text = (os.environ if environ is None else environ).get(ENV_TRUSTED_PROXIES, "").strip()
    if not text:
        return PROXY_NETWORKS
    if text.lower() == "none":
        return ()
    out: list[Network] = []
    for part in text.split(","):
        try:
            out.append(ipaddress.ip_network(part.strip(), strict=False))
        except ValueError:
            continue
    return tuple(out)


def client_address(
    peer: object, forwarded_for: object, trusted: tuple[Network, ...] = PROXY_NETWORKS
) -> str | None:
    """The address of the browser behind a request: the peer's own, unless the peer is in a
    `trusted` network (a proxy: nginx on this machine, a platform's router; PROXY_NETWORKS by
    default), whose X-Forwarded-For's last entry (the address that proxy saw) is taken instead.
    Any other peer's X-Forwarded-For is ignored, since any client can send one. `peer` None means
    the local machine (Streamlit's `st.context.ip_address` for 127.0.0.1 and ::1), trusted when
    loopback is."""
    peer_text = peer.strip() if isinstance(peer, str) and peer.strip() else None
    if peer_text is None:
        trusted_peer = any(ipaddress.ip_address("127.0.0.1") in net for net in trusted if net.version == 4)
    else:
        try:
            ip = ipaddress.ip_address(peer_text.strip("[]"))
            trusted_peer = any(ip in net for net in trusted if net.version == ip.version)
        except ValueError:
            trusted_peer = False
    if trusted_peer and isinstance(forwarded_for, str):
        last = forwarded_for[-1000:].split(",")[-1].strip()
        if last:
            return normalize_address(last)
    return normalize_address(peer_text)


def address_bucket(kind: str, address: str) -> str:
    """A bucket's name for a client address: the address is kept only as a hash."""
    digest = hashlib.sha256(ADDRESS_LABEL + address.encode("utf-8")).hexdigest()[:32]
    return f"{kind}:{digest}"


def take(conn: Connection, bucket: str, capacity: int, now: float) -> float:
    """Take one token from `bucket` (made full on first use); return 0.0 if one was taken, else the
    seconds until one will be there (nothing is written then). Runs inside the caller's transaction:
    the row is locked (FOR UPDATE on PostgreSQL; SQLite's writer runs alone) until it commits."""
    query = select(rate_limits.c.tokens, rate_limits.c.updated_at).where(rate_limits.c.bucket == bucket)
    locked = query.with_for_update()
    row = conn.execute(locked).first()
    if row is None:
        insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        stmt = insert(rate_limits).values(bucket=bucket, tokens=float(capacity), updated_at=now)
        conn.execute(stmt.on_conflict_do_nothing(index_elements=["bucket"]))
        row = conn.execute(locked).one()  # there now: inserted, or by another joiner first
    rate = capacity / WINDOW_S  # tokens a second
    elapsed = max(0.0, now - float(row.updated_at))  # a clock that went back refills nothing
    tokens = min(float(capacity), float(row.tokens) + elapsed * rate)
    if tokens < 1.0:
        return (1.0 - tokens) / rate
    conn.execute(
        rate_limits.update()
        .where(rate_limits.c.bucket == bucket)
        .values(tokens=tokens - 1.0, updated_at=max(now, float(row.updated_at)))
    )
    return 0.0


def _wait(seconds: float) -> str:
    return f"{max(1, math.ceil(seconds))} s"


def limit_join(conn: Connection, code: str, client: object, now: float) -> None:
    """Refuse a join past the per-address or the per-class limit (a ClassError saying when to retry)."""
    address = normalize_address(client)
    if address is not None:
        wait = take(conn, address_bucket("join-addr", address), JOINS_PER_ADDRESS, now)
        if wait:
            raise ClassError(
                f"Too many joins from your network in the last minute: try again in {_wait(wait)}. "
                "If you are already in the class, reload the page in the browser you joined with."
            )
    wait = take(conn, f"join-class:{code}", JOINS_PER_CLASS, now)
    if wait:
        raise ClassError(
            f"Class {format_code(code)} is taking many joins right now: try again in {_wait(wait)}."
        )


def limit_create(conn: Connection, client: object, now: float) -> None:
    """Refuse starting a class past the per-address limit."""
    address = normalize_address(client)
    if address is None:
        return
    wait = take(conn, address_bucket("create-addr", address), CLASSES_PER_ADDRESS, now)
    if wait:
        raise ClassError(
            f"Too many classes started from your network in the last minute: try again in {_wait(wait)}."
        )


def purge(conn: Connection, now: float) -> None:
    """Delete the buckets untouched for WINDOW_S: they are full again, the same as no row."""
    conn.execute(rate_limits.delete().where(rate_limits.c.updated_at < now - WINDOW_S))
