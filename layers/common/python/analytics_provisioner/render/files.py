"""Every secure-repo file but the manifest, each rendered by its own module from a ``RenderContext``."""

from . import creds, emr_vars, jenkins_env, override_cfg, pem, vars_analytics
from .context import RenderContext

FILES = {
    pem.NAME: pem.render,
    vars_analytics.NAME: vars_analytics.render,
    jenkins_env.NAME: jenkins_env.render,
    emr_vars.NAME: emr_vars.render,
    override_cfg.NAME: override_cfg.render,
    creds.EDXAPP_NAME: creds.render_edxapp,
    creds.EDXANALYTICS_NAME: creds.render_edxanalytics,
}

# Uploaded, under their bare names, to the root of the edxanalytics bucket for the pipeline.
PIPELINE_CREDS = {creds.EDXAPP_NAME: creds.EDXAPP, creds.EDXANALYTICS_NAME: creds.EDXANALYTICS}


def render_files(ctx: RenderContext) -> dict[str, str]:
    return {name: render(ctx) for name, render in FILES.items()}
