"""The pipes to Gradflow (docs/torch.md, "Protocol"): fd GRADFLOW_FD_OUT carries the script's
messages, fd GRADFLOW_FD_IN Gradflow's; one JSON object per line. Standard library only."""
import json
import math
import os
import sys
import threading
from typing import Any, Callable, Dict, Optional

PROTOCOL_VERSION = 1
ENV_PROTOCOL = "GRADFLOW_PROTOCOL"
ENV_FD_OUT = "GRADFLOW_FD_OUT"
ENV_FD_IN = "GRADFLOW_FD_IN"


def num(x: Any) -> Optional[float]:
    """A measured number as the protocol carries it: a finite float, or null when not finite."""
    f = float(x)
    return f if math.isfinite(f) else None


def _env_fd(name: str) -> int:
    raw = os.environ.get(name, "")
    try:
        fd = int(raw)
    except ValueError:
        raise RuntimeError(f"gradflow: environment variable {name}={raw!r} is not a file descriptor number") from None
    try:
        os.fstat(fd)
    except OSError as e:
        raise RuntimeError(f"gradflow: {name}={fd} is not an open file descriptor ({e.strerror})") from None
    return fd


def under_gradflow() -> bool:
    return bool(os.environ.get(ENV_FD_OUT)) and bool(os.environ.get(ENV_FD_IN))


class Channel:
    """Both pipes. Writes are serialised by a lock (the reader thread, excepthooks and atexit may
    write); a broken pipe (Gradflow gone) turns every later write into a no-op."""

    def __init__(self) -> None:
        version = os.environ.get(ENV_PROTOCOL, "")
        if version and version != str(PROTOCOL_VERSION):
            raise RuntimeError(
                f"gradflow: this client speaks protocol {PROTOCOL_VERSION}, Gradflow asked for {ENV_PROTOCOL}={version}: "
                "update the client (pip install ./clients/python from the same Gradflow version)"
            )
        self._out = os.fdopen(_env_fd(ENV_FD_OUT), "w", encoding="utf-8", newline="\n")
        self._in = os.fdopen(_env_fd(ENV_FD_IN), "r", encoding="utf-8", newline="\n")
        self._lock = threading.Lock()
        self.gone = False
        self._reader: Optional[threading.Thread] = None

    def send(self, message: Dict[str, Any]) -> None:
        line = json.dumps(message, allow_nan=False, separators=(",", ":"), ensure_ascii=False)
        with self._lock:
            if self.gone:
                return
            try:
                self._out.write(line + "\n")
                self._out.flush()
            except (BrokenPipeError, ValueError, OSError):
                self.gone = True
                sys.stderr.write("gradflow: the pipe to Gradflow is closed; measurements are no longer sent\n")

    def read_message(self) -> Optional[Dict[str, Any]]:
        """The next message from Gradflow; None at end of file (Gradflow gone)."""
        while True:
            line = self._in.readline()
            if line == "":
                return None
            line = line.strip()
            if not line:
                continue
            value = json.loads(line)
            if not isinstance(value, dict) or not isinstance(value.get("type"), str):
                raise RuntimeError(f"gradflow: unexpected message from Gradflow: {line[:200]}")
            return value

    def start_reader(self, on_message: Callable[[Dict[str, Any]], None], on_eof: Callable[[], None]) -> None:
        def loop() -> None:
            try:
                while True:
                    m = self.read_message()
                    if m is None:
                        break
                    on_message(m)
            except (OSError, ValueError, RuntimeError) as e:
                sys.stderr.write(f"gradflow: reading from Gradflow failed: {e}\n")
            on_eof()

        self._reader = threading.Thread(target=loop, name="gradflow-reader", daemon=True)
        self._reader.start()

    def close(self) -> None:
        with self._lock:
            self.gone = True
            try:
                self._out.close()
            except OSError:
                pass
