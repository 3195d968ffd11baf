"""Seed 002's tools: start and follow a generation job, empty the database, describe it."""

from typing import Annotated, Any, Literal

import anyio
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field

from salesmcp.config import Settings
from salesmcp.mcp.base import READS_DATA, REPLACES_DATA, SETS_DATA, SalesMCPServer
from salesmcp.mcp.results import structured
from salesmcp.mcp.revenue_tools import EndDate, StartDate
from salesmcp.scopes import ADMIN, READ
from salesmcp.services import generator
from salesmcp.services.generator import RunOut, Summary
from salesmcp.store.sql_store import SqlStore


class GenerationResult(BaseModel):
    message: str = Field(description=generator.OUTCOME_MESSAGES_DOC)
    run: RunOut


class ResetResult(BaseModel):
    message: str
    counts: dict[str, int] = Field(description="rows per table after the reset")


def register_generator_tools(server: SalesMCPServer, store: SqlStore, settings: Settings) -> None:
    @server.declare(
        ADMIN,
        SETS_DATA,
        (
            "Generate synthetic e-commerce data (customers, products, orders with lines, payments, shipments, returns) "
            "in the database: `rows` orders with dates between start_date and end_date (YYYY-MM-DD or yyyymmdd). "
            "The same seed and parameters always give the same data; repeating an identical request (mode once) "
            "reports the earlier run instead. Runs as a job in its own process and reports progress; when it "
            f"takes longer than {settings.generate_wait:g} s the answer is the job's id and state, and "
            "generation_status(run_id) follows it."
        ),
    )
    async def generate_data(
        ctx: Context,
        rows: Annotated[int, Field(description=f"orders to make, 1-{settings.generate_max_rows}")] = 1000,
        start_date: StartDate | None = None,
        end_date: EndDate | None = None,
        seed: Annotated[int | None, Field(description="random seed (default DATA_SEED)")] = None,
        locale: Annotated[str | None, Field(description="Faker locales with weights, e.g. nl_NL:3,de_DE:1")] = None,
        mode: Literal["once", "append", "replace"] | None = None,
    ) -> GenerationResult:
        values: dict[str, Any] = {"rows": rows, "start_date": start_date, "end_date": end_date, "seed": seed,
                                  "locale": locale, "mode": mode}  # fmt: skip
        request = generator.build_request(values, settings.data_seed, settings.generate_max_rows)
        run, started = await anyio.to_thread.run_sync(generator.start_job, store, request)
        if started:

            async def progress(current: RunOut) -> None:
                await ctx.report_progress(current.progress, current.rows, f"{current.progress} of {current.rows} "
                                          f"orders ({current.state})")  # fmt: skip

            run = await generator.follow_async(store, run.id, settings.generate_wait, progress)
        return structured(GenerationResult(message=generator.outcome_message(run, started), run=run))

    @server.declare(
        READ,
        READS_DATA,
        "State, progress and counts of one generation job (run). A job whose worker process is gone "
        "is 'interrupted': repeating its generate_data request resumes it without duplicates.",
    )
    def generation_status(run_id: Annotated[int, Field(description="the run id generate_data returned")]) -> RunOut:
        return structured(generator.get_run(store, run_id))

    @server.declare(
        ADMIN,
        REPLACES_DATA,
        (
            "Delete every row of every table (customers, products, orders, lines, payments, shipments, returns, runs) "
            "and restart the ids; the schema stays. Refused unless confirm is true. Returns the counts after."
        ),
    )
    def reset_db(
        confirm: Annotated[bool, Field(description="must be true: this deletes all data")] = False,
    ) -> ResetResult:
        if confirm is not True:
            raise ToolError("confirm: must be true to delete every row of every table (nothing was deleted)")
        return structured(ResetResult(message=generator.RESET_COMPLETE, counts=generator.reset(store)))

    @server.declare(
        READ,
        READS_DATA,
        "Rows per table, the window (start_date, end_date) of the last finished generation, "
        "and the newest generation run with its state.",
    )
    def summary_snapshot() -> Summary:
        return structured(generator.summary(store))
