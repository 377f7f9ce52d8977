"""analytics-tasks/edxapp_creds and edxanalytics_creds: the pipeline's MySQL credentials files.

Strict JSON with exactly host, port (a string), username and password. The pipeline reads them
from the root of the edxanalytics bucket; the secure repo keeps a copy.
"""

from ..naming import EDXANALYTICS_CREDS as EDXANALYTICS
from ..naming import EDXAPP_CREDS as EDXAPP
from .context import DbLogin, RenderContext
from .formats import dump_json

EDXAPP_NAME = f"analytics-tasks/{EDXAPP}"
EDXANALYTICS_NAME = f"analytics-tasks/{EDXANALYTICS}"


def render_login(login: DbLogin) -> str:
    return dump_json(login.as_creds())


def render_edxapp(ctx: RenderContext) -> str:
    return render_login(ctx.edxapp_ro_db)


def render_edxanalytics(ctx: RenderContext) -> str:
    return render_login(ctx.analytics_db)
