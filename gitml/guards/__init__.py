"""Guards: data and model checks declared in ``gitml.yaml`` (see docs/GUARDS.md).

Module map (nothing is imported here, so ``import gitml.guards`` stays cheap):

* ``gitml.project`` (not here) – ``gitml.yaml`` and the strict ``guards:`` schema
* ``commit``  – ``run_for_commit``: guards against a commit, baselines passed in
* ``runner``  – ``run_guards``, ``affected_guards``, ``dataset_statistics``
* ``results`` – ``RuleResult``, ``GuardReport``
* ``data``, ``checks``, ``readers``, ``stats`` – data guards (pyarrow, imported lazily)
* ``model``, ``commands`` – model guards and commands
"""
