"""Hyperparameter search for every task: ``seqtool run TASK tune`` and :func:`seqtool.tune`.

Each trial trains through :func:`seqtool.pipeline.train`, the code ``train`` runs, scored on the
task's own validation split; Optuna samples the settings, prunes hopeless trials from their
per-epoch scores and keeps the study. Importing this package imports neither torch nor Optuna:
:mod:`seqtool.tuning.command` only declares the command.
"""
