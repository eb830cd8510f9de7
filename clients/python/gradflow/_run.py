"""The run a script reports to Gradflow, and the nets it watches (docs/torch.md)."""
import atexit
import copy
import math
import os
import sys
import time
import traceback
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence

from . import _wire
from ._schedule import FlowPoint, flow_schedule

CLIENT_NAME = "gradflow-python"
CLIENT_VERSION = "0.1.0"
MASK_UPDATE_METHODS = ("set", "rigl", "gmp")
NET_ROLES = ("sparse", "dense")


class ConfigError(Exception):
    """A problem with a key of the experiment file: Gradflow shows it on that key's line."""

    def __init__(self, message: str, key: Optional[str] = None) -> None:
        super().__init__(message)
        self.key = key


def _lookup(config: Mapping[str, Any], key: str) -> Any:
    node: Any = config
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            raise KeyError(key)
        node = node[part]
    return node


def _deep_merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> Dict[str, Any]:
    out = copy.deepcopy(dict(base))
    for k, v in over.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), Mapping):
            out[k] = _deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def _finite(values: Iterable[Optional[float]]) -> bool:
    return all(v is not None and math.isfinite(v) for v in values)


def _scalar(x: Any) -> Optional[float]:
    """A number or a one-element tensor as a float; None stays None."""
    if x is None:
        return None
    if hasattr(x, "item"):
        return float(x.detach().item()) if hasattr(x, "detach") else float(x.item())
    return float(x)


class _Config:
    """Read access shared by Run and NoopRun."""

    config: Dict[str, Any]

    def get(self, key: str, default: Any = None) -> Any:
        """`run.get("training.learning_rate")`: a dotted snake_case key of the experiment file."""
        try:
            return _lookup(self.config, key)
        except KeyError:
            return default

    def require(self, key: str) -> Any:
        """Like get(), but a missing key raises ConfigError naming it."""
        try:
            return _lookup(self.config, key)
        except KeyError:
            raise ConfigError(f"the experiment has no {key!r}", key) from None


# ---------------------------------------------------------------------------------------------
# Without Gradflow


class _NoopCalls:
    """The per-step calls a net and a run share, doing nothing (a script run without Gradflow)."""

    def step(self, *args: Any, **kwargs: Any) -> None:
        return None

    def epoch(self, *args: Any, **kwargs: Any) -> None:
        return None

    def masks_changed(self, *args: Any, **kwargs: Any) -> None:
        return None


class NoopNet(_NoopCalls):
    """What watch() returns when the script runs without Gradflow: every call does nothing."""

    diverged = False

    def __init__(self, role: str) -> None:
        self.role = role


class NoopRun(_NoopCalls, _Config):
    """gradflow.init() outside Gradflow: `config` is the defaults given to init(), the rest no-ops."""

    active = False
    should_stop = False
    run_dir: Optional[str] = None
    run_id: Optional[str] = None

    def __init__(self, config: Dict[str, Any]) -> None:
        self.config = config
        self._nets: Dict[str, NoopNet] = {}

    def watch(self, model: Any, masks: Any = None, net: str = "sparse", **kwargs: Any) -> NoopNet:
        return self._nets.setdefault(net, NoopNet(net))

    def dataset(self, *args: Any, **kwargs: Any) -> None:
        return None

    def log(self, *args: Any, **kwargs: Any) -> None:
        return None

    def finish(self, *args: Any, **kwargs: Any) -> None:
        return None

    def __enter__(self) -> "NoopRun":
        return self

    def __exit__(self, *exc: Any) -> bool:
        return False


# ---------------------------------------------------------------------------------------------
# Under Gradflow


