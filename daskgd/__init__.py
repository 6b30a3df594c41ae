"""daskgd: scikit-learn-compatible linear models trained by distributed gradient methods on dask.

The estimators (``LinearRegression``, ``Ridge``, ``LogisticRegression``) use the active
``distributed.Client``; each fit maps loss and gradient computations over the row chunks on
the workers and takes its steps on the driver.
"""

from daskgd._version import __version__
from daskgd.linear_model import LinearRegression, LogisticRegression, Ridge

__all__ = ["LinearRegression", "LogisticRegression", "Ridge", "__version__"]
