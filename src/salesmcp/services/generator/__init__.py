"""The synthetic e-commerce data generator (seed 002): realistic, deterministic, partitionable, resumable.

REST, MCP and the CLI call only what this package exports.
"""

from salesmcp.services.generator.contents import Summary, reset, summary, table_counts
from salesmcp.services.generator.jobs import (
    ALREADY_GENERATED,
    GENERATION_STARTED,
    OUTCOME_MESSAGES_DOC,
    RESET_COMPLETE,
    follow,
    follow_async,
    outcome_message,
    spawn_worker,
    start_job,
    start_message,
)
from salesmcp.services.generator.make import ORDER_BLOCK
from salesmcp.services.generator.params import GenerationRequest, build_request
from salesmcp.services.generator.partitions import parse_partition, partition_from_environment
from salesmcp.services.generator.runs import RunOut, claim_run, get_run
from salesmcp.services.generator.start import prepare_run
from salesmcp.services.generator.worker import run_generation

__all__ = [
    "ALREADY_GENERATED", "GENERATION_STARTED", "OUTCOME_MESSAGES_DOC", "RESET_COMPLETE", "outcome_message",
    "start_message", "ORDER_BLOCK",
    "GenerationRequest", "RunOut", "Summary", "build_request", "claim_run", "follow", "follow_async", "get_run",
    "parse_partition", "partition_from_environment", "prepare_run", "reset", "run_generation", "spawn_worker",
    "start_job", "summary", "table_counts",
]  # fmt: skip
