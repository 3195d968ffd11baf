"""The partition a task of a batch engine's task array makes, read from the variables the engine sets."""

import pytest

from salesmcp.errors import InvalidInput
from salesmcp.services.generator import parse_partition, partition_from_environment


@pytest.mark.parametrize(
    ("environ", "partition"),
    [({"CLOUD_RUN_TASK_INDEX": "0", "CLOUD_RUN_TASK_COUNT": "4"}, (1, 4)),
     ({"CLOUD_RUN_TASK_INDEX": "3", "CLOUD_RUN_TASK_COUNT": "4"}, (4, 4)),
     ({"JOB_COMPLETION_INDEX": "2", "JOB_COMPLETIONS": "8"}, (3, 8)),
     ({"AWS_BATCH_JOB_ARRAY_INDEX": "9", "AWS_BATCH_JOB_ARRAY_SIZE": "10"}, (10, 10)),
     ({"CLOUD_RUN_TASK_INDEX": "0", "CLOUD_RUN_TASK_COUNT": "1"}, (1, 1)),
     ({}, None), ({"CLOUD_RUN_TASK_INDEX": " "}, None), ({"JOB_COMPLETIONS": "3"}, None)],
)  # fmt: skip
def test_the_task_index_from_zero_is_partition_k_of_n(environ, partition):
    assert partition_from_environment(environ) == partition


@pytest.mark.parametrize(
    ("environ", "field", "rule"),
    [({"JOB_COMPLETION_INDEX": "1"}, "JOB_COMPLETIONS", "is needed with JOB_COMPLETION_INDEX"),
     ({"CLOUD_RUN_TASK_INDEX": "4", "CLOUD_RUN_TASK_COUNT": "4"}, "CLOUD_RUN_TASK_INDEX", "from 0 to"),
     ({"CLOUD_RUN_TASK_INDEX": "-1", "CLOUD_RUN_TASK_COUNT": "4"}, "CLOUD_RUN_TASK_INDEX", "from 0 to"),
     ({"AWS_BATCH_JOB_ARRAY_INDEX": "x", "AWS_BATCH_JOB_ARRAY_SIZE": "2"}, "AWS_BATCH_JOB_ARRAY_INDEX",
      "whole numbers"),
     ({"CLOUD_RUN_TASK_INDEX": "0", "CLOUD_RUN_TASK_COUNT": "0"}, "CLOUD_RUN_TASK_INDEX", "from 0 to")],
)  # fmt: skip
def test_a_malformed_task_array_is_an_error_naming_the_variable(environ, field, rule):
    with pytest.raises(InvalidInput) as refused:
        partition_from_environment(environ)
    assert refused.value.field == field and rule in refused.value.message


def test_partition_text_is_k_of_n():
    assert parse_partition("2/4") == (2, 4)
    with pytest.raises(InvalidInput, match="between 1 and n"):
        parse_partition("5/4")
