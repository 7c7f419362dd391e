#!/usr/bin/env python3
"""Makes Tests/Fixtures/optimizer/: what the real torch.optim.Adam and NVIDIA's projector schedule
compute, for AdamTests and ProjectorScheduleTests to hold linstory against.

  ~/.venvs/torchref/bin/python tools/make_optimizer_fixtures.py   (make torch-venv makes that venv)

adam.safetensors: for each case, the start parameters, every step's gradient and learning rate, and
the parameters torch.optim.Adam (float32, betas (0.9, 0.999), eps 1e-8, the learning rate set afresh
before every step as projector.py does) holds after every step.

projector_schedule.safetensors: for each num_steps, the learning rate and w noise scale of every step,
computed by the lines of stylegan2-ada-pytorch projector.py's loop (quoted below) in float64.
"""
import os
import numpy as np
import torch
from safetensors.numpy import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "Tests", "Fixtures", "optimizer")


def adam_case(start, grads, lrs):
    p = torch.tensor(start, dtype=torch.float32, requires_grad=True)
    opt = torch.optim.Adam([p], betas=(0.9, 0.999), eps=1e-8, lr=float(lrs[0]))
    params = []
    for g, lr in zip(grads, lrs):
        # projector.py: for param_group in optimizer.param_groups: param_group['lr'] = lr
        for group in opt.param_groups:
            group["lr"] = float(lr)
        p.grad = torch.tensor(g, dtype=torch.float32)
        opt.step()
        params.append(p.detach().numpy().copy())
    return np.stack(params).astype(np.float32)


def adam_cases():
    rs = np.random.RandomState(2024)
    out = {}
    # 25 steps over 60 coordinates whose gradients range from 1e-9 to 1e3 (eps, 1e-8, dominates the
    # smallest), with zeros, coordinates that flip sign every step and steady pushes; a changing lr.
    count, steps = 60, 25
    scales = np.array([1, 1e-3, 1e-8, 1e-9, 1e3, 0], dtype=np.float64)
    grads = np.zeros((steps, count), dtype=np.float32)
    for s in range(steps):
        for i in range(count):
            scale = scales[i % len(scales)]
            g = scale * rs.randn()
            if i % 7 == 0:
                g = abs(g) if s % 2 == 0 else -abs(g)
            elif i % 11 == 0:
                g = scale
            grads[s, i] = g
    lrs = np.array([0.1 * (s + 1) / steps for s in range(steps)], dtype=np.float32)
    start = rs.randn(count).astype(np.float32)
    out.update(case("adam25", start, grads, lrs))
    # 1000 steps: the bias corrections late in a run, a learning rate that drops halfway.
    count, steps = 16, 1000
    grads = (rs.randn(steps, count) + 0.3).astype(np.float32)
    lrs = np.array([0.01 if s < 500 else 0.001 for s in range(steps)], dtype=np.float32)
    start = rs.randn(count).astype(np.float32)
    out.update(case("adam1000", start, grads, lrs))
    return out


def case(name, start, grads, lrs):
    return {
        f"{name}/start": start,
        f"{name}/grads": grads,
        f"{name}/lrs": lrs,
        f"{name}/params": adam_case(start, grads, lrs),
    }


def projector_schedule(num_steps, w_std):
    # stylegan2-ada-pytorch projector.py, project(), defaults:
    initial_learning_rate = 0.1
    initial_noise_factor = 0.05
    lr_rampdown_length = 0.25
    lr_rampup_length = 0.05
    noise_ramp_length = 0.75
    lrs, noises = [], []
    for step in range(num_steps):
        # Learning rate schedule. (verbatim from projector.py)
        t = step / num_steps
        w_noise_scale = w_std * initial_noise_factor * max(0.0, 1.0 - t / noise_ramp_length) ** 2
        lr_ramp = min(1.0, (1.0 - t) / lr_rampdown_length)
        lr_ramp = 0.5 - 0.5 * np.cos(lr_ramp * np.pi)
        lr_ramp = lr_ramp * min(1.0, t / lr_rampup_length)
        lr = initial_learning_rate * lr_ramp
        lrs.append(lr)
        noises.append(w_noise_scale)
    return np.array(lrs, dtype=np.float64), np.array(noises, dtype=np.float64)


def schedules():
    out = {}
    w_std = np.float32(3.7)
    for n in [1, 2, 7, 40, 100, 1000]:
        lr, noise = projector_schedule(n, float(w_std))
        out[f"steps{n}/lr"] = lr
        out[f"steps{n}/w_noise_scale"] = noise
    out["w_std"] = np.array([w_std], dtype=np.float32)
    return out


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    save_file(adam_cases(), os.path.join(OUT, "adam.safetensors"), metadata={"torch": torch.__version__})
    save_file(schedules(), os.path.join(OUT, "projector_schedule.safetensors"))
    print("wrote", OUT, "with torch", torch.__version__)
