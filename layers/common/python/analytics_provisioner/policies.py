"""The IAM documents the Identity phase writes: trust policies and the runbook's three policies.

Pure functions of ARNs, so tests read every statement. The runbook pastes its policies with
``"Resource": "*"``; a ``*`` resource stays only where the runbook asks for the action and AWS
offers no narrower resource for it, and each such place says so.
"""

VERSION = "2012-10-17"

EC2_SERVICE = "ec2.amazonaws.com"
EMR_SERVICE = "elasticmapreduce.amazonaws.com"

# What `aws emr create-default-roles` attaches to the two EMR default roles.
EMR_SERVICE_MANAGED_POLICY = "service-role/AmazonElasticMapReduceRole"
EMR_EC2_MANAGED_POLICY = "service-role/AmazonElasticMapReduceforEC2Role"


def aws_managed_policy_arn(partition: str, name: str) -> str:
    return f"arn:{partition}:iam::aws:policy/{name}"


def es_domain_arn(partition: str, region: str, account: str, domain: str) -> str:
    return f"arn:{partition}:es:{region}:{account}:domain/{domain}"


def bucket_arn(partition: str, bucket: str) -> str:
    return f"arn:{partition}:s3:::{bucket}"


def trust(service: str) -> dict:
    """Let ``service`` assume the role, and nothing else."""
    return {
        "Version": VERSION,
        "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
    }


def emr_provisioning(emr_service_role_arn: str, emr_ec2_role_arn: str) -> dict:
    """The runbook's ``provision_emr_clusters``: Jenkins on the analytics instance starts and ends
    EMR clusters and looks up hosts and databases.

    The runbook allows ``iam:PassRole`` on ``*``, which lets the instance hand any role in the
    account to any service. RunJobFlow passes exactly two roles: the EMR service role to EMR and
    the deployment's own EMR instance role (through its profile) to EC2, so each is allowed only
    to that service, as in AWS's own EMR full-access policy: one deployment's Jenkins cannot start
    clusters with another deployment's instance role. The analytics role itself is never passed by
    anything on the instance, so it is not listed.
    """
    return {
        "Version": VERSION,
        "Statement": [
            # Cluster ids are unknown before RunJobFlow creates them: EMR needs "*" here.
            {"Sid": "ManageEmrClusters", "Effect": "Allow", "Action": "elasticmapreduce:*", "Resource": "*"},
            {
                "Sid": "PassEmrServiceRole",
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": emr_service_role_arn,
                "Condition": {"StringLike": {"iam:PassedToService": f"{EMR_SERVICE}*"}},
            },
            {
                "Sid": "PassEmrInstanceRole",
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": emr_ec2_role_arn,
                "Condition": {"StringLike": {"iam:PassedToService": f"{EC2_SERVICE}*"}},
            },
            # The List/Describe calls take no resource-level permissions: "*" is the only resource.
            {
                "Sid": "LookUpHostsAndDatabases",
                "Effect": "Allow",
                "Action": ["route53:Get*", "route53:List*", "ec2:DescribeInstances", "rds:DescribeDBInstances"],
                "Resource": "*",
            },
        ],
    }


def es_write(domain_arn: str) -> dict:
    """The runbook's ``elasticsearch_all`` (``es:*``) for the deployment's EMR instance role, on the
    deployment's own domain only."""
    return {
        "Version": VERSION,
        "Statement": [{"Sid": "WriteLearnerIndex", "Effect": "Allow", "Action": "es:*", "Resource": [domain_arn, f"{domain_arn}/*"]}],
    }


def emr_instance(partition: str, region: str, own_buckets: list[str], tracking_logs_bucket: str) -> dict:
    """What the deployment's EMR cluster instances may do besides writing its search domain
    (``es_write``), instead of AWS's ``AmazonElasticMapReduceforEC2Role``, whose ``s3:*`` on ``*``
    let any deployment's cluster read every other deployment's buckets, creds files included.

    The pipeline reads and writes the deployment's own buckets (warehouse, manifests, markers, the
    creds files, EMR logs, reports), reads the tracking logs, and EMR's steps fetch the
    script-runner from the region's ``elasticmapreduce`` bucket; EMR's agents on the instances
    describe their own cluster.
    """
    own = [bucket_arn(partition, bucket) for bucket in own_buckets]
    tracking = bucket_arn(partition, tracking_logs_bucket)
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Sid": "ListOwnBucketsAndTrackingLogs",
                "Effect": "Allow",
                "Action": ["s3:ListBucket", "s3:GetBucketLocation", "s3:ListBucketMultipartUploads"],
                "Resource": [*own, tracking],
            },
            {
                "Sid": "ReadWriteOwnBuckets",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
                "Resource": [f"{arn}/*" for arn in own],
            },
            {"Sid": "ReadTrackingLogs", "Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{tracking}/*"},
            {
                "Sid": "ReadEmrScriptRunner",
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": f"{bucket_arn(partition, f'{region}.elasticmapreduce')}/libs/*",
            },
            # What EMR's on-instance agents call (AmazonElasticMapReduceforEC2Role's EMR and EC2 reads):
            # List* and Describe* of EC2 take no resource-level permissions, and the cluster ids are not
            # known before the playbook creates them.
            {
                "Sid": "DescribeOwnCluster",
                "Effect": "Allow",
                "Action": [
                    "elasticmapreduce:DescribeCluster",
                    "elasticmapreduce:DescribeStep",
                    "elasticmapreduce:ListBootstrapActions",
                    "elasticmapreduce:ListClusters",
                    "elasticmapreduce:ListInstanceGroups",
                    "elasticmapreduce:ListInstances",
                    "elasticmapreduce:ListSteps",
                    "ec2:DescribeInstances",
                    "ec2:DescribeTags",
                ],
                "Resource": "*",
            },
        ],
    }


def reports_read(reports_bucket_arn: str) -> dict:
    """The runbook's ``s3-read-analytics-reports``: both the bucket (listing) and its objects."""
    return {
        "Version": VERSION,
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["s3:Get*", "s3:List*"],
                "Resource": [reports_bucket_arn, f"{reports_bucket_arn}/*"],
            }
        ],
    }
