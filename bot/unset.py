"""The one "leave this as it is" marker for optional arguments of update methods.

`None` is a value a member may set ("clear the log channel"), so "not given" needs its own marker.
"""

from typing import Any

UNSET: Any = object()
