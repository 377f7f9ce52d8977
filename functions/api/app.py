"""The deployments API (API Gateway REST, AWS_IAM): the routes live in analytics_provisioner.api."""

from aws_lambda_powertools.logging import correlation_paths

from analytics_provisioner.api import app
from analytics_provisioner.handler import logger


@logger.inject_lambda_context(log_event=False, clear_state=True, correlation_id_path=correlation_paths.API_GATEWAY_REST)
def lambda_handler(event, context):
    return app.resolve(event, context)