class Net:
    """One watched net (`sparse` or `dense`): its weight layers, masks, step counter and flow points."""

    def __init__(self, run: "Run", role: str, model: Any, masks: Optional[Mapping[str, Any]], *,
                 steps_per_epoch: Optional[int], epochs: Optional[int], flow_data: Optional[Iterable[Any]],
                 loss_fn: Optional[Callable[[Any, Any], Any]], coupled_l2: float, width: Optional[int]) -> None:
        from . import _measure  # torch is imported only once a model is watched

        self._m = _measure
        self.run = run
        self.role = role
        self.model = model
        self.layers = _measure.discover_layers(model, masks)
        self.coupled_l2 = float(coupled_l2)
        self.width = width
        self.steps = 0
        self.epochs_done = 0
        self.diverged = False
        self._started: Optional[float] = None
        self._epoch_losses: List[float] = []
        self._epoch_accs: List[float] = []
        self.steps_per_epoch = steps_per_epoch
        self.epochs = epochs
        self.schedule: List[FlowPoint] = flow_schedule(epochs, steps_per_epoch) if epochs is not None and steps_per_epoch else []
        self._next_point = 0
        self.flow_batches: Optional[List[Any]] = list(flow_data) if flow_data is not None else None
        if self.flow_batches is not None and not self.flow_batches:
            raise ValueError("gradflow: flow_data is empty: give a few (inputs, targets) batches of training data")
        self.loss_fn = loss_fn
        # Masks as they were when watched and at the last masks_changed(): mask-update counts.
        self._initial = [l.mask_bool() for l in self.layers]
        self._previous = [None if m is None else m.clone() for m in self._initial]
        import torch

        self._torch = torch

    # -- helpers -----------------------------------------------------------------------------------
    def device(self) -> Any:
        return self.layers[0].param().device

    def ready_entry(self) -> Dict[str, Any]:
        entry: Dict[str, Any] = {"net": self.role, "layers": [l.info() for l in self.layers]}
        if self.width is not None:
            entry["width"] = int(self.width)
        return entry

    def _due(self, step: int) -> List[FlowPoint]:
        out = []
        while self._next_point < len(self.schedule) and self.schedule[self._next_point].step <= step:
            p = self.schedule[self._next_point]
            self._next_point += 1
            if p.step == step:
                out.append(p)
        return out

    def _send_point(self, p: FlowPoint, layers: List[Dict[str, Dict[str, float]]]) -> None:
        fm = self._m.combine_flow(layers)
        self.run._send({"type": "flow", "point": {
            "net": self.role, "index": p.index, "epoch": p.epoch,
            "layers": [_wire_layer(l) for l in layers],
            **{k: _wire.num(v) for k, v in fm.items()},
        }})

    def _measure_flow(self, points: List[FlowPoint]) -> None:
        """The gradient of the mean loss over the fixed flow batches at the current weights, in
        training mode, without an update: grads, prune captures, buffers (BatchNorm statistics)
        and the RNG are put back as they were."""
        if not points:
            return
        torch = self._torch
        model = self.model
        loss_fn = self.loss_fn or torch.nn.functional.cross_entropy
        device = self.device()
        params = list(model.parameters())
        saved_grads = [p.grad for p in params]
        saved_captured = [l.captured for l in self.layers]
        buffers = [b for b in model.buffers()]
        saved_buffers = [b.detach().clone() for b in buffers]
        was_training = model.training
        cuda = sorted({p.device.index or 0 for p in params if p.device.type == "cuda"})
        try:
            for p in params:
                p.grad = None
            for l in self.layers:
                l.reset()
            model.train()
            sizes = [_batch_size(b) for b in self.flow_batches or []]
            total = float(sum(sizes))
            with torch.random.fork_rng(devices=cuda), torch.enable_grad():
                for batch, n in zip(self.flow_batches or [], sizes):
                    x, y = _to_device(batch[0], device), _to_device(batch[1], device)
                    loss = loss_fn(model(x), y)
                    (loss * (n / total)).backward()
            values = self._m.layer_sums(self.layers, self.coupled_l2).tolist()
        finally:
            model.train(was_training)
            with torch.no_grad():
                for b, s in zip(buffers, saved_buffers):
                    b.copy_(s)
            for p, g in zip(params, saved_grads):
                p.grad = g
            for l, c in zip(self.layers, saved_captured):
                l.captured = c
        layers = self._m.decode_layers(values)
        for p in points:
            self._send_point(p, layers)

    # -- the API -----------------------------------------------------------------------------------
    def step(self, loss: Any = None, accuracy: Any = None, output: Any = None, target: Any = None) -> None:
        """After loss.backward(), before optimizer.step(): the loss, and every layer's gradient norms."""
        if self.run._ended:
            return
        if loss is None:
            raise TypeError("gradflow: step() needs loss=")
        self.run._ensure_ready()
        torch = self._torch
        n = self.steps + 1
        if self._started is None:
            self._started = time.monotonic()
        # Weights now = after n-1 updates: a flow point due there is measured now.
        due = self._due(n - 1)
        from_step = [] if self.flow_batches is not None else due
        self._measure_flow(due if self.flow_batches is not None else [])
        collect = n % self.run.every == 0 or bool(from_step)
        tensors = []
        slots: Dict[str, int] = {}

        def put(name: str, t: Any) -> None:
            slots[name] = sum(int(x.numel()) for x in tensors)
            tensors.append(t.detach().reshape(-1))

        if isinstance(loss, torch.Tensor):
            put("loss", loss)
        if output is not None and target is not None:
            put("correct", (output.detach().argmax(dim=1) == target.to(output.device)).sum())
        elif isinstance(accuracy, torch.Tensor):
            put("accuracy", accuracy)
        if collect:
            put("layers", self._m.layer_sums(self.layers, self.coupled_l2))
        values: List[float] = []
        if tensors:
            dev = tensors[-1].device
            acc = self._m.accumulator_dtype(dev)
            values = torch.cat([t.to(device=dev, dtype=acc) for t in tensors]).tolist()  # the one transfer
        loss_v = values[slots["loss"]] if "loss" in slots else float(loss)
        if "correct" in slots:
            acc_v: Optional[float] = values[slots["correct"]] / max(1, _batch_size((output, target)))
        elif "accuracy" in slots:
            acc_v = values[slots["accuracy"]]
        else:
            acc_v = None if accuracy is None else float(accuracy)
        layers = self._m.decode_layers(values[slots["layers"]:slots["layers"] + 4 * len(self.layers)]) if collect else []
        for l in self.layers:
            l.reset()
        for p in from_step:
            self._send_point(p, layers)
            self.run._note_once("flow-from-step", "flow points are measured on the training batch of the step after each scheduled point (no flow_data given to watch()); docs/torch.md")
        self.steps = n
        if n % self.run.every == 0:
            fm = self._m.combine_flow(layers)
            metrics = {"net": self.role, "step": n, "epoch": self.epochs_done, "loss": _wire.num(loss_v),
                       "layers": [_wire_layer(l) for l in layers], **{k: _wire.num(v) for k, v in fm.items()}}
        else:
            metrics = {"net": self.role, "step": n, "epoch": self.epochs_done, "loss": _wire.num(loss_v), "layers": []}
        if acc_v is not None:
            metrics["accuracy"] = _wire.num(acc_v)
        self.run._send({"type": "step", "metrics": metrics})
        self._epoch_losses.append(loss_v)
        if acc_v is not None:
            self._epoch_accs.append(acc_v)
        if not self.diverged:
            norms = [v for l in layers for pair in (l["raw"], l["masked"]) for v in (pair["l1"], pair["l2"])]
            if not _finite([loss_v, *norms]):
                self.diverged = True

    def epoch(self, train_loss: Any = None, train_accuracy: Any = None, val_loss: Any = None, val_accuracy: Any = None,
              test_loss: Any = None, test_accuracy: Any = None) -> None:
        """After an epoch's last optimizer.step(). Train loss/accuracy default to the mean of the epoch's steps."""
        if self.run._ended:
            return
        self.run._ensure_ready()
        self.epochs_done += 1
        tl = _scalar(train_loss)
        ta = _scalar(train_accuracy)
        if tl is None:
            tl = sum(self._epoch_losses) / len(self._epoch_losses) if self._epoch_losses else float("nan")
        if ta is None:
            ta = sum(self._epoch_accs) / len(self._epoch_accs) if self._epoch_accs else float("nan")
        self._epoch_losses, self._epoch_accs = [], []
        self._flush_points()
        metrics: Dict[str, Any] = {"net": self.role, "epoch": self.epochs_done, "step": self.steps,
                                   "train": {"loss": _wire.num(tl), "accuracy": _wire.num(ta)}}
        for split, (lv, av) in (("validation", (val_loss, val_accuracy)), ("test", (test_loss, test_accuracy))):
            if lv is not None or av is not None:
                metrics[split] = {"loss": _wire.num(_nan(_scalar(lv))), "accuracy": _wire.num(_nan(_scalar(av)))}
        if self._started is not None:
            metrics["elapsed"] = time.monotonic() - self._started
        self.run._send({"type": "epoch", "metrics": metrics})

    def _flush_points(self) -> None:
        """Points due after the last update: measurable now only with flow_data."""
        due = self._due(self.steps)
        if not due:
            return
        if self.flow_batches is not None:
            self._measure_flow(due)
        else:
            self._next_point -= len(due)  # the next step() measures them from its gradient

    def _finish(self) -> None:
        due = self._due(self.steps)
        if due and self.flow_batches is not None:
            self._measure_flow(due)
        elif due:
            self.run.log(f"{self.role} net: flow point{'s' if len(due) > 1 else ''} {', '.join(str(p.index) for p in due)} "
                         f"(after step {self.steps}) not measured: there is no later step to measure it on; give watch() flow_data", "warn")
        for l in self.layers:
            l.remove()

    def masks_changed(self, method: str, fraction: Optional[float] = None, regrown: Optional[Sequence[int]] = None) -> None:
        """After the masks moved (RigL, SET, gradual magnitude pruning): per-layer dropped/grown counts,
        active weights and overlap with the masks the net was watched with."""
        if self.run._ended:
            return
        if method not in MASK_UPDATE_METHODS:
            raise ValueError(f"gradflow: masks_changed(method={method!r}): one of {', '.join(MASK_UPDATE_METHODS)}")
        self.run._ensure_ready()
        torch = self._torch
        for l in self.layers:
            l.refresh()
        rows = []
        idx = []
        for i, l in enumerate(self.layers):
            new = l.mask_bool()
            if new is None and self._previous[i] is None:
                continue
            ones = torch.ones(l.shape, dtype=torch.bool, device=l.param().device)
            new_m = ones if new is None else new
            prev = ones if self._previous[i] is None else self._previous[i]
            init = ones if self._initial[i] is None else self._initial[i]
            rows.append(torch.stack([(prev & ~new_m).sum(), (~prev & new_m).sum(), new_m.sum(), (init & new_m).sum(), init.sum()]))
            idx.append(i)
            self._previous[i] = None if new is None else new.clone()
        if not rows:
            return
        values = torch.stack([r.to(rows[0].device) for r in rows]).tolist()
        layers = []
        for k, (i, (dropped, grown, active, kept, initial)) in enumerate(zip(idx, values)):
            entry = {"layer": i, "dropped": int(dropped), "grown": int(grown), "active": int(active),
                     "overlap": kept / initial if initial else 0.0}
            if regrown is not None:
                entry["regrown"] = int(regrown[k])
            layers.append(entry)
        update: Dict[str, Any] = {"net": self.role, "step": self.steps, "epoch": self.epochs_done, "method": method, "layers": layers}
        if fraction is not None:
            update["fraction"] = float(fraction)
        self.run._send({"type": "mask-update", "update": update})


