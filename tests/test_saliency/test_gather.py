"""Under distributed training the contrastive terms see the batch of all
ranks, and the gradients equal the single-process full-batch ones (2 CPU
processes, gloo)."""
import multiprocessing as mp
import os
import socket

import torch
import torch.distributed as dist

from mmwsss.models.losses import SimMaxLoss, SimMinLoss
from mmwsss.models.saliency.c2am import gather_batch


def loss_fn(fg: torch.Tensor, bg: torch.Tensor) -> torch.Tensor:
    return SimMaxLoss()(fg) + SimMinLoss()(bg, fg) + SimMaxLoss()(bg)


def worker(rank: int, port: int, fg: torch.Tensor, bg: torch.Tensor,
           queue) -> None:
    os.environ.update(MASTER_ADDR='127.0.0.1', MASTER_PORT=str(port))
    dist.init_process_group('gloo', rank=rank, world_size=2)
    try:
        half = len(fg) // 2
        mine = slice(rank * half, (rank + 1) * half)
        x = fg[mine].clone().requires_grad_(True)
        y = bg[mine].clone().requires_grad_(True)
        all_fg, all_bg = gather_batch(x), gather_batch(y)
        loss = loss_fn(all_fg, all_bg)
        loss.backward()
        # plain lists, not tensors: a tensor crosses the queue as a shared
        # memory handle that can vanish when this process exits first
        queue.put((rank, loss.item(), len(all_fg), x.grad.tolist(),
                   y.grad.tolist()))
    finally:
        dist.destroy_process_group()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def test_gather_gives_full_batch_loss_and_gradients():
    torch.manual_seed(0)
    fg, bg = torch.rand(6, 5), torch.rand(6, 5)
    ref_fg, ref_bg = fg.clone().requires_grad_(), bg.clone().requires_grad_()
    ref = loss_fn(ref_fg, ref_bg)
    ref.backward()

    ctx = mp.get_context('fork')
    queue = ctx.Queue()
    port = free_port()
    procs = [ctx.Process(target=worker, args=(r, port, fg, bg, queue))
             for r in range(2)]
    for p in procs:
        p.start()
    results = sorted(queue.get(timeout=60) for _ in procs)
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    for rank, loss, n, gx, gy in results:
        assert n == 6
        assert abs(loss - ref.item()) < 1e-5
        mine = slice(rank * 3, (rank + 1) * 3)
        # each rank's local gradient is W x the full-batch one; DDP's mean
        # over the 2 ranks then gives exactly the full-batch gradient
        torch.testing.assert_close(torch.tensor(gx) / 2, ref_fg.grad[mine])
        torch.testing.assert_close(torch.tensor(gy) / 2, ref_bg.grad[mine])


def test_gather_is_identity_without_distributed():
    x = torch.rand(3, 2)
    assert gather_batch(x) is x
