"""`pull_info.py --demo`: every declared source's demo service started on 127.0.0.1, stopped when the run ends.

A source's `demo` names its module (simulators.demo_<name>, or its simulator's), whose
`start_demo_source(home)` returns its simulator and the source connected to it.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from utils.sources import declared_sources
from utils.sources.source import Connected

log = logging.getLogger(__name__)

# The demo speaks as one made-up MSP everywhere: the reports' header and footer, and the emails' sender.
DEMO_MSP_NAME = "Demo MSP"


@contextmanager
def demo_services(home: Path) -> Iterator[dict[str, Connected]]:
    """{source name: the source connected to its demo service} while the block runs."""
    connected: dict[str, Connected] = {}
    with ExitStack() as running:
        for source in declared_sources():
            if source.demo is None:
                continue
            # Looked up by name: production code reaches the simulators only for the demo, and only from here.
            simulator, connected[source.name] = importlib.import_module(source.demo).start_demo_source(home)
            running.callback(simulator.stop)
            log.debug("Demo: %s served on 127.0.0.1", source.title)
        yield connected
