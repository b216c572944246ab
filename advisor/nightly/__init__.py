"""Bank-scale nightly runs: jobs over a partitioned book, one partition at a time, here or on Dask.

- `advisor.nightly.book`: the partitioned book (customers and their lots together by a hash of the id),
  written streamed in bounded memory, read one partition at a time.
- `advisor.nightly.jobs`: the partition-job interface and registry (health check, rebalancing, …).
- `advisor.nightly.runner.run_job`: plan, run (`scheduler` none / local / tcp://host:8786), merge.
- `advisor.nightly.cluster`: Dask distributed execution and worker start-up.
- `advisor.nightly.outputs`: the output directory (partitioned datasets, status, run manifest).

See docs/nightly.md.
"""

from advisor.nightly.book import Book, partition_flat_book, partition_of, write_book
from advisor.nightly.jobs import Job, JobContext, PartitionResult, get_job, register
from advisor.nightly.outputs import read_output
from advisor.nightly.runner import RunOutcome, run_job

__all__ = ["Book", "Job", "JobContext", "PartitionResult", "RunOutcome", "get_job", "partition_flat_book",
           "partition_of", "read_output", "register", "run_job", "write_book"]
