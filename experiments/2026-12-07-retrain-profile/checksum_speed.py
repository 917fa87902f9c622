"""Throughput of the checksums a cache entry could carry, on 512 MB already in memory.

Usage (from the repository root)::

    python experiments/2026-12-07-retrain-profile/checksum_speed.py > experiments/2026-12-07-retrain-profile/checksum_speed.txt
"""

import hashlib
import os
import time
import zlib

CHECKSUMS = {"blake2b": lambda data: hashlib.blake2b(data, digest_size=16).digest(),
             "sha256": lambda data: hashlib.sha256(data).digest(),
             "crc32": zlib.crc32}


def main():
    data = os.urandom(1 << 26) * 8
    for name, checksum in CHECKSUMS.items():
        started = time.perf_counter()
        checksum(data)
        print(f"{name}: {len(data) / 1e9 / (time.perf_counter() - started):.2f} GB/s")


if __name__ == "__main__":
    main()
