"""vkdp's random draws in Python, so that a peer can replay them (torch_finetune.py --vkdp-draws).

For a draw seed S (`trainer train --draw-seed S`), as the C code draws them:
- the head's Dense kernel, glorot_uniform from splitmix64 seeded with S ^ a salt (trainer/model/head.c);
- each epoch's order of the training list: MT19937 seeded with splitmix64 of (S, epoch), then
  NumPy's legacy Fisher-Yates shuffle (trainer/data/data_split.c's vkdp_epoch_order);
- the augmentation's parameters of (S, epoch, position in the epoch's order): tests/ref/augment_ref.py's
  draw(), which the C draws are tested against bit for bit;
- the keep bits of the head's dropout (stream j = feature index) and of drop connect (stream
  0x44430000 + block index), Philox-4x32-10 of (j, position, epoch) keyed by S, kept when
  u = (r >> 8) / 2^24 >= rate in float32 (trainer/ops/head_dropout.c, trainer/model/ft_pass.c).
A position is a sample's index in its epoch's shuffled order, as vkdp's global sample index is."""
import numpy as np

M32, M64 = 0xFFFFFFFF, (1 << 64) - 1
HEAD_INIT_SALT = 0x6C8E9CF570932BD5
DROP_CONNECT_STREAM = 0x44430000


def splitmix64(state):
    """(next state, value): Steele et al.'s splitmix64 step, as include/vkdp/core/rng.h."""
    state = (state + 0x9E3779B97F4A7C15) & M64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return state, z ^ (z >> 31)


def head_kernel(seed, features, classes):
    """The head's initial Dense kernel [features, classes] (Keras' layout), float32."""
    limit = (6.0 / (features + classes)) ** 0.5
    s = (seed ^ HEAD_INIT_SALT) & M64
    out = np.empty(features * classes, dtype=np.float32)
    for k in range(out.size):
        s, z = splitmix64(s)
        out[k] = -limit + 2 * limit * ((z >> 11) * 2.0**-53)
    return out.reshape(features, classes)


def epoch_seed(seed, epoch):
    _, z = splitmix64(((seed << 32) | (epoch & M32)) & M64)
    return (z ^ (z >> 32)) & M32


def epoch_order(n, seed, epoch):
    """Epoch `epoch`'s order: position p holds training-list index order[p]."""
    order = list(range(n))
    np.random.RandomState(epoch_seed(seed, epoch)).shuffle(order)
    return order


def philox_r0(j, pos, epoch, seed):
    """The first word of Philox-4x32-10 of counter (j, pos low, pos high, epoch), key seed; arrays."""
    u64 = np.uint64
    j, pos = np.broadcast_arrays(np.asarray(j, dtype=u64), np.asarray(pos, dtype=u64))
    c0, c1, c2, c3 = j & u64(M32), pos & u64(M32), pos >> u64(32), np.full(j.shape, epoch & M32, dtype=u64)
    k0, k1 = seed & M32, (seed >> 32) & M32
    for _ in range(10):
        p0, p1 = c0 * u64(0xD2511F53), c2 * u64(0xCD9E8D57)
        c0, c1, c2, c3 = (p1 >> u64(32)) ^ c1 ^ u64(k0), p1 & u64(M32), (p0 >> u64(32)) ^ c3 ^ u64(k1), p0 & u64(M32)
        k0, k1 = (k0 + 0x9E3779B9) & M32, (k1 + 0xBB67AE85) & M32
    return c0


def keep(j, pos, epoch, seed, rate):
    u = (philox_r0(j, pos, epoch, seed) >> np.uint64(8)).astype(np.float32) * np.float32(1.0 / 16777216.0)
    return u >= np.float32(rate)


def head_dropout_mask(pos, epoch, seed, features, rate=0.2):
    """[len(pos), features] float32: the kept features' scale 1 / (1 - rate), 0 for the dropped."""
    k = keep(np.arange(features)[None, :], np.asarray(pos)[:, None], epoch, seed, rate)
    return np.where(k, np.float32(1.0 / (1.0 - rate)), np.float32(0)).astype(np.float32)


def drop_connect_scales(pos, epoch, seed, block, connect_rate):
    """[len(pos)] float32: block `block`'s drop-connect scale of each sample (Keras' rate R * b / 16)."""
    rate = connect_rate * block / 16.0
    k = keep(DROP_CONNECT_STREAM + block, np.asarray(pos), epoch, seed, rate)
    return np.where(k, np.float32(1.0 / (1.0 - rate)), np.float32(0)).astype(np.float32)
