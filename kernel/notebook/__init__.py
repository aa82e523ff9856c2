"""Notebook support behind `%load_ext plait`: cell parsing, DAG views, progress, remote runs.

Nothing here imports IPython or ipywidgets at module level except the view
code that needs them, which does so inside functions; `plait.notebook.magics` is the
IPython adapter, `plait.notebook.commands` reads `%plait run` and `%plait launch` lines
for it, and `plait.notebook.export` turns notebooks into modules.
"""
