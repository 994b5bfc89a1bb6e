"""Confluence on AWS Batch: deploy job definitions, run the workflow, follow it.

- :mod:`.config`   the deployment file (TOML or YAML) and AWS clients, AWS errors as one line
- :mod:`.deploy`   images to ECR, one Batch job definition per workflow image (idempotent)
- :mod:`.submit`   ``confluence run --batch``: phased submission, array chunks, dependencies, waiting
- :mod:`.records`  the run record (local file and S3 object) that ``status`` and ``--resume`` read
- :mod:`.logs`     CloudWatch log streams of jobs
- :mod:`.commands` the Click commands (``deploy``, ``status``, ``logs``, ``renew``, ``run --batch``)

boto3 and the docker SDK are imported lazily, so the local engines never need them.
"""
