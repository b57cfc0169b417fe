"""The study: many runs into tables.

The run cache (:mod:`~bnnet.study.cache`), one run (:mod:`~bnnet.study.jobs`), many runs in
parallel or on a Dask cluster (:mod:`~bnnet.study.runs`, :mod:`~bnnet.study.cluster`),
gradient checks of many nets (:mod:`~bnnet.study.gradients`), tables and analyses of
trained nets (:mod:`~bnnet.study.analysis`), the lambda search, interval statistics,
provenance (the ledger and the report's manifest) and re-training a report's runs to check
it (:mod:`~bnnet.study.verify`). Imports :mod:`bnnet.core` and the modules beneath it, never
:mod:`bnnet.report`.
"""
