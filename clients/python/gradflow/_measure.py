"""Weight layers, their masks and their gradient norms (method.md §3), with torch.

A weight layer is the kernel of a ``torch.nn.Linear`` or of a convolution (``_ConvNd``); biases,
BatchNorm and every other parameter are neither measured nor counted. Each layer's mask comes from
``torch.nn.utils.prune`` (``weight_mask`` / ``weight_orig``), from an explicit ``{name: mask}``, or
there is none (a dense layer).

Per layer and step four sums are reduced on the gradient's device: Σ|g|, Σg² of the raw gradient
dL/dW (pruned positions included) and of the masked gradient g ⊙ m. Each sum is taken per output
unit (row) in the gradient's dtype, then the rows are accumulated in float64; every layer's sums
and the loss go to the host in one transfer per step.
"""
from typing import Any, Dict, List, Mapping, Optional, Tuple

import torch
from torch import nn

WEIGHT_LAYER_TYPES = (nn.Linear, nn.modules.conv._ConvNd)


def accumulator_dtype(device: torch.device) -> torch.dtype:
    """float64 everywhere it exists; Apple's MPS has no float64, so float32 there (docs/torch.md, Limits)."""
    return torch.float32 if device.type == "mps" else torch.float64


class Layer:
    """One weight layer of a watched net."""

    def __init__(self, name: str, module: nn.Module, kind: str, explicit_mask: Optional[torch.Tensor] = None) -> None:
        self.name = name
        self.module = module
        self.kind = kind  # 'prune' | 'explicit' | 'dense'
        self._explicit = explicit_mask
        self._mask_cache: Optional[Tuple[Any, torch.Tensor]] = None
        # prune: dL/dW of the product weight_orig * weight_mask, captured by a tensor hook
        self.captured: Optional[torch.Tensor] = None
        self._hook = None
        w = self.param()
        self.shape = tuple(w.shape)
        self.fan_out = int(w.shape[0])
        self.total = int(w.numel())
        self.fan_in = self.total // self.fan_out if self.fan_out else 0
        if kind == "prune":
            self._hook = module.register_forward_hook(self._capture_hook)

    # -- parameters --------------------------------------------------------------------------------
    def param(self) -> torch.Tensor:
        """The leaf parameter the optimizer updates (weight_orig under prune)."""
        return getattr(self.module, "weight_orig") if self.kind == "prune" else getattr(self.module, "weight")

    def kernel(self) -> torch.Tensor:
        """The kernel the forward uses (pruned entries 0 under prune)."""
        if self.kind == "prune":
            return getattr(self.module, "weight_orig") * getattr(self.module, "weight_mask")
        return getattr(self.module, "weight")

    def mask(self) -> Optional[torch.Tensor]:
        """The mask as a float tensor on the kernel's device, or None for a dense layer."""
        if self.kind == "dense":
            return None
        if self.kind == "prune":
            return getattr(self.module, "weight_mask")
        assert self._explicit is not None
        p = self.param()
        m = self._explicit
        key = (m.data_ptr(), m._version, p.device, p.dtype)
        if self._mask_cache is None or self._mask_cache[0] != key:
            self._mask_cache = (key, m.detach().to(device=p.device, dtype=p.dtype))
        return self._mask_cache[1]

    def mask_bool(self) -> Optional[torch.Tensor]:
        m = self.mask()
        return None if m is None else m.detach() != 0

    # -- the raw gradient --------------------------------------------------------------------------
    def _capture_hook(self, module: nn.Module, _inputs: Any, _output: Any) -> None:
        w = getattr(module, "weight", None)
        if isinstance(w, torch.Tensor) and w.requires_grad and torch.is_grad_enabled():
            w.register_hook(self._accumulate)

    def _accumulate(self, grad: torch.Tensor) -> None:
        # Kept by reference (autograd does not write into a gradient it handed to a hook); a
        # second backward pass before the next step adds out of place.
        g = grad.detach()
        self.captured = g if self.captured is None else self.captured + g

    def raw_grad(self) -> Optional[torch.Tensor]:
        """dL/dW of the kernel the forward used, since the last reset; None when there is none."""
        if self.kind == "prune":
            return self.captured
        g = self.param().grad
        return None if g is None else g.detach()

    def masked_grad(self, raw: torch.Tensor) -> Optional[torch.Tensor]:
        """g ⊙ m, what the optimizer sees: under prune weight_orig's gradient (exactly g ⊙ m when the
        kernel is only used through prune's product; no product computed), else raw · mask; None for
        a dense layer (masked = raw)."""
        m = self.mask()
        if m is None:
            return None
        if self.kind == "prune":
            g = self.param().grad
            if g is not None and g.shape == raw.shape:
                return g.detach()
        return raw * m.detach()

    def reset(self) -> None:
        self.captured = None

    def refresh(self) -> None:
        """Follow torch.nn.utils.prune applied (or removed) after watch(): gradual pruning."""
        buffers = dict(self.module.named_buffers(recurse=False))
        pruned = "weight_mask" in buffers and hasattr(self.module, "weight_orig")
        if self.kind == "dense" and pruned:
            self.kind = "prune"
            self._hook = self.module.register_forward_hook(self._capture_hook)
        elif self.kind == "prune" and not pruned:
            self.kind = "dense"
            self.remove()
            self.captured = None

    def remove(self) -> None:
        if self._hook is not None:
            self._hook.remove()
            self._hook = None

    # -- what ready declares -----------------------------------------------------------------------
    def info(self) -> Dict[str, Any]:
        m = self.mask_bool()
        if m is None:
            active, dead = self.total, 0
        else:
            per_unit = m.reshape(self.fan_out, -1).sum(dim=1)
            stats = torch.stack([per_unit.sum(), (per_unit == 0).sum()]).tolist()
            active, dead = int(stats[0]), int(stats[1])
        return {"name": self.name, "fanIn": self.fan_in, "fanOut": self.fan_out, "active": active, "total": self.total, "deadUnits": dead}


