"""Build the event pipeline from a gateway config."""

from __future__ import annotations

from stockade.config.models import GatewayConfig
from stockade.events.pipeline import EventPipeline, SinkWorker, spool_path
from stockade.events.sinks.registry import build_sink
from stockade.events.spool import DiskSpool


def create_event_pipeline(config: GatewayConfig) -> EventPipeline:
    """Create (not start) the pipeline of ``config.events``; await ``start()`` next.

    Raises ValueError when a sink's secret variable is unset.
    """
    events = config.events
    workers = []
    for sink_config in events.sinks:
        sink = build_sink(sink_config, config.store.url)
        spool = DiskSpool(spool_path(events.spool_dir, sink_config.name),
                          sink_config.spool_max_bytes)
        workers.append(SinkWorker(sink, sink_config, spool))
    return EventPipeline(workers, events.queue_size, events.alert_rules)
