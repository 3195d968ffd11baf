"""Which partition of a generation this process makes: ``--partition k/n``, or the index and count the batch
engine it runs on gives every task of an array (issue 16), so one command serves every task unchanged.

| engine | index (from 0) | count |
|---|---|---|
| Cloud Run Jobs | ``CLOUD_RUN_TASK_INDEX`` | ``CLOUD_RUN_TASK_COUNT`` |
| Kubernetes Indexed Job | ``JOB_COMPLETION_INDEX`` | ``JOB_COMPLETIONS`` (set it to ``spec.completions``) |
| AWS Batch array job | ``AWS_BATCH_JOB_ARRAY_INDEX`` | ``AWS_BATCH_JOB_ARRAY_SIZE`` (set it to the array size) |

The partitions of one request join one run (the run record coordinates them); each writes its own blocks.
"""

from __future__ import annotations

from collections.abc import Mapping

from salesmcp.errors import InvalidInput

# (index variable, count variable), in the order they are looked for.
ENGINES = (
    ("CLOUD_RUN_TASK_INDEX", "CLOUD_RUN_TASK_COUNT"),
    ("JOB_COMPLETION_INDEX", "JOB_COMPLETIONS"),
    ("AWS_BATCH_JOB_ARRAY_INDEX", "AWS_BATCH_JOB_ARRAY_SIZE"),
)


def parse_partition(text: str) -> tuple[int, int]:
    """``"2/4"`` → ``(2, 4)``: the second of four partitions."""
    part, _, total = str(text).partition("/")
    try:
        k, n = int(part), int(total)
    except ValueError:
        raise InvalidInput("partition", f"must be k/n with whole numbers, e.g. 1/4; got {text!r}") from None
    if not 1 <= k <= n:
        raise InvalidInput("partition", f"k must be between 1 and n in k/n; got {text!r}")
    return k, n


def partition_from_environment(environ: Mapping[str, str]) -> tuple[int, int] | None:
    """The partition a batch engine's task array gives this process (index 0 of 4 → ``(1, 4)``), or None
    when no engine's variables are set. A count of 1 is a whole run; a malformed or missing count is an error
    naming the variable."""
    for index_name, count_name in ENGINES:
        index_text = environ.get(index_name, "").strip()
        if not index_text:
            continue
        count_text = environ.get(count_name, "").strip()
        if not count_text:
            raise InvalidInput(count_name, f"is needed with {index_name}: the number of tasks (partitions)")
        try:
            index, count = int(index_text), int(count_text)
        except ValueError:
            raise InvalidInput(
                index_name, f"{index_name}={index_text!r} and {count_name}={count_text!r} must be whole numbers"
            ) from None
        if count < 1 or not 0 <= index < count:
            raise InvalidInput(index_name, f"must be from 0 to {count_name} - 1 ({count_text}); got {index_text}")
        return index + 1, count
    return None
