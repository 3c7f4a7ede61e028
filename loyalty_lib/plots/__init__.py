"""Plot helpers, one module per topic, re-exported here.

Every helper takes the output of its topic module plus ``ax=None`` (a new figure when omitted),
draws on that Axes only, labels units, and returns the Axes. Use ``plots.<name>(...)`` in lessons;
``plots.nps.nps_trend`` etc. also work.
"""

from loyalty_lib.plots import evaluation, ltv, nps, overview, program, segments
from loyalty_lib.plots.evaluation import *  # noqa: F403
from loyalty_lib.plots.ltv import *  # noqa: F403
from loyalty_lib.plots.nps import *  # noqa: F403
from loyalty_lib.plots.overview import *  # noqa: F403
from loyalty_lib.plots.program import *  # noqa: F403
from loyalty_lib.plots.segments import *  # noqa: F403

__all__ = sorted(
    {
        name
        for module in (evaluation, ltv, nps, overview, program, segments)
        for name in module.__all__
    }
)
