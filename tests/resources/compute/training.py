"""A multi-image training pipeline: data preparation in its own image, training on a GPU pool,
evaluation on the CPU pool. The same tasks as notebooks/gpu_pools.ipynb."""

import os

import plait
from plait import ImageSpec, Resources

prep_image = ImageSpec(name="prep", packages=["inflection==0.5.1"], env={"STAGE": "prep"})
train_image = ImageSpec(name="train", packages=["inflection==0.5.1"], env={"STAGE": "train"})


@plait.task(container_image=prep_image)
def prepare(n: int) -> list[float]:
    """Features scaled to 0..1 (runs in the prep image)."""
    print(f"preparing {n} rows in pool {os.environ.get('PLAIT_POOL')}, stage {os.environ.get('STAGE')}")
    return [i / max(n - 1, 1) for i in range(n)]


@plait.task(container_image=train_image, limits=Resources(gpu="1"), accelerator=plait.T4)
def train(features: list[float], epochs: int = 3) -> dict[str, float]:
    """A one-weight model fitted by gradient steps (a GPU pool runs it)."""
    device = "cuda" if os.environ.get("CUDA_VISIBLE_DEVICES") else "cpu"
    print(f"training on {device} in pool {os.environ.get('PLAIT_POOL')}, stage {os.environ.get('STAGE')}")
    weight = 0.0
    for epoch in range(epochs):
        grad = sum(2 * (weight * x - 2 * x) * x for x in features) / len(features)
        weight -= 0.9 * grad
        print(f"epoch {epoch}: weight {weight:.3f}")
    return {"weight": weight}


@plait.task
def evaluate(model: dict[str, float], features: list[float]) -> float:
    """Mean squared error against y = 2x (the CPU pool runs it)."""
    print(f"evaluating in pool {os.environ.get('PLAIT_POOL')}")
    return sum((model["weight"] * x - 2 * x) ** 2 for x in features) / len(features)


@plait.workflow
def training_pipeline(n: int = 50, epochs: int = 3) -> float:
    features = prepare(n=n)
    model = train(features=features, epochs=epochs)
    return evaluate(model=model, features=features)