def _check_mask(name: str, mask: Any, shape: Tuple[int, ...]) -> torch.Tensor:
    if not isinstance(mask, torch.Tensor):
        raise TypeError(f"gradflow: masks[{name!r}] is a {type(mask).__name__}, a torch.Tensor of 0/1 expected")
    if tuple(mask.shape) != shape:
        raise ValueError(f"gradflow: masks[{name!r}] has shape {tuple(mask.shape)}, the kernel has {shape}")
    if mask.dtype != torch.bool:
        bad = ((mask != 0) & (mask != 1)).sum().item()
        if bad:
            raise ValueError(f"gradflow: masks[{name!r}] has {bad} entries that are neither 0 nor 1")
    return mask


def discover_layers(model: nn.Module, masks: Optional[Mapping[str, Any]] = None) -> List[Layer]:
    """Every weight layer of `model`, first to last as the modules were registered, with its mask."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"gradflow: watch() needs a torch.nn.Module, got {type(model).__name__}")
    explicit: Dict[str, Any] = dict(masks or {})
    layers: List[Layer] = []
    seen: set = set()
    used: set = set()
    for mname, module in model.named_modules():
        if not isinstance(module, WEIGHT_LAYER_TYPES) or id(module) in seen:
            continue
        seen.add(id(module))
        pname = f"{mname}.weight" if mname else "weight"
        name = mname or type(module).__name__
        keys = [k for k in (pname, mname) if k and k in explicit]
        buffers = dict(module.named_buffers(recurse=False))
        pruned = "weight_mask" in buffers and hasattr(module, "weight_orig")
        if keys:
            if pruned:
                raise ValueError(f"gradflow: masks[{keys[0]!r}]: layer {name!r} is already pruned with torch.nn.utils.prune (its weight_mask); give one mask, not both")
            if len(keys) > 1:
                raise ValueError(f"gradflow: masks names layer {name!r} twice ({keys[0]!r} and {keys[1]!r})")
            used.add(keys[0])
            weight = getattr(module, "weight")
            mask = _check_mask(keys[0], explicit[keys[0]], tuple(weight.shape))
            layers.append(Layer(name, module, "explicit", mask))
        elif pruned:
            layers.append(Layer(name, module, "prune"))
        elif isinstance(getattr(module, "weight", None), torch.Tensor):
            layers.append(Layer(name, module, "dense"))
    unknown = [k for k in explicit if k not in used]
    if unknown:
        names = ", ".join(repr(l.name + ".weight") for l in layers[:8]) + (", ..." if len(layers) > 8 else "")
        raise ValueError(f"gradflow: masks[{unknown[0]!r}] names no Linear/Conv kernel of the model (its weight layers: {names or 'none'})")
    if not layers:
        raise ValueError("gradflow: the model has no weight layer (torch.nn.Linear or convolution) to watch")
    return layers


def _row_sums(t: torch.Tensor, acc: torch.dtype) -> Tuple[torch.Tensor, torch.Tensor]:
    """Σ|t| and Σt² of a gradient: per output unit in its dtype, rows accumulated in `acc`."""
    rows = t.reshape(t.shape[0], -1) if t.dim() > 1 else t.reshape(1, -1)
    l1 = torch.linalg.vector_norm(rows, 1, dim=1).to(acc).sum()
    sq = torch.linalg.vector_norm(rows, 2, dim=1).to(acc).square().sum()
    return l1, sq


def layer_sums(layers: List[Layer], coupled_l2: float = 0.0) -> torch.Tensor:
    """[4·L] on the gradients' device: raw Σ|g|, raw Σg², masked Σ|g⊙m|, masked Σ(g⊙m)² per layer.
    A layer without gradient gives NaN (it did not take part in the backward pass)."""
    parts: List[torch.Tensor] = []
    device = None
    for layer in layers:
        g = layer.raw_grad()
        if g is None:
            parts.append(torch.full((4,), float("nan"), dtype=torch.float64))
            continue
        device = g.device
        acc = accumulator_dtype(g.device)
        masked = layer.masked_grad(g)
        if coupled_l2:
            # Coupled L2 (the optimizer's weight_decay) is part of the gradient, before masking:
            # + l2·W on the kernel the forward used (pruned entries 0, so masked gets l2·W too).
            w = layer.kernel().detach()
            g = g + coupled_l2 * w
            masked = None if masked is None else masked + coupled_l2 * w
        r1, r2 = _row_sums(g, acc)
        if masked is None:
            parts.append(torch.stack([r1, r2, r1, r2]))
        else:
            m1, m2 = _row_sums(masked, acc)
            parts.append(torch.stack([r1, r2, m1, m2]))
    if device is not None:
        acc = accumulator_dtype(device)
        parts = [p.to(device=device, dtype=acc) for p in parts]
    return torch.cat(parts) if parts else torch.zeros(0, dtype=torch.float64)


def decode_layers(values: List[float]) -> List[Dict[str, Dict[str, float]]]:
    """Sums (4 per layer) → norms: L1 as summed, L2 = √Σg²."""
    out = []
    for i in range(0, len(values), 4):
        r1, r2, m1, m2 = values[i : i + 4]
        out.append({"raw": {"l1": r1, "l2": _sqrt(r2)}, "masked": {"l1": m1, "l2": _sqrt(m2)}})
    return out


def _sqrt(x: float) -> float:
    return x ** 0.5 if x >= 0 else float("nan")


def combine_flow(layers: List[Dict[str, Dict[str, float]]]) -> Dict[str, float]:
    """EGF_p = (1/L) Σ_n ‖g^n ⊙ m^n‖_p; g1 = Σ_n ‖g^n‖_1, g2 = √Σ_n ‖g^n‖_2² (all raw kernels concatenated)."""
    L = len(layers)
    if L == 0:
        nan = float("nan")
        return {"egf1": nan, "egf2": nan, "g1": nan, "g2": nan}
    egf1 = sum(l["masked"]["l1"] for l in layers) / L
    egf2 = sum(l["masked"]["l2"] for l in layers) / L
    g1 = sum(l["raw"]["l1"] for l in layers)
    g2 = _sqrt(sum(l["raw"]["l2"] ** 2 for l in layers))
    return {"egf1": egf1, "egf2": egf2, "g1": g1, "g2": g2}
