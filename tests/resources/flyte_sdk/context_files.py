"""Scratch files through the Flyte context, and a decorator that orders the nodes it adds."""

import functools
import os

from plait import FlyteContextManager, FlyteFile, create_node, current_context, task, workflow


@task
def write_report(lines: list[str]) -> FlyteFile:
    ctx = FlyteContextManager.current_context()
    draft = ctx.file_access.get_random_local_path("report.txt")
    with open(draft, "w") as handle:
        handle.write("\n".join(lines))
    # a round trip through the "remote" side, as programs that upload do
    remote = ctx.file_access.get_random_remote_path("report.txt")
    ctx.file_access.put_data(draft, remote)
    back = os.path.join(ctx.file_access.get_random_local_directory(), "copy.txt")
    ctx.file_access.get_data(remote, back)
    return FlyteFile(back)


@task
def count_lines(report: FlyteFile) -> int:
    with open(report) as handle:
        return len(handle.read().splitlines())


@task
def same_params() -> bool:
    return FlyteContextManager.current_context().user_space_params is current_context()


@task
def open_store() -> str:
    print("store opened")
    return "open"


@task
def close_store() -> str:
    print("store closed")
    return "closed"


def around(before, after):
    """Run `before` ahead of the workflow's first node and `after` behind its last one."""

    def decorate(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            ctx = FlyteContextManager.current_context()
            first = create_node(before)
            result = fn(*args, **kwargs)
            last = create_node(after)
            state = ctx.compilation_state
            if state is not None:
                first >> state.nodes[1]
                state.nodes[-2] >> last
            return result

        return wrapper

    return decorate


@workflow
@around(open_store, close_store)
def report_flow(lines: list[str]) -> int:
    report = write_report(lines=lines)
    return count_lines(report=report)
