"""When the 11 flow points are measured (method.md §3; the same schedule as the engine's
``flowSchedule`` and docs/torch.md, "The 11 flow points").

With E epochs of S steps, point k (k = 0..10) falls after step round(k·E/10)·S when E ≥ 10 (the
end of epoch round(k·E/10)), else after step round(k·E·S/10) (a fractional epoch). A step equal to
the previous point's is measured once (runs under 10 steps). round() is JavaScript's: halves go up.
"""
import math
from typing import List, NamedTuple


class FlowPoint(NamedTuple):
    index: int
    step: int
    epoch: float


def _round_half_up(x: float) -> int:
    return int(math.floor(x + 0.5))


def flow_schedule(epochs: int, steps_per_epoch: int, points: int = 11) -> List[FlowPoint]:
    if epochs < 0 or steps_per_epoch < 0:
        raise ValueError(f"epochs ({epochs}) and steps_per_epoch ({steps_per_epoch}) must be >= 0")
    out: List[FlowPoint] = []
    total = epochs * steps_per_epoch
    last = -1
    for k in range(points):
        if epochs >= points - 1:
            step = _round_half_up((k * epochs) / (points - 1)) * steps_per_epoch
        else:
            step = _round_half_up((k * total) / (points - 1))
        if step == last:
            continue
        last = step
        out.append(FlowPoint(k, step, step / steps_per_epoch if steps_per_epoch > 0 else 0.0))
    return out
