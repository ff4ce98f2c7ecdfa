"""`ecoute connect …`: run a connector (sources → Kafka), resuming from checkpoints.

Added to the root command through the ``ecoute.commands`` entry point ``connect``; heavy imports
stay inside the commands so `ecoute --help` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from ecoute.cli_support import fail, out

if TYPE_CHECKING:
    from connectors.base import RunStats

# ---------------------------------------------------------------------------------------------
# connectors (connectors/)
# ---------------------------------------------------------------------------------------------
connect_app = typer.Typer(
    help="Run a connector: sources → Kafka ecoute.raw.v1 (bad records → ecoute.dlq.v1), resuming from checkpoints.",
    no_args_is_help=True,
)


def _print_run_stats(name: str, stats: RunStats) -> None:
    out.print(
        f"[green]✔[/] {name}: {stats.produced} produced, {stats.dead_lettered} dead-lettered, "
        f"{stats.skipped} skipped (already checkpointed) in {stats.duration_s:.1f}s"
    )


@connect_app.command("import")
def connect_import(
    path: Annotated[str, typer.Argument(help="CSV, TSV or JSONL file (optionally .gz) in the Écoute import format.")],
    mapping: Annotated[
        list[str] | None,
        typer.Option("--mapping", "-m", help="Rename a column: 'THEIR COLUMN=field' (repeatable)."),
    ] = None,
    source: Annotated[str | None, typer.Option(help="Source of rows without one (default 'import').")] = None,
    channel: Annotated[str | None, typer.Option(help="Channel of rows without one.")] = None,
    batch_size: Annotated[int, typer.Option(min=1, help="Records per acknowledged batch (and checkpoint).")] = 1000,
    restart: Annotated[
        bool, typer.Option("--restart", help="Forget this file's checkpoint and send it all again.")
    ] = False,
    progress: Annotated[bool, typer.Option("--progress/--no-progress", help="Show a progress bar.")] = True,
    workers: Annotated[
        int | None, typer.Option(help="Mapping processes (default: 1 for big files when a CPU is idle, else 0).")
    ] = None,
    encoding: Annotated[str, typer.Option(help="The file's text encoding, e.g. latin-1 or cp1252.")] = "utf-8",
) -> None:
    """Import a CSV/JSONL export; re-running the same file sends only what was not acknowledged."""
    from pathlib import Path

    from kafka.errors import KafkaError

    from connectors.errors import ConnectorError
    from connectors.file_import import import_file, parse_mapping
    from ecoute.kafka import DeliveryError
    from ecoute.settings import get_settings

    try:
        stats = import_file(
            Path(path),
            get_settings(),
            mapping=parse_mapping(mapping),
            source=source,
            channel=channel,
            batch_size=batch_size,
            progress=progress,
            restart=restart,
            workers=workers,
            encoding=encoding,
        )
    except ConnectorError as exc:
        raise fail(str(exc)) from None
    except (KafkaError, DeliveryError) as exc:
        raise fail(f"Kafka did not acknowledge ({exc}); run the same command again to resume") from None
    _print_run_stats(f"import {path}", stats)


def _register_polled_connector(name: str) -> None:
    def command(
        follow: Annotated[
            bool,
            typer.Option("--follow/--once", help="Poll every poll_interval_s until Ctrl-C, or one sweep (default)."),
        ] = False,
    ) -> None:
        import signal
        import threading

        from kafka.errors import KafkaError

        from connectors import run_connector
        from connectors.errors import ConnectorError
        from ecoute.kafka import DeliveryError
        from ecoute.settings import get_settings

        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            stats = run_connector(name, get_settings(), once=not follow, stop=stop)
        except ConnectorError as exc:
            raise fail(str(exc)) from None
        except (KafkaError, DeliveryError) as exc:
            raise fail(f"{name}: Kafka did not acknowledge ({exc}); the next run resumes from the checkpoint") from None
        except KeyboardInterrupt:
            raise fail(f"{name}: interrupted; the next run resumes from the last checkpoint", 130) from None
        _print_run_stats(name, stats)

    command.__doc__ = f"Poll {name} from its checkpoint (credentials from ECOUTE_{name.upper()}__* or Airflow connection ecoute_{name})."
    connect_app.command(name)(command)


for _connector_name in ("facebook", "instagram", "youtube", "reddit", "x", "rss"):
    _register_polled_connector(_connector_name)


@connect_app.command("webhook")
def connect_webhook(
    host: Annotated[str | None, typer.Option(help="Listen address (default ECOUTE_WEBHOOK__HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Listen port (default ECOUTE_WEBHOOK__PORT).")] = None,
) -> None:
    """Receive Facebook/Instagram webhooks (hub.challenge handshake, X-Hub-Signature-256 check) → Kafka."""
    from connectors.errors import ConnectorError
    from connectors.webhooks import serve
    from ecoute.settings import get_settings

    try:
        serve(get_settings(), host=host, port=port)
    except ConnectorError as exc:
        raise fail(str(exc)) from None


def register(app: typer.Typer) -> None:
    app.add_typer(connect_app, name="connect")
