"""Long work that keeps its progress in a checkpoint and resumes there on retry."""

import time

from plait import FlyteRecoverableException, current_context, task, workflow

FAIL_AT = (3, 6)  # the loop step at which attempt 1 and attempt 2 are interrupted


@task(retries=3)
def count_to(n: int) -> str:
    cp = current_context().checkpoint
    previous = cp.read()
    start = int(previous.decode()) if previous else 0
    attempt = current_context().attempt_number
    for step in range(start, n):
        if attempt <= len(FAIL_AT) and step == FAIL_AT[attempt - 1]:
            raise FlyteRecoverableException(f"interrupted at step {step}")
        cp.write(str(step + 1).encode())
    return f"attempt {attempt} started at {start}, had a checkpoint: {cp.prev_exists()}"


@workflow
def counting(n: int = 10) -> str:
    return count_to(n=n)


@task(retries=2)
def keep_folder(name: str) -> list[str]:
    cp = current_context().checkpoint
    restored = cp.restore()
    if restored is None:  # first attempt: save a folder of two files, then fail
        folder = current_context().working_directory
        with open(f"{folder}/{name}.a", "w") as handle:
            handle.write("first")
        with open(f"{folder}/{name}.b", "w") as handle:
            handle.write("second")
        cp.save(folder)
        raise FlyteRecoverableException("lost the machine")
    return sorted(p.name + "=" + p.read_text() for p in restored.iterdir())


@workflow
def folders(name: str = "part") -> list[str]:
    return keep_folder(name=name)


@task(retries=1, timeout=1)
def resume_after_hang(label: str) -> str:
    cp = current_context().checkpoint
    saved = cp.read()
    if saved is None:
        cp.write(f"{label}: half done".encode())
        while True:  # the machine hangs; the attempt is stopped at its timeout
            time.sleep(0.05)
    return f"{saved.decode()}, finished by attempt {current_context().attempt_number}"
