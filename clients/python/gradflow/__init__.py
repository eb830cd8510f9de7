"""Gradflow's Python client: a PyTorch training script reports its gradient flow to Gradflow.

    import gradflow
    run = gradflow.init()                  # the resolved experiment, when Gradflow started the script
    run.watch(model)                       # after torch.nn.utils.prune, if you prune
    loss.backward(); run.step(loss=loss)   # before optimizer.step()
    run.epoch(val_loss=..., val_accuracy=...)
    run.finish()

Started without Gradflow (`python3 train.py`), init() prints one line saying so and returns a run
whose every call does nothing. Guide, API and protocol: docs/torch.md.
"""
import sys
from typing import Any, Mapping, Optional, Union

from ._run import CLIENT_VERSION as __version__
from ._run import ConfigError, Net, NoopNet, NoopRun, Run
from ._schedule import flow_schedule
from ._wire import under_gradflow

__all__ = ["init", "Run", "NoopRun", "Net", "NoopNet", "ConfigError", "flow_schedule", "under_gradflow", "__version__"]

_current: Optional[Union[Run, NoopRun]] = None


def init(defaults: Optional[Mapping[str, Any]] = None) -> Union[Run, NoopRun]:
    """The run of this process (the same object on every call).

    Under Gradflow: says hello, waits for the resolved experiment and returns a Run whose `config`
    is it (snake_case, as in the experiment file), laid over `defaults`. Without Gradflow: prints
    one line to stderr and returns a NoopRun whose `config` is `defaults`.
    """
    global _current
    if _current is not None:
        return _current
    if not under_gradflow():
        sys.stderr.write("gradflow: not started by Gradflow (no GRADFLOW_FD_OUT/GRADFLOW_FD_IN), so nothing is measured or sent; run it with `gradflow run <file>.gradflow.yaml` to watch it\n")
        _current = NoopRun(dict(defaults or {}))
    else:
        _current = Run(defaults)
    return _current
