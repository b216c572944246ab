"""Memory reuse in a batch process that works chunk after chunk on arrays of the same sizes.

By default every chunk's large arrays are given back to the kernel when freed and faulted in again, page by
page, by the next chunk: Arrow's mimalloc pool decommits them, and glibc unmaps anything above its dynamic
mmap threshold and trims the top of its heap. In a process that exists for a batch run (the batch CLI, the
nightly run's forked workers) `keep_freed_memory` makes Arrow allocate through glibc and glibc keep what is
freed for the next chunk; its resident size then stays at its peak chunk until it ends. Measured on the
nightly 陪伴 run of 1,000,000 customers with two forked workers: 124 → 108 CPU-s, 66.6 → 59.0 s wall,
peak memory 5.3 → 6.2 GB (summed PSS). A parent about to fork calls `return_freed_memory` first, so the
workers do not start on a heap of freed pages they would have to copy on write.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
from functools import cache

log = logging.getLogger(__name__)

# glibc mallopt parameters (malloc.h) and the values set here
_M_TRIM_THRESHOLD = -1
_M_TOP_PAD = -2
_M_MMAP_THRESHOLD = -3
_MMAP_ABOVE = 256 << 20  # allocations this large are still mapped on their own (larger than a chunk's arrays)
_NEVER_TRIM = 2**31 - 1  # the largest value mallopt takes: the heap top is kept
_TOP_PAD = 256 << 20  # the heap grows in steps this large
_DEFAULT_TRIM = 128 << 10  # glibc's default trim threshold


@cache
def _glibc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
        return libc
    except (OSError, AttributeError):  # not glibc (macOS, musl): nothing to tune
        log.debug("mallopt not available; memory settings unchanged")
        return None


def keep_freed_memory() -> bool:
    """Make this process reuse freed memory (see the module docstring); True when glibc accepted it. Call it
    only in processes that exist for a batch run."""
    libc = _glibc()
    if libc is None:
        return False
    ok = all(libc.mallopt(param, value) == 1 for param, value in (
        (_M_MMAP_THRESHOLD, _MMAP_ABOVE), (_M_TRIM_THRESHOLD, _NEVER_TRIM), (_M_TOP_PAD, _TOP_PAD)))
    if ok:
        import pyarrow as pa

        pa.set_memory_pool(pa.system_memory_pool())
    return ok


def return_freed_memory() -> None:
    """Give freed memory back to the kernel now and from now on (glibc's default trimming)."""
    libc = _glibc()
    if libc is not None:
        libc.mallopt(_M_TRIM_THRESHOLD, _DEFAULT_TRIM)
        libc.malloc_trim(0)
