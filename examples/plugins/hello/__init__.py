"""An example plugin written against FiftyOne's API; it runs unmodified on fiftyone-plugins.

- ``say_hello`` runs immediately and returns a greeting.
- ``sum_slowly`` is meant to be delegated: it reports progress while it adds numbers.
"""

import time

import fiftyone.operators as foo
from fiftyone.operators import types


class SayHello(foo.Operator):
    @property
    def config(self):
        return foo.OperatorConfig(
            name="say_hello",
            label="Say hello",
            description="Greets someone by name",
        )

    def resolve_input(self, ctx):
        inputs = types.Object()
        inputs.str("name", label="Name", required=True)
        return types.Property(inputs)

    def execute(self, ctx):
        return {"message": f"Hello, {ctx.params['name']}!"}


class SumSlowly(foo.Operator):
    @property
    def config(self):
        return foo.OperatorConfig(
            name="sum_slowly",
            label="Sum slowly",
            description="Adds numbers one at a time, reporting progress",
            allow_immediate_execution=True,
            allow_delegated_execution=True,
            default_choice_to_delegated=True,
        )

    def resolve_input(self, ctx):
        inputs = types.Object()
        inputs.list("numbers", types.Number(), label="Numbers", required=True)
        inputs.float("delay", label="Seconds per number", default=0.05, min=0, max=5)
        return types.Property(inputs)

    def execute(self, ctx):
        numbers = ctx.params["numbers"]
        delay = ctx.params.get("delay", 0.05)
        total = 0
        for i, number in enumerate(numbers, start=1):
            total += number
            ctx.set_progress(progress=i / len(numbers), label=f"{i}/{len(numbers)} added")
            time.sleep(delay)
        return {"total": total, "count": len(numbers)}

    def __call__(self, numbers, delay=0.05, delegate=False):
        return foo.execute_operator(
            self.uri,
            params=dict(numbers=numbers, delay=delay),
            request_delegation=delegate,
        )


def register(p):
    p.register(SayHello)
    p.register(SumSlowly)
