"""benchmarks/server.py, the S3 stand-in the benchmarks measure against, speaks enough S3 (a smoke test)."""

from __future__ import annotations

import asyncio

import pytest

DATA = bytes(range(256)) * 4096  # 1 MiB


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 10))


def test_benchmark_server_speaks_enough_s3(tmp_path):
    """benchmarks/server.py: ranged GET (206), HEAD, latency and counters, through obstore's S3 client."""
    import time

    import obstore
    from obstore.store import S3Store

    from benchmarks.server import S3Server

    (tmp_path / "k.bin").write_bytes(DATA[:100_000])
    with S3Server(tmp_path, bucket="b", latency=0.05) as server:
        store = S3Store("b", endpoint=server.endpoint, region="us-east-1", skip_signature=True,
                        client_options={"allow_http": True, "timeout": "10s"})
        assert obstore.head(store, "k.bin")["size"] == 100_000
        t0 = time.perf_counter()

        async def four():
            return await asyncio.gather(*(obstore.get_range_async(store, "k.bin", start=i, end=i + 10)
                                          for i in range(0, 40, 10)))

        parts = run(four())
        assert time.perf_counter() - t0 < 0.5  # waits overlap: ~one latency, not four
        assert b"".join(bytes(p) for p in parts) == DATA[:40]
        assert bytes(obstore.get_ranges(store, "k.bin", starts=[99_990], ends=[100_000])[0]) == DATA[99_990:100_000]
        stats = server.counters.snapshot()
        assert stats["gets"] == 5 and stats["heads"] == 1 and stats["bytes"] == 50 and stats["peak_in_flight"] >= 2
        with pytest.raises(FileNotFoundError):
            obstore.head(store, "missing.bin")
