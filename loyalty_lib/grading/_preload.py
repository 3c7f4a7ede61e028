"""Imported once by the grading pool's forkserver (``run_each(preload=...)``): the modules every
grading worker needs, so each forked worker starts with them instead of importing them itself."""

from loyalty_lib._pool import skip_iri_grammar

skip_iri_grammar()  # before nbformat pulls in jsonschema (see skip_iri_grammar)

import nbconvert.preprocessors  # noqa: E402,F401
import nbformat  # noqa: E402,F401
import nbgrader.converters  # noqa: E402,F401
import nbgrader.preprocessors  # noqa: E402,F401
from jupyter_client.manager import AsyncKernelManager  # noqa: E402,F401

from loyalty_lib.grading import autograde, sandbox  # noqa: E402
from loyalty_lib.grading._nbgrader import _prepare_nbgrader  # noqa: E402

_prepare_nbgrader()  # venv on PATH, alembic's head revision answered in-process
autograde._preprocessor_classes()
sandbox.kernel_manager_class()
