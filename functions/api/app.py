"""The deployments API (API Gateway REST, AWS_IAM): the routes live in analytics_provisioner.api."""

from analytics_provisioner.api import app
from analytics_provisioner.handler import API_GATEWAY_REQUEST_ID, logger


@logger.inject_lambda_context(log_event=False, clear_state=True, correlation_id_path=API_GATEWAY_REQUEST_ID)
def lambda_handler(event, context):
    return app.resolve(event, context)
