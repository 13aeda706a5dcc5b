"""The paper's collection: 62 TFDS datasets in 12 clusters, one module per cluster (`nli`,
`commonsense`, ...), `_common` for the helpers they share, and `catalog`, which imports them all
(registering every dataset in `flan_nb.tasks`) and holds the display names and the README table.
This `__init__` imports nothing, so no module of the package imports itself back through it.
"""
