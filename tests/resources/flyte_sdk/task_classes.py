"""Task types of one's own: classes that subclass PythonTask and define execute()."""

from dataclasses import dataclass

from plait import TaskMetadata, kwtypes, workflow
from plait.extend import Interface, PythonInstanceTask, PythonTask


@dataclass
class Greeting:
    salutation: str
    punctuation: str = "!"


class GreeterTask(PythonTask[Greeting]):
    """Greets whoever it is given, in the style of its config."""

    def __init__(self, name: str, config: Greeting, **kwargs):
        super().__init__(
            task_type="greeter",
            name=name,
            task_config=config,
            interface=Interface(inputs=kwtypes(who=str), outputs=kwtypes(greeting=str)),
            **kwargs,
        )

    def execute(self, **kwargs) -> str:
        return f"{self.task_config.salutation}, {kwargs['who']}{self.task_config.punctuation}"


class MeasureTask(PythonInstanceTask):
    """Two outputs, an input with a default, and retries through metadata."""

    calls = 0

    def __init__(self, name: str, **kwargs):
        super().__init__(
            name=name,
            interface=Interface(inputs={"text": str, "unit": (int, 1)}, outputs={"words": int, "chars": int}),
            metadata=TaskMetadata(retries=2),
            **kwargs,
        )

    def execute(self, text: str, unit: int) -> tuple[int, int]:
        return len(text.split()) * unit, len(text) * unit


hello = GreeterTask(name="hello", config=Greeting("Hello"))
shout = GreeterTask(name="shout", config=Greeting("HEY", "!!!"), environment={"LOUD": "1"})
measure = MeasureTask(name="measure")


@workflow
def greet_and_measure(who: str = "world") -> tuple[str, int, int]:
    greeting = hello(who=who)
    words, chars = measure(text=greeting)
    return greeting, words, chars
