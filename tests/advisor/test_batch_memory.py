"""Batch processes keep freed memory for the next chunk; a parent about to fork gives it back."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_a_batch_process_reuses_freed_memory():
    # in a fresh process: the settings are process-wide, and this test must not change the test runner's
    code = textwrap.dedent("""
        import ctypes, resource
        import numpy as np, pyarrow as pa
        from advisor.batch_memory import keep_freed_memory, return_freed_memory
        assert keep_freed_memory() is True
        assert pa.default_memory_pool().backend_name == "system"
        def faults():
            return resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        for _ in range(2):  # the first round grows the heap
            before = faults()
            for _ in range(20):
                a = np.ones(5_000_000)  # 40 MB: above glibc's largest mmap threshold, unmapped on free
                del a
        assert faults() - before < 1_000, faults() - before  # about 11,000 page faults without the setting
        return_freed_memory()
        print("ok")
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
