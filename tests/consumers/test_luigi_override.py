"""The pipeline's config parser (luigi's) reads analytics-override.cfg; luigi's parameters parse the values."""

import json
import re

import luigi
import pytest
from luigi.configuration import LuigiConfigParser

from upstream import ES_HOST_IS_LIST, PIPELINE_READS, RELEASES, REPORTS_REQUIRED, branch

SECTIONS = {
    "database-export": {"database", "credentials"},
    "database-import": {"database", "destination", "credentials"},
    "event-logs": {"expand_interval", "pattern", "source"},
    "hive": {"warehouse_path"},
    "manifest": {"path", "lib_jar", "input_format"},
    "map-reduce": {"marker"},
    "enrollments": {"interval_start", "overwrite_n_days"},
    "location-per-course": {"interval_start", "overwrite_n_days"},
    "user-activity": {"overwrite_n_days"},
    "answer-distribution": {"valid_response_types"},
    "videos": {"dropoff_threshold"},
    "geolocation": {"geolocation_data"},
    "calendar": {"interval"},
    "elasticsearch": {"host", "connection_type"},
    "module-engagement": {"alias", "number_of_shards", "allow_empty_insert"},
    "edx-rest-api": {"client_id", "client_secret", "auth_url"},
    "course-list": {"api_root_url"},
    "course-blocks": {"api_root_url"},
    "problem-response": {"report_output_root"},
}


def read(path) -> LuigiConfigParser:
    parser = LuigiConfigParser()
    assert parser.read([str(path)]) == [str(path)]
    return parser


def options(parser) -> set[tuple[str, str]]:
    return {(section, option) for section in parser.sections() for option in parser.options(section)}


@pytest.mark.parametrize("release", RELEASES)
def test_every_option_is_one_the_pipeline_reads_and_reports_have_theirs(render_repo, release):
    repo = render_repo(branch(release))
    written = options(read(repo.path("analytics-tasks/analytics-override.cfg")))
    assert written <= PIPELINE_READS, written - PIPELINE_READS
    assert written >= REPORTS_REQUIRED


def test_without_reports_there_is_no_report_output(render_repo, tmp_path):
    from secure_repo import write_repo

    repo = render_repo()
    ctx = repo.ctx._replace(reports_key=None, buckets=repo.ctx.buckets._replace(reports=None))
    parser = read(write_repo(ctx, tmp_path / "no-reports").path("analytics-tasks/analytics-override.cfg"))
    assert "problem-response" not in parser.sections() and parser.get("course-list", "api_root_url")


def test_luigi_reads_every_section_and_value(render_repo):
    repo = render_repo()
    ctx, parser = repo.ctx, read(repo.path("analytics-tasks/analytics-override.cfg"))
    assert {section: set(parser.options(section)) for section in parser.sections()} == SECTIONS
    edxanalytics = f"s3://{ctx.buckets.edxanalytics}"
    assert parser.get("database-export", "credentials") == f"{edxanalytics}/edxanalytics_creds"
    assert parser.get("database-import", "credentials") == f"{edxanalytics}/edxapp_creds"
    assert parser.get("database-export", "database") == "reports" and parser.get("database-import", "database") == "edxapp"
    assert parser.get("geolocation", "geolocation_data") == f"{edxanalytics}/GeoIP.dat"
    assert parser.get("module-engagement", "alias") == "roster_1_2"
    assert parser.get("edx-rest-api", "client_secret") == ctx.app.backend_client_secret
    assert parser.get("edx-rest-api", "auth_url") == f"{ctx.lms_url}/oauth2/access_token/"
    assert parser.get("course-list", "api_root_url") == f"{ctx.lms_url}/api/courses/v1/courses/"
    assert parser.get("course-blocks", "api_root_url") == f"{ctx.lms_url}/api/courses/v1/blocks/"
    assert parser.get("problem-response", "report_output_root") == f"s3://{ctx.buckets.reports}/"


def test_luigi_parameters_parse_the_values(render_repo):
    parser = read(render_repo().path("analytics-tasks/analytics-override.cfg"))
    interval = luigi.DateIntervalParameter().parse(parser.get("calendar", "interval"))
    assert str(interval.date_a) == parser.get("enrollments", "interval_start") and interval.date_b.year == 2050
    assert luigi.TimeDeltaParameter().parse(parser.get("event-logs", "expand_interval")).days == 30
    assert luigi.IntParameter().parse(parser.get("enrollments", "overwrite_n_days")) == 3
    assert luigi.BoolParameter().parse(parser.get("module-engagement", "allow_empty_insert")) is True
    assert luigi.FloatParameter().parse(parser.get("videos", "dropoff_threshold")) == 0.05
    (pattern,) = luigi.ListParameter().parse(parser.get("event-logs", "pattern"))
    assert re.match(pattern, "logs/tracking/tracking.log-20240131-1706745601.gz").group("date") == "20240131"
    (source,) = luigi.ListParameter().parse(parser.get("event-logs", "source"))
    assert source.startswith("s3://") and source.endswith("/logs/tracking/")


@pytest.mark.parametrize("release", RELEASES)
def test_elasticsearch_host_is_what_the_releases_pipeline_parameter_takes(render_repo, release):
    """Up to lilac a luigi.ListParameter of URLs (elasticsearch-py picks scheme and port from each); from maple a
    luigi.Parameter holding the host name, to which the pipeline adds port 443 itself."""
    repo = render_repo(branch(release))
    value = read(repo.path("analytics-tasks/analytics-override.cfg")).get("elasticsearch", "host")
    if ES_HOST_IS_LIST[release]:
        assert list(luigi.ListParameter().parse(value)) == [f"https://{repo.ctx.es_endpoint}"]
    else:
        assert luigi.Parameter().parse(value) == repo.ctx.es_endpoint and "/" not in value and ":" not in value


def test_no_inline_comment_reaches_the_pipeline(render_repo):
    """The pipeline's Python 2 ConfigParser keeps '# ...' after a value: only whole-line comments."""
    text = render_repo().path("analytics-tasks/analytics-override.cfg").read_text()
    for line in text.splitlines():
        if " = " in line:
            assert " #" not in line and " ;" not in line, line


def test_every_value_reads_back_raw_as_rendered(render_repo):
    """No value needs luigi's interpolation to mean what it says (the pipeline's older parser has none)."""
    parser = read(render_repo().path("analytics-tasks/analytics-override.cfg"))
    for section in parser.sections():
        for option in parser.options(section):
            assert parser.get(section, option) == parser.get(section, option, raw=True)
    json.loads(parser.get("event-logs", "source"))
