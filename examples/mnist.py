"""A small data-parallel training script for the CPU example: an MNIST-shaped classifier trained with DDP and gloo
on random data (nothing to download), so that `kfpytorch run` can run the example job on any machine with PyTorch.

The training operator (or `kfpytorch run`) gives each pod MASTER_ADDR, MASTER_PORT, WORLD_SIZE and RANK.
"""
import argparse

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", default="gloo")
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()

    dist.init_process_group(args.backend)
    rank, world = dist.get_rank(), dist.get_world_size()
    torch.manual_seed(rank)
    model = DistributedDataParallel(torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(28 * 28, 10)))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    images, labels = torch.randn(512, 1, 28, 28), torch.randint(0, 10, (512,))
    for epoch in range(args.epochs):
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(images), labels)
        loss.backward()
        optimizer.step()
        average = loss.detach().clone()
        dist.all_reduce(average)
        if rank == 0:
            print(f"epoch {epoch + 1}/{args.epochs}: loss {average.item() / world:.4f} across {world} processes", flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
