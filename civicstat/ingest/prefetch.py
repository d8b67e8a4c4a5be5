"""Read ahead in a thread: the one prefetcher of the loading side.

pyarrow parses without holding the GIL, so an adapter can read and parse the next batch of a
file while the caller maps this one, and the pipeline can stage a frame in DuckDB while the
adapter prepares the next: both cores work.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")


def prefetched(items: Iterator[T], depth: int = 2) -> Iterator[T]:
    """ITEMS, up to DEPTH read ahead in a thread. The producer's exceptions are re-raised here;
    leaving the loop early stops the thread."""
    slots: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def produce() -> None:
        try:
            for item in items:
                while not stop.is_set():
                    try:
                        slots.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            slots.put(done)
        except BaseException as error:  # handed to the consumer, raised there
            slots.put(error)

    worker = threading.Thread(target=produce, name="civicstat-prefetch", daemon=True)
    worker.start()
    try:
        while (item := slots.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while worker.is_alive():
            try:
                slots.get(timeout=0.1)
            except queue.Empty:
                pass
        worker.join()
