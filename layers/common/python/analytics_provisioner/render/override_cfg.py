"""analytics-tasks/analytics-override.cfg: the pipeline's luigi configuration.

No inline comments: the pipeline's Python 2 ConfigParser would keep them as part of the value.
``[module-engagement] alias`` must equal the Analytics API's learner index. Every key is one the
pipeline at the release's branch reads (tests/consumers check it against the upstream facts).
"""

import json

from . import creds
from .context import EDXAPP_DATABASE, HISTORY_START, LEARNERS_INDEX, REPORTS_DATABASE, RenderContext
from .formats import dump_ini
from .releases import ES_HOSTS_JSON_URLS

NAME = "analytics-tasks/analytics-override.cfg"

TRACKING_LOG_PATTERN = r".*tracking.log-(?P<date>[0-9]+).*"
CALENDAR_END = "2050-01-01"
OVERWRITE_N_DAYS = "3"
VALID_RESPONSE_TYPES = ",".join(
    [
        "customresponse",
        "choiceresponse",
        "optionresponse",
        "multiplechoiceresponse",
        "numericalresponse",
        "stringresponse",
        "formularesponse",
    ]
)
HADOOP_UTIL_JAR = "edx-analytics-hadoop-util.jar"
GEOIP_DATA = "GeoIP.dat"


def report_output_root(ctx: RenderContext) -> str:
    return f"s3://{ctx.buckets.reports}/"


def elasticsearch_host(ctx: RenderContext) -> str:
    if ctx.release.es_host_format == ES_HOSTS_JSON_URLS:
        return json.dumps([ctx.es_url])
    return ctx.es_endpoint


def render(ctx: RenderContext) -> str:
    hadoop = f"s3://{ctx.buckets.hadoop}"
    warehouse = f"{hadoop}/warehouse/hive/"
    sections = {
        "database-export": {"database": REPORTS_DATABASE, "credentials": ctx.creds_uri(creds.EDXANALYTICS)},
        "database-import": {"database": EDXAPP_DATABASE, "destination": warehouse, "credentials": ctx.creds_uri(creds.EDXAPP)},
        "event-logs": {
            "expand_interval": "30 days",
            "pattern": json.dumps([TRACKING_LOG_PATTERN]),
            "source": json.dumps([f"s3://{ctx.buckets.tracking_logs}/logs/tracking/"]),
        },
        "hive": {"warehouse_path": warehouse},
        "manifest": {
            "path": f"{hadoop}/map-reduce/manifests/",
            "lib_jar": f"s3://{ctx.buckets.emr}/{HADOOP_UTIL_JAR}",
            "input_format": "org.edx.hadoop.input.ManifestTextInputFormat",
        },
        "map-reduce": {"marker": f"{hadoop}/map-reduce/marker/"},
        "enrollments": {"interval_start": HISTORY_START, "overwrite_n_days": OVERWRITE_N_DAYS},
        "location-per-course": {"interval_start": HISTORY_START, "overwrite_n_days": OVERWRITE_N_DAYS},
        "user-activity": {"overwrite_n_days": OVERWRITE_N_DAYS},
        "answer-distribution": {"valid_response_types": VALID_RESPONSE_TYPES},
        "videos": {"dropoff_threshold": "0.05"},
        "geolocation": {"geolocation_data": f"s3://{ctx.buckets.edxanalytics}/{GEOIP_DATA}"},
        "calendar": {"interval": f"{HISTORY_START}-{CALENDAR_END}"},
        "elasticsearch": {"host": elasticsearch_host(ctx), "connection_type": "aws"},
        "module-engagement": {"alias": LEARNERS_INDEX, "number_of_shards": "5", "allow_empty_insert": "true"},
        "edx-rest-api": {
            "client_id": ctx.app.backend_client.client_id,
            "client_secret": ctx.app.backend_client.client_secret,
            "auth_url": f"{ctx.lms_url}/oauth2/access_token/",
        },
        # PullCourseListApiData and PullCourseBlocksApiData (ProblemResponseReportWorkflow's inputs) have no default.
        "course-list": {"api_root_url": f"{ctx.lms_url}/api/courses/v1/courses/"},
        "course-blocks": {"api_root_url": f"{ctx.lms_url}/api/courses/v1/blocks/"},
    }
    if ctx.reports_enabled:
        # ProblemResponseReportWorkflow's output_root has no default; the Analytics API hands out links to
        # <bucket>/<COURSE_REPORT_FILE_LOCATION_TEMPLATE>, the root of the reports bucket.
        sections["problem-response"] = {"report_output_root": report_output_root(ctx)}
    header = (
        f"edx-analytics-pipeline configuration of {ctx.deployment_id}, for the pipeline at {ctx.pipeline.tasks_branch}. "
        "Holds an OAuth2 client secret."
    )
    return dump_ini(sections, header)
