#!/usr/bin/env python3
"""Independent replay of the head's training steps (tests/test_head_dump.c output) in float64
torch, written from Keras' documented behaviour rather than from vkdp's code:

  BatchNormalization(momentum=0.99, epsilon=1e-3), training: batch mean and biased variance,
      y = gamma * (x - mean) / sqrt(var + eps) + beta;  moving = moving - (moving - stat) * 0.01
  Dropout(0.2): the dumped keep mask, kept units * 1/0.8
  Dense(C) + softmax, categorical cross-entropy, mean over the batch; gradients by autograd
  Adam (Keras 2.11+): t = iterations + 1, alpha = lr sqrt(1 - b2^t) / (1 - b1^t),
      m += (g - m)(1 - b1), v += (g^2 - v)(1 - b2), p -= alpha m / (sqrt(v) + eps)
  inference: moving statistics, no dropout.

Compares every tensor after every step, the per-step losses and the final held-out
probabilities; exits non-zero when any normwise relative error exceeds its tolerance.
usage: head_keras_ref.py DIR
"""
import sys

import numpy as np
import torch

torch.set_default_dtype(torch.float64)
d = sys.argv[1]
F, C, B, STEPS, NVAL, NT = map(int, open(f"{d}/meta.txt").read().split())


def load(name, dtype, shape):
    return np.fromfile(f"{d}/{name}", dtype=dtype).reshape(shape)


x = torch.tensor(load("x.f32", np.float32, (STEPS, B, F)).astype(np.float64))
y = torch.tensor(load("y.i32", np.int32, (STEPS, B)).astype(np.int64))
keep = torch.tensor(load("keep.u8", np.uint8, (STEPS, B, F)).astype(np.float64))
loss_vkdp = load("loss.f64", np.float64, (STEPS,))

gamma = torch.ones(F, requires_grad=True)
beta = torch.zeros(F, requires_grad=True)
kernel = torch.tensor(load("kernel0.f32", np.float32, (F, C)).astype(np.float64), requires_grad=True)
bias = torch.zeros(C, requires_grad=True)
params = [gamma, beta, kernel, bias]
mmean, mvar = torch.zeros(F), torch.ones(F)
m = [torch.zeros_like(p) for p in params]
v = [torch.zeros_like(p) for p in params]
lr, b1, b2, eps = 1e-2, 0.9, 0.999, 1e-7

worst = {}
ok = True


def check(what, got, ref, tol):
    global ok
    got, ref = np.asarray(got, np.float64).ravel(), np.asarray(ref, np.float64).ravel()
    err = np.max(np.abs(got - ref)) / max(np.max(np.abs(ref)), 1e-30)
    worst[what] = max(worst.get(what, 0.0), err)
    if not err <= tol:
        print(f"FAIL {what}: rel {err:.3e} > {tol:.0e}")
        ok = False


names = ["gamma", "beta", "moving_mean", "moving_variance", "kernel", "bias",
         "m_gamma", "m_beta", "m_kernel", "m_bias", "v_gamma", "v_beta", "v_kernel", "v_bias"]
for s in range(STEPS):
    xs = x[s]
    mean = xs.mean(0)
    var = ((xs - mean) ** 2).mean(0)
    xn = gamma * (xs - mean) / torch.sqrt(var + 1e-3) + beta
    xd = xn * keep[s] / 0.8
    logits = xd @ kernel + bias
    loss = torch.nn.functional.cross_entropy(logits, y[s])
    for p in params:
        p.grad = None
    loss.backward()
    check("loss", loss_vkdp[s], loss.item(), 1e-5)
    with torch.no_grad():
        mmean -= (mmean - mean) * (1 - 0.99)
        mvar -= (mvar - var) * (1 - 0.99)
        t = s + 1
        alpha = lr * (1 - b2 ** t) ** 0.5 / (1 - b1 ** t)
        for i, p in enumerate(params):
            g = p.grad
            m[i] += (g - m[i]) * (1 - b1)
            v[i] += (g * g - v[i]) * (1 - b2)
            p -= alpha * m[i] / (torch.sqrt(v[i]) + eps)
    ref = [gamma, beta, mmean, mvar, kernel, bias] + m + v
    for i in range(NT):
        got = np.fromfile(f"{d}/step{s}_t{i:02d}.f32", dtype=np.float32)
        # Adam's v and m carry float32 gradients; the parameter *changes* are what matter.
        tol = 1e-3 if names[i].startswith(("m_", "v_")) else 1e-4
        check(names[i], got, ref[i].detach().numpy(), tol)

with torch.no_grad():
    xv = torch.tensor(load("xval.f32", np.float32, (NVAL, F)).astype(np.float64))
    xn = gamma * (xv - mmean) / torch.sqrt(mvar + 1e-3) + beta
    probs = torch.softmax(xn @ kernel + bias, dim=1)
check("eval probs", load("probs.f32", np.float32, (NVAL, C)), probs.numpy(), 1e-4)

for k, e in worst.items():
    print(f"{'ok  ' if ok else '    '} {k:16s} worst rel err over {STEPS} steps {e:.2e}")
print("all passed" if ok else "FAILED")
sys.exit(0 if ok else 1)