def _nan(x: Optional[float]) -> float:
    return float("nan") if x is None else x


def _wire_layer(l: Dict[str, Dict[str, float]]) -> Dict[str, Dict[str, Optional[float]]]:
    return {k: {"l1": _wire.num(v["l1"]), "l2": _wire.num(v["l2"])} for k, v in l.items()}


def _batch_size(batch: Any) -> int:
    y = batch[1]
    shape = getattr(y, "shape", None)
    if shape is not None and len(shape) > 0:
        return int(shape[0])
    return len(y)


def _to_device(x: Any, device: Any) -> Any:
    return x.to(device) if hasattr(x, "to") else x


class Run(_Config):
    """A run under Gradflow: the pipes, the resolved experiment, the watched nets."""

    active = True

    def __init__(self, defaults: Optional[Mapping[str, Any]] = None) -> None:
        self._ended = False
        self._ready_sent = False
        self._notes: set = set()
        self._stop_reason: Optional[str] = None
        self.should_stop = False
        self.nets: Dict[str, Net] = {}
        self._dataset: Optional[Dict[str, Any]] = None
        self._channel = _wire.Channel()
        self._send({"type": "hello", "protocolVersion": _wire.PROTOCOL_VERSION,
                    "client": {"name": CLIENT_NAME, "version": CLIENT_VERSION}, "pid": os.getpid()})
        start = None
        while start is None:
            m = self._channel.read_message()
            if m is None:
                raise RuntimeError("gradflow: Gradflow closed the pipe before sending the experiment (start)")
            if m["type"] == "start":
                start = m
            elif m["type"] == "stop":
                self._on_message(m)
        if start.get("protocolVersion") != _wire.PROTOCOL_VERSION:
            raise RuntimeError(f"gradflow: Gradflow speaks protocol {start.get('protocolVersion')}, this client {_wire.PROTOCOL_VERSION}")
        config = start.get("config")
        if not isinstance(config, dict):
            raise RuntimeError("gradflow: the start message carries no config object")
        self.config = _deep_merge(defaults or {}, config)
        self.run_id: Optional[str] = start.get("runId")
        self.run_dir: Optional[str] = start.get("runDir")
        self.source_file: Optional[str] = start.get("sourceFile")
        self.config_id: Optional[str] = start.get("configId")
        every = self.get("monitoring.every", 1)
        self.every = max(1, int(every)) if isinstance(every, (int, float)) and math.isfinite(every) else 1
        self._channel.start_reader(self._on_message, self._on_eof)
        self._previous_hook = sys.excepthook
        sys.excepthook = self._excepthook
        atexit.register(self._atexit)

    # -- pipe events -------------------------------------------------------------------------------
    def _on_message(self, m: Dict[str, Any]) -> None:
        if m.get("type") == "stop":
            self._stop_reason = str(m.get("reason") or "stopped by Gradflow")
            self.should_stop = True

    def _on_eof(self) -> None:
        if not self._ended:
            self._stop_reason = self._stop_reason or "Gradflow closed the pipe"
            self.should_stop = True

    def _send(self, message: Dict[str, Any]) -> None:
        self._channel.send(message)

    def _note_once(self, key: str, message: str) -> None:
        if key not in self._notes:
            self._notes.add(key)
            self.log(message)

    # -- nets --------------------------------------------------------------------------------------
    def watch(self, model: Any, masks: Optional[Mapping[str, Any]] = None, net: str = "sparse", *,
              steps_per_epoch: Optional[int] = None, epochs: Optional[int] = None, flow_data: Optional[Iterable[Any]] = None,
              loss_fn: Optional[Callable[[Any, Any], Any]] = None, coupled_l2: float = 0.0, width: Optional[int] = None) -> Net:
        """Watch a model's weight layers. Call it after pruning, once per net, before the first step."""
        if net not in NET_ROLES:
            raise ValueError(f"gradflow: watch(net={net!r}): 'sparse' or 'dense'")
        if net in self.nets:
            raise ValueError(f"gradflow: the {net} net is already watched")
        if self._ready_sent:
            raise RuntimeError("gradflow: watch() every net before the first step, epoch or mask update: Gradflow declares the nets once")
        if epochs is None:
            e = self.get("training.epochs")
            epochs = int(e) if isinstance(e, (int, float)) else None
        w = Net(self, net, model, masks, steps_per_epoch=steps_per_epoch, epochs=epochs, flow_data=flow_data,
                loss_fn=loss_fn, coupled_l2=coupled_l2, width=width)
        self.nets[net] = w
        return w

    def dataset(self, name: str, train: Optional[int] = None, validation: Optional[int] = None, test: Optional[int] = None) -> None:
        """Describe the data (shown in the run log); before the first step."""
        d: Dict[str, Any] = {"name": str(name)}
        for k, v in (("train", train), ("validation", validation), ("test", test)):
            if v is not None:
                d[k] = int(v)
        self._dataset = d

    def _ensure_ready(self) -> None:
        if self._ready_sent:
            return
        if not self.nets:
            raise RuntimeError("gradflow: watch() a model before reporting steps")
        self._ready_sent = True
        first = next(iter(self.nets.values()))
        m: Dict[str, Any] = {"type": "ready", "nets": [n.ready_entry() for n in self.nets.values()], "device": str(first.device())}
        spe = first.steps_per_epoch
        if spe:
            m["stepsPerEpoch"] = int(spe)
            if first.epochs is not None:
                m["totalSteps"] = int(spe) * int(first.epochs)
        if self._dataset:
            m["dataset"] = self._dataset
        self._send(m)

    def _net(self, net: Optional[str]) -> Net:
        if net is None:
            if len(self.nets) == 1:
                return next(iter(self.nets.values()))
            if not self.nets:
                raise RuntimeError("gradflow: watch() a model first")
            raise ValueError("gradflow: two nets are watched: say which (net='sparse' or net='dense'), or use the object watch() returned")
        if net not in self.nets:
            raise ValueError(f"gradflow: no {net!r} net is watched (watched: {', '.join(self.nets) or 'none'})")
        return self.nets[net]

    def step(self, loss: Any = None, accuracy: Any = None, output: Any = None, target: Any = None, net: Optional[str] = None) -> None:
        if self._ended:
            return
        self._net(net).step(loss=loss, accuracy=accuracy, output=output, target=target)

    def epoch(self, net: Optional[str] = None, **metrics: Any) -> None:
        if self._ended:
            return
        self._net(net).epoch(**metrics)

    def masks_changed(self, method: str, fraction: Optional[float] = None, regrown: Optional[Sequence[int]] = None, net: Optional[str] = None) -> None:
        if self._ended:
            return
        self._net(net).masks_changed(method, fraction=fraction, regrown=regrown)

    def log(self, message: str, level: str = "info") -> None:
        if level not in ("info", "warn", "error"):
            raise ValueError(f"gradflow: log level {level!r}: 'info', 'warn' or 'error'")
        if not self._ended:
            self._send({"type": "log", "level": level, "message": str(message)})

    # -- the end -----------------------------------------------------------------------------------
    def finish(self, stopped: Optional[bool] = None, reason: Optional[str] = None) -> None:
        """Send `done` (once) and close the pipe. stopped defaults to whether Gradflow asked to stop."""
        if self._ended:
            return
        try:
            if self.nets:
                self._ensure_ready()
                for n in self.nets.values():
                    n._finish()
        finally:
            self._ended = True
            done: Dict[str, Any] = {"type": "done", "stopped": bool(self.should_stop if stopped is None else stopped)}
            why = reason if reason is not None else (self._stop_reason if done["stopped"] else None)
            if why:
                done["reason"] = str(why)
            self._channel.send(done)
            self._channel.close()

    def fail(self, exc: BaseException) -> None:
        """Send `error` with the exception and its traceback (once), and close the pipe."""
        if self._ended:
            return
        if isinstance(exc, KeyboardInterrupt):
            self.finish(stopped=True, reason="interrupted (KeyboardInterrupt)")
            return
        self._ended = True
        tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        m: Dict[str, Any] = {"type": "error", "message": f"{type(exc).__name__}: {exc}"[:10_000], "traceback": tb[-90_000:]}
        key = getattr(exc, "key", None)
        if isinstance(exc, ConfigError) and key:
            m["key"] = key
        self._channel.send(m)
        self._channel.close()
        for n in self.nets.values():
            for l in n.layers:
                l.remove()

    def _excepthook(self, t: Any, v: BaseException, tb: Any) -> None:
        if v is not None and v.__traceback__ is None:
            v = v.with_traceback(tb)
        self.fail(v)
        self._previous_hook(t, v, tb)

    def _atexit(self) -> None:
        if not self._ended:
            self.finish()

    def __enter__(self) -> "Run":
        return self

    def __exit__(self, t: Any, v: Optional[BaseException], tb: Any) -> bool:
        if v is not None:
            self.fail(v)
        else:
            self.finish()
        return False
