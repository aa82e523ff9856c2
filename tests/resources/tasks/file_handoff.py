"""Files and directories handed from one task to the next."""

import os
from typing import NamedTuple

import plait as union


class Report(NamedTuple):
    report: union.FlyteFile
    scratch: str


class Bundle(NamedTuple):
    folder: union.FlyteDirectory
    scratch: str


@union.task
def write_report(lines: list[str]) -> Report:
    scratch = union.current_context().working_directory
    path = os.path.join(scratch, "report.txt")
    with open(path, "w") as fh:
        fh.write("\n".join(lines))
    return Report(report=union.FlyteFile(path), scratch=scratch)


@union.task
def count_report_lines(report: union.FlyteFile) -> int:
    with open(report) as fh:
        return len(fh.read().splitlines())


@union.workflow
def report_pipeline(lines: list[str]) -> tuple[int, union.FlyteFile, str]:
    report, scratch = write_report(lines=lines)
    return count_report_lines(report=report), report, scratch


@union.task
def write_bundle(names: list[str]) -> Bundle:
    scratch = union.current_context().working_directory
    folder = os.path.join(scratch, "bundle")
    os.makedirs(folder)
    for name in names:
        with open(os.path.join(folder, f"{name}.txt"), "w") as fh:
            fh.write(name.upper())
    return Bundle(folder=union.FlyteDirectory(folder), scratch=scratch)


@union.task
def read_bundle(folder: union.FlyteDirectory) -> list[str]:
    contents = []
    for path in sorted(os.listdir(folder)):
        with open(os.path.join(folder, path)) as fh:
            contents.append(fh.read())
    return contents


@union.workflow
def bundle_pipeline(names: list[str]) -> tuple[list[str], union.FlyteDirectory, str]:
    folder, scratch = write_bundle(names=names)
    return read_bundle(folder=folder), folder, scratch
