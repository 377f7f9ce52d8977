"""analytics-tasks/analytics-override.cfg: the pipeline's luigi configuration.

No inline comments: the pipeline's Python 2 ConfigParser would keep them as part of the value.
``[module-engagement] alias`` must equal the Analytics API's learner index.
"""

import json

from . import creds
from .context import EDXAPP_DATABASE, HISTORY_START, LEARNERS_INDEX, REPORTS_DATABASE, RenderContext
from .formats import dump_ini
from .releases import ES_HOSTS_JSON_URLS

NAME = "analytics-tasks/analytics-override.cfg"

TRACKING_LOG_PATTERN = r".*tracking.log-(?P<date>[0-9]+).*"
CALENDAR_END = "2050-01-01"
# A blacklist date with no blacklist file under it: no course is excluded.
BLACKLIST_DATE = "2001-01-01"
OVERWRITE_N_DAYS = "3"
VALID_RESPONSE_TYPES = ",".join([
    "customresponse", "choiceresponse", "optionresponse", "multiplechoiceresponse",
    "numericalresponse", "stringresponse", "formularesponse",
])
HADOOP_UTIL_JAR = "edx-analytics-hadoop-util.jar"
GEOIP_DATA = "GeoIP.dat"


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
        "enrollments": {
            "interval_start": HISTORY_START,
            "blacklist_date": BLACKLIST_DATE,
            "blacklist_path": f"{hadoop}/enrollments-blacklist/",
            "overwrite_n_days": OVERWRITE_N_DAYS,
        },
        "location-per-course": {"interval_start": HISTORY_START, "overwrite_n_days": OVERWRITE_N_DAYS},
        "user-activity": {"output_root": f"{hadoop}/activity/", "overwrite_n_days": OVERWRITE_N_DAYS},
        "answer-distribution": {"valid_response_types": VALID_RESPONSE_TYPES},
        "videos": {"dropoff_threshold": "0.05"},
        "geolocation": {"geolocation_data": f"s3://{ctx.buckets.edxanalytics}/{GEOIP_DATA}"},
        "calendar": {"interval": f"{HISTORY_START}-{CALENDAR_END}"},
        "elasticsearch": {"host": elasticsearch_host(ctx), "connection_type": "aws"},
        "module-engagement": {"alias": LEARNERS_INDEX, "number_of_shards": "5", "allow_empty_insert": "true"},
        "edx-rest-api": {
            "client_id": ctx.app.backend_client.client_id,
            "client_secret": ctx.app.backend_client.client_secret,
            "auth_url": f"{ctx.lms_url}/oauth2/access_token",
        },
    }
    header = f"edx-analytics-pipeline configuration of {ctx.deployment_id} ({ctx.release.openedx_release}). Holds an OAuth2 client secret."
    return dump_ini(sections, header)
