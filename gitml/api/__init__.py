"""The library API: one typed function per user operation.

One module per command group, mirroring :mod:`gitml.cli`: :mod:`~gitml.api.data`,
:mod:`~gitml.api.config`, :mod:`~gitml.api.compare`, :mod:`~gitml.api.guards`,
:mod:`~gitml.api.hooks`, :mod:`~gitml.api.registry`, :mod:`~gitml.api.remotes`,
:mod:`~gitml.api.pipelines`, :mod:`~gitml.api.experiments`,
:mod:`~gitml.api.interop`, :mod:`~gitml.api.access` (reading any version, here
or in another repository), :mod:`~gitml.api.imports` (copies and imports).
This package re-exports every public function (``from gitml import api;
api.push(...)``) lazily (PEP 562): every CLI command and hook imports
``gitml.api``, so importing it loads nothing but this file; a function's module
loads on first use. Each function opens the repository with
:func:`gitml.context.session`, calls the domain packages and returns a plain
dataclass; nothing prints. Nothing below this package imports it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

_LAZY: dict[str, str] = {
    **dict.fromkeys(
        ["get_url", "load_model", "ls", "metrics", "open", "params", "read"],
        "gitml.api.access",
    ),
    **dict.fromkeys(
        ["ImportState", "get", "import_data", "import_status", "update"],
        "gitml.api.imports",
    ),
    **dict.fromkeys(
        [
            "add",
            "checkout",
            "diff",
            "du",
            "init",
            "remove",
            "status",
        ],
        "gitml.api.data",
    ),
    **dict.fromkeys(
        [
            "diff_rows",
            "metrics_diff",
            "metrics_show",
            "params_diff",
            "report",
            "review",
        ],
        "gitml.api.compare",
    ),
    **dict.fromkeys(
        [
            "exp_apply",
            "exp_branch",
            "exp_diff",
            "exp_pull",
            "exp_push",
            "exp_queue",
            "exp_remove",
            "exp_run",
            "exp_run_all",
            "exp_show",
        ],
        "gitml.api.experiments",
    ),
    **dict.fromkeys(
        [
            "config_get",
            "config_list",
            "config_set",
            "config_unset",
        ],
        "gitml.api.config",
    ),
    **dict.fromkeys(
        [
            "guard_run",
            "log",
            "show",
        ],
        "gitml.api.guards",
    ),
    **dict.fromkeys(
        [
            "hooks_install",
            "hooks_status",
            "hooks_uninstall",
            "post_commit",
            "pre_commit",
            "push_for_hook",
            "sync_after",
        ],
        "gitml.api.hooks",
    ),
    **dict.fromkeys(
        [
            "demote",
            "deprecate",
            "model_checkout",
            "model_path",
            "model_show",
            "models",
            "promote",
            "register",
        ],
        "gitml.api.registry",
    ),
    **dict.fromkeys(
        [
            "fetch",
            "fsck",
            "gc",
            "pull",
            "push",
            "remote_add",
            "remote_list",
            "remote_remove",
            "remote_status",
            "merge_driver",
            "remote_default",
            "remote_modify",
            "remote_rename",
            "resolve_conflict",
        ],
        "gitml.api.remotes",
    ),
    **dict.fromkeys(
        [
            "dag",
            "monitor",
            "pipeline",
            "repro",
        ],
        "gitml.api.pipelines",
    ),
    **dict.fromkeys(
        [
            "import_dvc",
        ],
        "gitml.api.interop",
    ),
    "AddResult": "gitml.workspace.add",
    "Copied": "gitml.access.copying",
    "Imported": "gitml.access.imports",
    "Listing": "gitml.access.listing",
    "CheckoutResult": "gitml.workspace.checkout",
    "DiffResult": "gitml.workspace.diff",
    "InitResult": "gitml.workspace.init",
    "PathStatus": "gitml.workspace.status",
}
__all__ = sorted(_LAZY)

if TYPE_CHECKING:
    from gitml.access.copying import Copied as Copied
    from gitml.access.imports import Imported as Imported
    from gitml.access.listing import Listing as Listing
    from gitml.api.access import get_url as get_url
    from gitml.api.access import load_model as load_model
    from gitml.api.access import ls as ls
    from gitml.api.access import metrics as metrics
    from gitml.api.access import open as open
    from gitml.api.access import params as params
    from gitml.api.access import read as read
    from gitml.api.compare import diff_rows as diff_rows
    from gitml.api.compare import metrics_diff as metrics_diff
    from gitml.api.compare import metrics_show as metrics_show
    from gitml.api.compare import params_diff as params_diff
    from gitml.api.compare import report as report
    from gitml.api.compare import review as review
    from gitml.api.config import config_get as config_get
    from gitml.api.config import config_list as config_list
    from gitml.api.config import config_set as config_set
    from gitml.api.config import config_unset as config_unset
    from gitml.api.data import add as add
    from gitml.api.data import checkout as checkout
    from gitml.api.data import diff as diff
    from gitml.api.data import du as du
    from gitml.api.data import init as init
    from gitml.api.data import remove as remove
    from gitml.api.data import status as status
    from gitml.api.experiments import exp_apply as exp_apply
    from gitml.api.experiments import exp_branch as exp_branch
    from gitml.api.experiments import exp_diff as exp_diff
    from gitml.api.experiments import exp_pull as exp_pull
    from gitml.api.experiments import exp_push as exp_push
    from gitml.api.experiments import exp_queue as exp_queue
    from gitml.api.experiments import exp_remove as exp_remove
    from gitml.api.experiments import exp_run as exp_run
    from gitml.api.experiments import exp_run_all as exp_run_all
    from gitml.api.experiments import exp_show as exp_show
    from gitml.api.guards import guard_run as guard_run
    from gitml.api.guards import log as log
    from gitml.api.guards import show as show
    from gitml.api.hooks import hooks_install as hooks_install
    from gitml.api.hooks import hooks_status as hooks_status
    from gitml.api.hooks import hooks_uninstall as hooks_uninstall
    from gitml.api.hooks import post_commit as post_commit
    from gitml.api.hooks import pre_commit as pre_commit
    from gitml.api.hooks import push_for_hook as push_for_hook
    from gitml.api.hooks import sync_after as sync_after
    from gitml.api.imports import ImportState as ImportState
    from gitml.api.imports import get as get
    from gitml.api.imports import import_data as import_data
    from gitml.api.imports import import_status as import_status
    from gitml.api.imports import update as update
    from gitml.api.interop import import_dvc as import_dvc
    from gitml.api.pipelines import dag as dag
    from gitml.api.pipelines import monitor as monitor
    from gitml.api.pipelines import pipeline as pipeline
    from gitml.api.pipelines import repro as repro
    from gitml.api.registry import demote as demote
    from gitml.api.registry import deprecate as deprecate
    from gitml.api.registry import model_checkout as model_checkout
    from gitml.api.registry import model_path as model_path
    from gitml.api.registry import model_show as model_show
    from gitml.api.registry import models as models
    from gitml.api.registry import promote as promote
    from gitml.api.registry import register as register
    from gitml.api.remotes import fetch as fetch
    from gitml.api.remotes import fsck as fsck
    from gitml.api.remotes import gc as gc
    from gitml.api.remotes import merge_driver as merge_driver
    from gitml.api.remotes import pull as pull
    from gitml.api.remotes import push as push
    from gitml.api.remotes import remote_add as remote_add
    from gitml.api.remotes import remote_default as remote_default
    from gitml.api.remotes import remote_list as remote_list
    from gitml.api.remotes import remote_modify as remote_modify
    from gitml.api.remotes import remote_remove as remote_remove
    from gitml.api.remotes import remote_rename as remote_rename
    from gitml.api.remotes import remote_status as remote_status
    from gitml.api.remotes import resolve_conflict as resolve_conflict
    from gitml.workspace.add import AddResult as AddResult
    from gitml.workspace.checkout import CheckoutResult as CheckoutResult
    from gitml.workspace.diff import DiffResult as DiffResult
    from gitml.workspace.init import InitResult as InitResult
    from gitml.workspace.status import PathStatus as PathStatus
else:

    def __getattr__(name: str) -> Any:
        module = _LAZY.get(name)
        if module is None:
            raise AttributeError(f"module 'gitml.api' has no attribute {name!r}")
        import importlib

        return getattr(importlib.import_module(module), name)
