"""The Jupyter kernel of the ``bnnet`` kernelspec (``make setup``): ipykernel, started after
``import bnnet`` has pinned the BLAS kernel (:mod:`bnnet.blas`), since a notebook may import
NumPy before bnnet. Unlike a fixed ``env`` in the kernelspec, this keeps a setting of the
environment JupyterLab was started in (``OPENBLAS_CORETYPE``, ``BNNET_BLAS_CORETYPE``).

Run as ``python -m bnnet.report.kernel -f {connection_file}``.
"""

from __future__ import annotations

from ipykernel.kernelapp import launch_new_instance

if __name__ == "__main__":
    launch_new_instance()
