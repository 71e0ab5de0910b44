"""Guards: data and model checks declared in ``gitml.yaml`` (see docs/GUARDS.md).

Module map (nothing is imported here, so ``import gitml.guards`` stays cheap):

* ``yamlnodes``  – safe YAML with line numbers; ``check_keys``/``node_error``/``expect_*``
* ``projectfile`` – the whole ``gitml.yaml`` (``load_project``/``parse_project``)
* ``spec``, ``spectypes``, ``specdata``, ``typenames`` – the ``guards:`` section, strictly
* ``runner``  – ``run_guards``, ``affected_guards``, ``dataset_statistics``
* ``results`` – ``RuleResult``, ``GuardReport``
* ``data``, ``checks``, ``readers``, ``stats`` – data guards (pyarrow, imported lazily)
* ``model``, ``commands`` – model guards and commands
"""
