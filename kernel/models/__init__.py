"""The literal classes where Flyte programs import them (`flytekit.models.literals`, `.types`, `.core.types`).

They are defined in `plait.typesys.literal_models`; plait's own specs live in
`plait.model`.
"""
