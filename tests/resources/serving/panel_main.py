"""A Panel page: a slider and the square of its value, updated over the page's WebSocket."""

import panel as pn

pn.extension()

number = pn.widgets.IntSlider(name="Number", start=1, end=20, value=3)
square = pn.bind(lambda n: f"**{n} squared is {n * n}**", number)
pn.Column("# Squares", number, pn.pane.Markdown(square)).servable(title="Squares")
